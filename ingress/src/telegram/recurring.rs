//! A message that defines a recurring time ("매일 오전 9시 콘텐츠 아이디어 뽑아줘",
//! "30분마다 동기화 확인") becomes a schedule, named `tg-{update_id}`, through queue-core's
//! phrase parser and schedule store. What follows the phrase is the task each slot runs; its
//! class and kind come from the same rules as any message. A phrase the parser refuses is
//! answered with its reason and creates nothing: a schedule is never guessed.

use queue_core::ErrorKind;
use queue_core::schedule::phrase::looks_like_schedule;
use queue_core::schedule::{PhraseMatch, Schedule, ScheduleStore, Spec, next_run, parse_phrase};
use serde_json::{Value, json};

use super::update::{Incoming, IncomingMessage};
use super::webhook::send_reply;
use crate::classify::Input;
use crate::error::ApiError;
use crate::reply::Lang;
use crate::state::{AppState, TelegramState};

/// A message that starts like a schedule, and what the parser made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// The phrase understood, or the parser's reason (Korean / English) for refusing it.
    pub parsed: Result<PhraseMatch, String>,
}

/// Whether `text` starts like a recurring time; if so, parse it.
pub fn detect(text: &str) -> Option<Detected> {
    if !looks_like_schedule(text) {
        return None;
    }
    Some(parse(text))
}

/// Parse `text` as a schedule phrase followed by the task.
pub fn parse(text: &str) -> Detected {
    Detected {
        parsed: parse_phrase(text).map_err(|e| e.message().to_string()),
    }
}

/// The schedule name for an update: one per update, forever (a redelivery finds it).
pub fn schedule_name(update_id: i64) -> String {
    format!("tg-{update_id}")
}

/// The parser's refusal in one language: it writes `한국어 / English`.
fn refusal_in(lang: Lang, reason: &str) -> String {
    match reason.split_once(" / ") {
        Some((ko, en)) => match lang {
            Lang::Ko => ko.to_string(),
            Lang::En => en.to_string(),
        },
        None => reason.to_string(),
    }
}

/// Make the schedule and answer with its next run.
pub async fn create(
    state: &AppState,
    tg: &TelegramState,
    incoming: &Incoming,
    msg: &IncomingMessage,
    found: Detected,
    rule: &str,
) -> Result<(), ApiError> {
    let lang = state.lang;
    let reply_to = Some(msg.message_id);
    let phrase = match found.parsed {
        Ok(p) => p,
        Err(reason) => {
            tracing::info!(update_id = incoming.update_id, "schedule phrase refused");
            let text = lang.schedule_refused(&refusal_in(lang, &reason));
            send_reply(tg, msg.chat_id, reply_to, &text).await;
            return Ok(());
        }
    };
    if phrase.rest.trim().is_empty() {
        send_reply(tg, msg.chat_id, reply_to, lang.schedule_needs_task()).await;
        return Ok(());
    }
    let task = state.rules.classify_task(&Input {
        text: &phrase.rest,
        has_photo: false,
        recurring: false,
    });
    let class = task
        .route
        .class()
        .unwrap_or(state.rules.settings.default_class);
    let now = state.queue.clock().now();
    let name = schedule_name(incoming.update_id);
    let spec = Spec::parse_cron(&phrase.cron).map_err(|e| {
        tracing::error!(cron = %phrase.cron, error = %e, "the phrase parser produced a cron expression the spec refuses");
        ApiError::internal()
    })?;
    let payload = json!({
        "text": phrase.rest,
        "chat_id": msg.chat_id,
        "rule": task.rule,
        "schedule_rule": rule,
        "phrase": phrase.description_ko,
    });
    let mut schedule = Schedule::new(&name, spec, class, &task.kind, payload, now)
        .map_err(|e| ApiError::from_queue("build schedule", &e))?
        .with_description(format!("{} — {}", phrase.description_ko, phrase.rest));
    schedule.tz = phrase.tz;
    // Who to tell: kept with the schedule for the scheduler and workers to use.
    schedule
        .extra
        .insert("chat_id".into(), Value::from(msg.chat_id));
    schedule
        .extra
        .insert("update_id".into(), Value::from(incoming.update_id));
    let store = ScheduleStore::new(state.queue.bucket().clone());
    match store.create(&schedule).await {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::Conflict => {
            tracing::info!(update_id = incoming.update_id, schedule = %name, "schedule exists: a redelivery, not answered twice");
            return Ok(());
        }
        Err(e) => return Err(ApiError::from_queue("create schedule", &e)),
    }
    tracing::info!(update_id = incoming.update_id, schedule = %name, cron = %phrase.cron, class = %class, kind = %task.kind, "schedule created from telegram");
    let next = next_run(&schedule, now).map(|n| match lang {
        Lang::Ko => n.korean(),
        Lang::En => n.local_text(),
    });
    let what = format!(
        "{} ({}) — {} [{class}]\n{}: {name}",
        phrase.description_ko,
        phrase.cron,
        phrase.rest,
        lang.words().name
    );
    send_reply(tg, msg.chat_id, reply_to, &lang.scheduled(&what, next)).await;
    Ok(())
}

/// /schedules: every schedule with its timing, class and next run.
pub async fn list(state: &AppState) -> queue_core::Result<String> {
    let lang = state.lang;
    let w = lang.words();
    let listing = ScheduleStore::new(state.queue.bucket().clone())
        .list()
        .await?;
    if listing.schedules.is_empty() && listing.invalid.is_empty() {
        return Ok(w.no_schedules.to_string());
    }
    let now = state.queue.clock().now();
    let mut out = format!("{}\n", w.schedules);
    for s in &listing.schedules {
        let when = match next_run(s, now) {
            Some(n) if lang == Lang::Ko => format!("{} {}", w.next, n.korean()),
            Some(n) => format!("{} {}", w.next, n.local_text()),
            None => w.paused.to_string(),
        };
        out += &format!(
            "• {} — {} ({}) {}/{} · {when}\n",
            s.name,
            s.spec,
            s.tz.name(),
            s.class,
            s.kind
        );
        if let Some(d) = &s.description {
            out += &format!("  {d}\n");
        }
    }
    for (object, _) in &listing.invalid {
        out += &format!("• {object}: {}\n", w.invalid);
    }
    Ok(out.trim_end().to_string())
}
