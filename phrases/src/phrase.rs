//! The Korean phrases people type to the bot ("매일 오전 9시 콘텐츠 아이디어 뽑아줘"), turned into
//! a cron expression in Asia/Seoul and the rest of the message (the task itself).
//!
//! The schedule comes first; what follows is the task. Understood forms:
//!
//! | phrase                                   | cron            |
//! | ---------------------------------------- | --------------- |
//! | 매일 오전 9시 · 매일 09:00 · 매일 아침 9시 | `0 9 * * *`     |
//! | 매일 오후 6시 30분 · 매일 18:30 · 매일 18시 반 | `30 18 * * *` |
//! | 매일 자정 · 매일 정오                      | `0 0 * * *` · `0 12 * * *` |
//! | 매주 일요일 자정 (일요일 0시)              | `0 0 * * 0`     |
//! | 매주 월요일 오전 10시 · 월요일마다 오전 10시 | `0 10 * * 1`  |
//! | 평일 오전 9시 · 주말 오전 10시             | `0 9 * * 1-5` · `0 10 * * 0,6` |
//! | 30분마다 · 매 5분                          | `*/30 * * * *` · `*/5 * * * *` |
//! | 매시간 · 매시 30분 · 2시간마다             | `0 * * * *` · `30 * * * *` · `0 */2 * * *` |
//!
//! A phrase that names days but no time ("매주 일요일 시스템 진화") takes the time the caller
//! chooses for its task ([`parse_phrase_with`]; the bot uses the routine job's own time) and
//! says so in [`PhraseMatch::time_chosen`]; [`parse_phrase`] chooses none and refuses it.
//!
//! Anything else is refused with a message in Korean and English — never guessed: an hour
//! without 오전/오후 that could be either ("매일 9시"), an hour that does not exist ("오후 13시",
//! "25시"), an interval cron cannot repeat evenly ("45분마다", "61분마다"), two times in one
//! message, or a schedule whose end cannot be told from the task ("매일 오전 9시쯤").

use std::fmt;

use chrono_tz::Tz;

use crate::{PhraseError, Result};

/// A phrase understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhraseMatch {
    /// The cron expression (5 fields), read in `tz`.
    pub cron: String,
    /// Always Asia/Seoul: the phrases are Korean wall-clock times.
    pub tz: Tz,
    /// The schedule in canonical Korean ("매일 오전 9시"), for the bot's confirmation.
    pub description_ko: String,
    /// The rest of the message: the task itself (may be empty).
    pub rest: String,
    /// The phrase named days but no time, and the caller's default time was taken.
    pub time_chosen: bool,
}

/// Parse a message that starts with a schedule phrase; a phrase without a time is refused.
pub fn parse_phrase(text: &str) -> Result<PhraseMatch> {
    parse_phrase_with(text, |_| None)
}

/// Parse a message that starts with a schedule phrase. When the phrase names days but no time
/// ("매주 일요일 시스템 진화"), `default_time` is asked with the task text for an (hour, minute);
/// `None` refuses the phrase as [`parse_phrase`] does.
pub fn parse_phrase_with(
    text: &str,
    default_time: impl FnOnce(&str) -> Option<(u32, u32)>,
) -> Result<PhraseMatch> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(refuse(
            "일정이 비어 있습니다. 예: \"매일 오전 9시\", \"30분마다\"",
            "empty schedule phrase (write it like 매일 오전 9시 or 30분마다)",
        ));
    }
    let mut c = Cursor::new(trimmed);
    let when = parse_when(&mut c)?.ok_or_else(|| {
        refuse(
            format!("알아듣지 못한 일정입니다: \"{}\". 예: \"매일 오전 9시\", \"매주 일요일 자정\", \"30분마다\"", head(trimmed)),
            format!("unrecognised schedule phrase={:?} (write it like 매일 오전 9시, 매주 일요일 자정 or 30분마다)", head(trimmed)),
        )
    })?;
    c.eat_any_tight(&["에는", "에", "마다"]);
    if c.rest().chars().next().is_some_and(char::is_alphanumeric) {
        let consumed = trimmed[..c.pos].trim();
        return Err(refuse(
            format!(
                "일정이 어디서 끝나는지 알 수 없습니다: \"{}\" 뒤에 띄어 쓰거나 쉼표를 넣어 주세요",
                consumed
            ),
            format!(
                "cannot tell where the schedule ends after {consumed:?} (put a space or a comma after it)"
            ),
        ));
    }
    let rest = c
        .rest()
        .trim_start_matches(|ch: char| ch.is_whitespace() || ",，:;-—~".contains(ch))
        .trim_end();
    let mut again = Cursor::new(rest);
    if let Ok(Some(_)) = time_of_day(&mut again, false) {
        return Err(refuse(
            "시각이 두 번 이상 나옵니다. 일정 하나에 시각 하나만 적어 주세요",
            "more than one time in the phrase (one schedule takes one time)",
        ));
    }
    let (when, time_chosen) = match when {
        Parsed::DaysOnly(days) => {
            let (hour, minute) = default_time(rest).ok_or_else(no_time)?;
            if hour > 23 || minute > 59 {
                return Err(refuse(
                    format!("기본 시각 {hour}:{minute:02}는 없는 시각입니다"),
                    format!("the default time {hour}:{minute:02} does not exist"),
                ));
            }
            (When::At { days, hour, minute }, true)
        }
        Parsed::When(when) => (when, false),
    };
    Ok(PhraseMatch {
        cron: when.cron(),
        tz: queue_core::schedule::DEFAULT_TZ,
        description_ko: when.to_string(),
        rest: rest.to_string(),
        time_chosen,
    })
}

/// Whether a message starts like a schedule phrase (매일, 매주, 평일, 주말, 매시간, N분마다,
/// N시간마다, 요일마다) — for the ingress to decide whether to call [`parse_phrase`], whose
/// refusal then explains what is wrong.
pub fn looks_like_schedule(text: &str) -> bool {
    let mut c = Cursor::new(text.trim());
    if c.eat_any(&["매일", "매주", "매시", "평일", "주중", "주말", "날마다"])
        .is_some()
    {
        return true;
    }
    if c.eat("매") && c.number().is_some() {
        return true;
    }
    let mut c = Cursor::new(text.trim());
    if c.number().is_some() && c.eat_any(&["분", "시간", "초"]).is_some() {
        return c.eat_any(&["마다", "간격"]).is_some();
    }
    let mut c = Cursor::new(text.trim());
    weekday(&mut c).is_some() && c.eat("마다")
}

/// `오전 9시`, `오후 6시 30분`, `자정`, `정오` — Korean for a wall-clock time.
pub fn korean_time(hour: u32, minute: u32) -> String {
    let base = match (hour, minute) {
        (0, 0) => return "자정".to_string(),
        (12, 0) => return "정오".to_string(),
        (h @ 0..=11, _) => format!("오전 {h}시"),
        (12, _) => "오후 12시".to_string(),
        (h, _) => format!("오후 {}시", h - 12),
    };
    if minute == 0 {
        base
    } else {
        format!("{base} {minute}분")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Days {
    Every,
    Weekday(u32),
    Weekdays,
    Weekend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    At { days: Days, hour: u32, minute: u32 },
    EveryMinutes(u32),
    EveryHours(u32),
    Hourly { minute: u32 },
}

/// What the front of a phrase says: a full time, or days whose time the caller chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parsed {
    When(When),
    DaysOnly(Days),
}

const WEEKDAYS: [&str; 7] = [
    "일요일",
    "월요일",
    "화요일",
    "수요일",
    "목요일",
    "금요일",
    "토요일",
];

impl When {
    fn cron(&self) -> String {
        match *self {
            When::At { days, hour, minute } => {
                let dow = match days {
                    Days::Every => "*".to_string(),
                    Days::Weekday(d) => d.to_string(),
                    Days::Weekdays => "1-5".to_string(),
                    Days::Weekend => "0,6".to_string(),
                };
                format!("{minute} {hour} * * {dow}")
            }
            When::EveryMinutes(1) => "* * * * *".to_string(),
            When::EveryMinutes(n) => format!("*/{n} * * * *"),
            When::EveryHours(1) => "0 * * * *".to_string(),
            When::EveryHours(n) => format!("0 */{n} * * *"),
            When::Hourly { minute } => format!("{minute} * * * *"),
        }
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            When::At { days, hour, minute } => {
                write!(f, "{} {}", days_text(days), korean_time(hour, minute))
            }
            When::EveryMinutes(n) => write!(f, "{n}분마다"),
            When::EveryHours(1) => f.write_str("매시간"),
            When::EveryHours(n) => write!(f, "{n}시간마다"),
            When::Hourly { minute: 0 } => f.write_str("매시간 정각"),
            When::Hourly { minute } => write!(f, "매시간 {minute}분"),
        }
    }
}

fn days_text(days: Days) -> String {
    match days {
        Days::Every => "매일".to_string(),
        Days::Weekday(d) => format!("매주 {}", WEEKDAYS[d as usize]),
        Days::Weekdays => "평일".to_string(),
        Days::Weekend => "주말".to_string(),
    }
}

fn parse_when(c: &mut Cursor<'_>) -> Result<Option<Parsed>> {
    if let Some(when) = interval(c)? {
        return Ok(Some(Parsed::When(when)));
    }
    if let Some(when) = hourly(c)? {
        return Ok(Some(Parsed::When(when)));
    }
    let Some(days) = days(c)? else {
        return Ok(None);
    };
    c.eat_any_tight(&["마다", "에는", "에"]);
    let day_specific = days != Days::Every;
    Ok(Some(match time_of_day(c, day_specific)? {
        Some((hour, minute)) => Parsed::When(When::At { days, hour, minute }),
        None => Parsed::DaysOnly(days),
    }))
}

fn no_time() -> PhraseError {
    refuse(
        "시각을 적어 주세요. 예: \"매일 오전 9시\", \"매주 일요일 자정\"",
        "the phrase has no time of day (write it like 매일 오전 9시 or 매주 일요일 자정)",
    )
}

/// `30분마다`, `매 5분`, `2시간마다`, `30분 간격으로`.
fn interval(c: &mut Cursor<'_>) -> Result<Option<When>> {
    let save = c.pos;
    let prefixed = c.eat("매");
    let Some(n) = c.number() else {
        c.pos = save;
        return Ok(None);
    };
    let Some(unit) = c.eat_any(&["분", "시간", "초"]) else {
        c.pos = save;
        return Ok(None);
    };
    let suffixed = c.eat_any(&["마다", "간격으로", "간격"]).is_some();
    if !prefixed && !suffixed {
        c.pos = save;
        return Ok(None);
    }
    match unit {
        "초" => Err(refuse(
            "초 단위 반복은 지원하지 않습니다. 1분 이상으로 적어 주세요",
            "intervals in seconds are not supported (use 1 minute or more)",
        )),
        "분" => match n {
            60 => Ok(Some(When::EveryHours(1))),
            1..=59 if 60 % n == 0 => Ok(Some(When::EveryMinutes(n))),
            1..=59 => Err(refuse(
                format!(
                    "{n}분마다는 매시 정각에 맞춰 고르게 반복할 수 없습니다. 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30분 중에서 골라 주세요"
                ),
                format!(
                    "every {n} minutes cannot repeat evenly each hour (use 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30)"
                ),
            )),
            _ => Err(refuse(
                format!(
                    "{n}분마다는 쓸 수 없습니다. 1~59분(60의 약수) 또는 \"N시간마다\"로 적어 주세요"
                ),
                format!(
                    "every {n} minutes is out of range (use a divisor of 60 below 60, or N시간마다)"
                ),
            )),
        },
        _ => match n {
            1..=23 if 24 % n == 0 => Ok(Some(When::EveryHours(n))),
            1..=23 => Err(refuse(
                format!(
                    "{n}시간마다는 하루에 고르게 반복할 수 없습니다. 1, 2, 3, 4, 6, 8, 12시간 중에서 골라 주세요"
                ),
                format!(
                    "every {n} hours cannot repeat evenly each day (use 1, 2, 3, 4, 6, 8 or 12)"
                ),
            )),
            _ => Err(refuse(
                format!(
                    "{n}시간마다는 쓸 수 없습니다. 하루 한 번이면 \"매일 오전 9시\"처럼 시각을 적어 주세요"
                ),
                format!(
                    "every {n} hours is out of range (for once a day write a time, like 매일 오전 9시)"
                ),
            )),
        },
    }
}

/// `매시간`, `매 시간`, `매시 30분`, `매시간 정각`.
fn hourly(c: &mut Cursor<'_>) -> Result<Option<When>> {
    if c.eat_any(&["매시간", "매 시간", "매시"]).is_none() {
        return Ok(None);
    }
    c.eat_any_tight(&["마다"]);
    if c.eat("정각") {
        return Ok(Some(When::Hourly { minute: 0 }));
    }
    let save = c.pos;
    if let Some(m) = c.number() {
        if c.eat("분") {
            return minute_value(m).map(|minute| Some(When::Hourly { minute }));
        }
        c.pos = save;
    }
    Ok(Some(When::EveryHours(1)))
}

fn days(c: &mut Cursor<'_>) -> Result<Option<Days>> {
    if c.eat_any(&["매일", "날마다"]).is_some() {
        return Ok(Some(Days::Every));
    }
    if c.eat_any(&["평일", "주중"]).is_some() {
        return Ok(Some(Days::Weekdays));
    }
    if c.eat("주말") {
        return Ok(Some(Days::Weekend));
    }
    if c.eat("매주") {
        if let Some(d) = weekday(c) {
            return Ok(Some(Days::Weekday(d)));
        }
        if c.eat("평일") {
            return Ok(Some(Days::Weekdays));
        }
        if c.eat("주말") {
            return Ok(Some(Days::Weekend));
        }
        return Err(refuse(
            "\"매주\" 다음에 요일을 적어 주세요. 예: \"매주 일요일 자정\"",
            "매주 (weekly) needs a weekday (write it like 매주 일요일 자정)",
        ));
    }
    let save = c.pos;
    if let Some(d) = weekday(c) {
        if c.eat_tight("마다") {
            return Ok(Some(Days::Weekday(d)));
        }
        c.pos = save;
    }
    Ok(None)
}

fn weekday(c: &mut Cursor<'_>) -> Option<u32> {
    WEEKDAYS.iter().position(|w| c.eat(w)).map(|d| d as u32)
}

/// A time of day: `자정`, `정오`, `[오전|오후|아침|저녁|밤|새벽|낮] H시 [M분|반|정각]`, `HH:MM`.
/// `Ok(None)` when there is none here (nothing consumed).
fn time_of_day(c: &mut Cursor<'_>, day_specific: bool) -> Result<Option<(u32, u32)>> {
    let save = c.pos;
    if c.eat("자정") {
        return Ok(Some((0, 0)));
    }
    if c.eat("정오") {
        return Ok(Some((12, 0)));
    }
    let period = c.eat_any(&["오전", "오후", "아침", "저녁", "새벽", "낮", "밤"]);
    let before_hour = c.pos;
    let hour = c.number().or_else(|| native_hour(c));
    if let Some(h) = hour {
        if c.rest().starts_with(':') {
            c.pos += 1;
            let Some(m) = c.digits_tight(2) else {
                return Err(refuse(
                    "시각은 \"09:00\"처럼 분을 두 자리로 적어 주세요",
                    "write clock times with two-digit minutes, like 09:00",
                ));
            };
            let hour = apply_period(period, h, true, day_specific)?;
            return Ok(Some((hour, minute_value(m)?)));
        }
        if c.eat("시") && !c.rest().starts_with('간') {
            let minute = if c.eat("반") {
                30
            } else if c.eat("정각") {
                0
            } else {
                let after_hour = c.pos;
                match c.number() {
                    Some(m) if c.eat("분") => {
                        let minute = minute_value(m)?;
                        let after_minute = c.pos;
                        if c.number().is_some() && c.eat("초") {
                            return Err(refuse(
                                "초 단위 시각은 지원하지 않습니다",
                                "times with seconds are not supported in phrases",
                            ));
                        }
                        c.pos = after_minute;
                        minute
                    }
                    _ => {
                        c.pos = after_hour;
                        0
                    }
                }
            };
            let hour = apply_period(period, h, false, day_specific)?;
            return Ok(Some((hour, minute)));
        }
        c.pos = before_hour;
    }
    if let Some(p) = period {
        return Err(refuse(
            format!("\"{p}\" 뒤에 시각을 적어 주세요. 예: \"{p} 9시\""),
            format!("{p} must be followed by an hour, like {p} 9시"),
        ));
    }
    c.pos = save;
    Ok(None)
}

/// Hours spelled in native Korean numerals: 한 시 … 열두 시.
fn native_hour(c: &mut Cursor<'_>) -> Option<u32> {
    const NATIVE: [(&str, u32); 12] = [
        ("열한", 11),
        ("열두", 12),
        ("다섯", 5),
        ("여섯", 6),
        ("일곱", 7),
        ("여덟", 8),
        ("아홉", 9),
        ("열", 10),
        ("한", 1),
        ("두", 2),
        ("세", 3),
        ("네", 4),
    ];
    let save = c.pos;
    for (word, n) in NATIVE {
        if c.eat(word) {
            let mut probe = Cursor {
                text: c.text,
                pos: c.pos,
            };
            if probe.eat("시") && !probe.rest().starts_with('간') {
                return Some(n);
            }
            c.pos = save;
        }
    }
    None
}

fn minute_value(m: u32) -> Result<u32> {
    if m < 60 {
        Ok(m)
    } else {
        Err(refuse(
            format!("{m}분은 없는 시각입니다. 0~59분으로 적어 주세요"),
            format!("no such minute: {m} (use 0-59)"),
        ))
    }
}

/// Resolve an hour with its period word. 24-hour values are taken as written; 1–12 without a
/// period could be morning or evening and are refused.
fn apply_period(period: Option<&str>, h: u32, clock: bool, day_specific: bool) -> Result<u32> {
    let no_such = |shown: String| {
        refuse(
            format!("\"{shown}\"는 없는 시각입니다. \"오후 1시\" 또는 \"13시\"처럼 적어 주세요"),
            format!("no such time: {shown:?} (write it like 오후 1시 or 13시)"),
        )
    };
    let shown = match period {
        Some(p) => format!("{p} {h}시"),
        None => format!("{h}시"),
    };
    let ambiguous = |hint_ko: &str, hint_en: &str| {
        refuse(
            format!("\"{shown}\"는 모호합니다. {hint_ko}"),
            format!("ambiguous time {shown:?} ({hint_en})"),
        )
    };
    match period {
        None if clock => match h {
            0..=23 => Ok(h),
            _ => Err(no_such(format!("{h}:00"))),
        },
        None => match h {
            0 => Ok(0),
            13..=23 => Ok(h),
            1..=12 => Err(ambiguous(
                &format!("\"오전 {h}시\" 또는 \"오후 {h}시\"로 적어 주세요"),
                &format!("say 오전 {h}시 (am) or 오후 {h}시 (pm)"),
            )),
            24 => Err(ambiguous(
                "그날 0시라면 \"자정\"으로 적어 주세요",
                "write 자정 for midnight",
            )),
            _ => Err(no_such(shown)),
        },
        Some("오전") => match h {
            0..=11 => Ok(h),
            12 => Err(ambiguous(
                "\"자정\" 또는 \"정오\"로 적어 주세요",
                "write 자정 (midnight) or 정오 (noon)",
            )),
            _ => Err(no_such(shown)),
        },
        Some("새벽") => match h {
            0..=6 => Ok(h),
            _ => Err(no_such(shown)),
        },
        Some("아침") => match h {
            5..=11 => Ok(h),
            _ => Err(no_such(shown)),
        },
        Some("오후") => match h {
            12 => Ok(12),
            1..=11 => Ok(h + 12),
            _ => Err(no_such(shown)),
        },
        Some("낮") => match h {
            12 => Ok(12),
            1..=5 => Ok(h + 12),
            _ => Err(no_such(shown)),
        },
        Some("저녁") => match h {
            5..=11 => Ok(h + 12),
            _ => Err(no_such(shown)),
        },
        Some("밤") => match h {
            7..=11 => Ok(h + 12),
            12 if !day_specific => Ok(0),
            12 => Err(ambiguous(
                "요일과 함께 쓰면 그날 0시인지 다음 날 0시인지 알 수 없습니다. 그날 0시라면 \"자정\"으로 적어 주세요",
                "with a weekday it could be the start or the end of that day; write 자정 for 0시 of that day",
            )),
            1..=6 => Err(ambiguous(
                &format!("\"새벽 {h}시\"로 적어 주세요"),
                &format!("write 새벽 {h}시 for {h} am"),
            )),
            _ => Err(no_such(shown)),
        },
        Some(_) => Err(no_such(shown)),
    }
}

fn refuse(ko: impl fmt::Display, en: impl fmt::Display) -> PhraseError {
    PhraseError::new(ko, en)
}

/// The first few words of a refused message, for the error.
fn head(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().take(4).collect();
    words.join(" ")
}

/// A position in the phrase. Literals are matched after optional whitespace, so "오전9시" and
/// "오전 9시" read the same; `*_tight` variants allow no whitespace (particles).
#[derive(Debug)]
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, lit: &str) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.eat_tight(lit) {
            true
        } else {
            self.pos = save;
            false
        }
    }

    fn eat_tight(&mut self, lit: &str) -> bool {
        if self.rest().starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn eat_any(&mut self, lits: &[&'static str]) -> Option<&'static str> {
        lits.iter().copied().find(|lit| self.eat(lit))
    }

    fn eat_any_tight(&mut self, lits: &[&'static str]) -> Option<&'static str> {
        lits.iter().copied().find(|lit| self.eat_tight(lit))
    }

    /// ASCII digits after optional whitespace; large values saturate (and are refused later).
    fn number(&mut self) -> Option<u32> {
        let save = self.pos;
        self.skip_ws();
        let digits = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            self.pos = save;
            return None;
        }
        let n = self.rest()[..digits].bytes().fold(0u32, |acc, b| {
            acc.saturating_mul(10).saturating_add(u32::from(b - b'0'))
        });
        self.pos += digits;
        Some(n)
    }

    /// Exactly `count` ASCII digits, no whitespace.
    fn digits_tight(&mut self, count: usize) -> Option<u32> {
        let rest = self.rest();
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits != count {
            return None;
        }
        self.pos += count;
        rest[..count].parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn understood_phrases() {
        // (message, cron, description, rest)
        let table = [
            ("매일 오전 9시", "0 9 * * *", "매일 오전 9시", ""),
            ("매일 자정", "0 0 * * *", "매일 자정", ""),
            ("매주 일요일 자정", "0 0 * * 0", "매주 일요일 자정", ""),
            ("30분마다", "*/30 * * * *", "30분마다", ""),
            ("5분마다", "*/5 * * * *", "5분마다", ""),
            (
                "매일 오후 6시 30분",
                "30 18 * * *",
                "매일 오후 6시 30분",
                "",
            ),
            ("매일 09:00", "0 9 * * *", "매일 오전 9시", ""),
            (
                "매일 18:30 회고 정리",
                "30 18 * * *",
                "매일 오후 6시 30분",
                "회고 정리",
            ),
            (
                "매주 월요일 오전 10시",
                "0 10 * * 1",
                "매주 월요일 오전 10시",
                "",
            ),
            (
                "월요일마다 오전 10시 주간 보고",
                "0 10 * * 1",
                "매주 월요일 오전 10시",
                "주간 보고",
            ),
            ("매시간", "0 * * * *", "매시간", ""),
            ("매 시간 로그 확인", "0 * * * *", "매시간", "로그 확인"),
            ("매시 30분 동기화", "30 * * * *", "매시간 30분", "동기화"),
            ("2시간마다", "0 */2 * * *", "2시간마다", ""),
            ("평일 오전 9시", "0 9 * * 1-5", "평일 오전 9시", ""),
            (
                "주말 오전 10시 산책 알림",
                "0 10 * * 0,6",
                "주말 오전 10시",
                "산책 알림",
            ),
            (
                "매일 오전 9시 콘텐츠 아이디어 뽑아줘",
                "0 9 * * *",
                "매일 오전 9시",
                "콘텐츠 아이디어 뽑아줘",
            ),
            (
                "매일 오전 9시에 브랜드 전략 분석해줘",
                "0 9 * * *",
                "매일 오전 9시",
                "브랜드 전략 분석해줘",
            ),
            ("매일 자정에, 스냅샷", "0 0 * * *", "매일 자정", "스냅샷"),
            (
                "매일오전9시30분 뉴스",
                "30 9 * * *",
                "매일 오전 9시 30분",
                "뉴스",
            ),
            ("매일 오후 6시 반", "30 18 * * *", "매일 오후 6시 30분", ""),
            ("매일 18시", "0 18 * * *", "매일 오후 6시", ""),
            ("매일 0시", "0 0 * * *", "매일 자정", ""),
            (
                "매일 정오 점심 알림",
                "0 12 * * *",
                "매일 정오",
                "점심 알림",
            ),
            (
                "매일 오후 12시 30분",
                "30 12 * * *",
                "매일 오후 12시 30분",
                "",
            ),
            (
                "매일 아침 7시 아침 뉴스 요약",
                "0 7 * * *",
                "매일 오전 7시",
                "아침 뉴스 요약",
            ),
            ("매일 저녁 8시", "0 20 * * *", "매일 오후 8시", ""),
            ("매일 밤 12시", "0 0 * * *", "매일 자정", ""),
            ("매일 새벽 3시 백업", "0 3 * * *", "매일 오전 3시", "백업"),
            ("매일 오전 아홉 시", "0 9 * * *", "매일 오전 9시", ""),
            ("매 5분 싱크 체크", "*/5 * * * *", "5분마다", "싱크 체크"),
            (
                "10분 간격으로 상태 확인",
                "*/10 * * * *",
                "10분마다",
                "상태 확인",
            ),
            ("60분마다", "0 * * * *", "매시간", ""),
            (
                "  30분마다   클립보드 백업  ",
                "*/30 * * * *",
                "30분마다",
                "클립보드 백업",
            ),
            (
                "매일 오전 9시 3개 뉴스 요약",
                "0 9 * * *",
                "매일 오전 9시",
                "3개 뉴스 요약",
            ),
        ];
        for (text, cron, description, rest) in table {
            let m = parse_phrase(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(m.cron, cron, "{text:?}");
            assert_eq!(m.description_ko, description, "{text:?}");
            assert_eq!(m.rest, rest, "{text:?}");
            assert_eq!(m.tz, chrono_tz::Asia::Seoul);
            // every answer is a cron expression the schedules accept
            queue_core::schedule::Spec::parse_cron(&m.cron).unwrap();
        }
    }

    #[test]
    fn refused_phrases() {
        // (message, a piece of the Korean answer)
        let table = [
            ("", "비어 있습니다"),
            ("   ", "비어 있습니다"),
            ("가끔", "알아듣지 못한"),
            ("가끔 백업해줘", "알아듣지 못한"),
            ("내일 오전 9시", "알아듣지 못한"),
            ("일요일 오전 10시", "알아듣지 못한"),
            ("매일 오후 13시", "없는 시각"),
            ("매일 25시", "없는 시각"),
            ("매일 24시", "모호"),
            ("매일 오전 13시", "없는 시각"),
            ("61분마다", "쓸 수 없습니다"),
            ("0분마다", "쓸 수 없습니다"),
            ("45분마다", "고르게 반복할 수 없습니다"),
            ("5시간마다", "고르게 반복할 수 없습니다"),
            ("24시간마다", "쓸 수 없습니다"),
            ("30초마다", "초 단위"),
            ("매일 9시", "모호"),
            ("매일 12시", "모호"),
            ("매일 오전 12시", "모호"),
            ("매주 일요일 밤 12시", "모호"),
            ("매일 밤 2시", "모호"),
            ("매일 오후 6시 61분", "없는 시각"),
            ("매일 25:00", "없는 시각"),
            ("매일 9:5", "두 자리"),
            ("매일", "시각을 적어"),
            ("매일 백업해줘", "시각을 적어"),
            ("매주 오전 9시", "요일을 적어"),
            ("매일 오후", "시각을 적어"),
            ("매일 오전 9시쯤 뉴스", "어디서 끝나는지"),
            ("매일 오전 9시, 오후 6시 알림", "두 번 이상"),
        ];
        for (text, needle) in table {
            let err = parse_phrase(text).expect_err(text);
            assert!(err.ko.contains(needle), "{text:?}: {err}");
            assert!(!err.en.is_empty(), "{text:?} has an English reason: {err}");
            assert_eq!(err.to_string(), format!("{} / {}", err.ko, err.en));
        }
    }

    #[test]
    fn days_without_a_time_take_the_callers_time_for_the_task() {
        let m = parse_phrase_with("매주 일요일 시스템 진화", |task| {
            (task == "시스템 진화").then_some((0, 0))
        })
        .unwrap();
        assert_eq!(
            (m.cron.as_str(), m.description_ko.as_str(), m.rest.as_str()),
            ("0 0 * * 0", "매주 일요일 자정", "시스템 진화")
        );
        assert!(m.time_chosen);
        let m = parse_phrase_with("평일에 컨텐츠 아이디어", |_| Some((9, 30))).unwrap();
        assert_eq!(m.cron, "30 9 * * 1-5");
        // a time written wins; the caller is not asked
        let m = parse_phrase_with("매일 오후 6시 시스템 진화", |_| {
            panic!("not asked")
        })
        .unwrap();
        assert_eq!((m.cron.as_str(), m.time_chosen), ("0 18 * * *", false));
        // no time for this task: refused as before
        let e = parse_phrase_with("매일 백업해줘", |_| None).unwrap_err();
        assert!(e.ko.contains("시각을 적어"), "{e}");
        let e = parse_phrase_with("매일 백업", |_| Some((24, 0))).unwrap_err();
        assert!(e.en.contains("does not exist"), "{e}");
    }

    #[test]
    fn recognises_what_looks_like_a_schedule() {
        for yes in [
            "매일 오전 9시 x",
            "30분마다",
            "매 5분",
            "매주 일요일",
            "월요일마다 x",
            "평일 9시",
            "2시간 마다",
        ] {
            assert!(looks_like_schedule(yes), "{yes}");
        }
        for no in [
            "브랜드 전략 분석해줘",
            "/status",
            "30분 후에 알려줘",
            "일요일 오전 10시 회의",
            "",
        ] {
            assert!(!looks_like_schedule(no), "{no}");
        }
    }

    #[test]
    fn korean_times() {
        assert_eq!(korean_time(0, 0), "자정");
        assert_eq!(korean_time(0, 30), "오전 0시 30분");
        assert_eq!(korean_time(9, 0), "오전 9시");
        assert_eq!(korean_time(12, 0), "정오");
        assert_eq!(korean_time(18, 30), "오후 6시 30분");
    }
}
