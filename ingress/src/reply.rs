//! What the bot says, in Korean (the default) or English. Every user-visible sentence lives
//! here (results and follow-ups in `reply/results.rs`), so a wording change is one edit and
//! the tests can name the exact texts.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

mod results;

/// The zone times are shown in.
pub const DISPLAY_TZ: Tz = chrono_tz::Asia::Seoul;

/// The reply language (`INGRESS_LANG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 한국어.
    #[default]
    Ko,
    /// English.
    En,
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ko" | "kr" | "korean" => Ok(Lang::Ko),
            "en" | "english" => Ok(Lang::En),
            other => Err(format!("unknown language {other:?} (expected ko or en)")),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        })
    }
}

/// A time as people here read it: `2026-11-25 09:00 KST`.
pub fn kst(t: DateTime<Utc>) -> String {
    t.with_timezone(&DISPLAY_TZ)
        .format("%Y-%m-%d %H:%M KST")
        .to_string()
}

impl Lang {
    /// A heavy task was queued and a heavy worker is online.
    pub fn heavy_online(self) -> &'static str {
        match self {
            Lang::Ko => "처리 중입니다…",
            Lang::En => "Processing…",
        }
    }

    /// A heavy task was queued and no heavy worker is online.
    pub fn heavy_offline(self) -> &'static str {
        match self {
            Lang::Ko => "작업을 큐에 추가했습니다. MacBook 복귀 시 처리됩니다.",
            Lang::En => "Added to the queue. It will run when the MacBook is back.",
        }
    }

    /// A light task was queued.
    pub fn light_queued(self) -> &'static str {
        match self {
            Lang::Ko => "VM 작업 큐에 추가했습니다. 곧 처리됩니다.",
            Lang::En => "Added to the VM queue; it will run shortly.",
        }
    }

    /// A schedule was made from the message; `next` is its next run, already formatted.
    pub fn scheduled(self, what: &str, next: Option<String>) -> String {
        match (self, next) {
            (Lang::Ko, Some(t)) => format!("반복 작업을 등록했습니다: {what}\n다음 실행: {t}"),
            (Lang::Ko, None) => format!("반복 작업을 등록했습니다: {what}"),
            (Lang::En, Some(t)) => format!("Scheduled: {what}\nNext run: {t}"),
            (Lang::En, None) => format!("Scheduled: {what}"),
        }
    }

    /// The message starts like a schedule but the parser refused it, with its reason.
    pub fn schedule_refused(self, reason: &str) -> String {
        match self {
            Lang::Ko => format!("반복 일정을 등록하지 않았습니다. {reason}"),
            Lang::En => format!("No schedule was made: {reason}"),
        }
    }

    /// A schedule phrase with nothing to do after it.
    pub fn schedule_needs_task(self) -> &'static str {
        match self {
            Lang::Ko => {
                "무엇을 할지 일정 뒤에 적어 주세요. 예: 매일 오전 9시 콘텐츠 아이디어 뽑아줘"
            }
            Lang::En => "Say what to do after the time, e.g. 매일 오전 9시 콘텐츠 아이디어 뽑아줘",
        }
    }

    /// The photo could not be fetched from Telegram for good; the task was queued without it.
    pub fn photo_missing(self) -> &'static str {
        match self {
            Lang::Ko => "사진을 가져오지 못해 사진 없이 추가했습니다.",
            Lang::En => "The photo could not be fetched; queued without it.",
        }
    }

    /// /help.
    pub fn help(self) -> &'static str {
        match self {
            Lang::Ko => concat!(
                "메시지를 보내면 작업으로 추가합니다.\n",
                "• 질문·대화·분석·전략·브랜드·기획·이미지 → MacBook(heavy)\n",
                "• 일정 등록·로그 확인·상태 체크·조회·파일 정리·루틴 작업 → VM(light)\n",
                "• \"매일 오전 9시 …\", \"매주 일요일 시스템 진화\" → 반복 작업\n",
                "• 봇의 작업 메시지에 답장하면 그 결과를 이어서 작업합니다\n\n",
                "/status — 큐 상태와 워커\n",
                "/tasks — 최근 작업\n",
                "/result ID — 작업 결과 (작업 메시지에 답장해도 됩니다)\n",
                "/retry ID — 실패한 작업 다시 실행\n",
                "/cancel ID — 작업 취소\n",
                "/schedules — 이 대화의 반복 작업\n",
                "/unschedule 이름 — 반복 작업 삭제\n",
                "/help — 이 도움말",
            ),
            Lang::En => concat!(
                "Send a message and it becomes a task.\n",
                "• questions, conversation, analysis, strategy, brand, planning, images → MacBook (heavy)\n",
                "• calendar, logs, status checks, lookups, tidying files, routine jobs → VM (light)\n",
                "• \"매일 오전 9시 …\", \"매주 일요일 시스템 진화\" → a schedule\n",
                "• reply to the bot's message about a task to follow up on its result\n\n",
                "/status — queue depths and workers\n",
                "/tasks — recent tasks\n",
                "/result ID — a task's result (or reply to its message)\n",
                "/retry ID — run a failed task again\n",
                "/cancel ID — cancel a task\n",
                "/schedules — this chat's recurring tasks\n",
                "/unschedule NAME — remove a recurring task\n",
                "/help — this help",
            ),
        }
    }

    /// The command menu registered with `setMyCommands`.
    pub fn command_menu(self) -> Vec<(String, String)> {
        let items: [(&str, &str, &str); 8] = [
            ("status", "큐 상태와 워커", "queue depths and workers"),
            ("tasks", "최근 작업", "recent tasks"),
            (
                "result",
                "작업 결과: /result ID",
                "a task's result: /result ID",
            ),
            (
                "retry",
                "실패한 작업 다시 실행: /retry ID",
                "run a failed task again: /retry ID",
            ),
            (
                "cancel",
                "작업 취소: /cancel ID",
                "cancel a task: /cancel ID",
            ),
            (
                "schedules",
                "이 대화의 반복 작업",
                "this chat's recurring tasks",
            ),
            (
                "unschedule",
                "반복 작업 삭제: /unschedule 이름",
                "remove a recurring task: /unschedule NAME",
            ),
            ("help", "도움말", "help"),
        ];
        items
            .iter()
            .map(|(c, ko, en)| {
                let d = if self == Lang::Ko { ko } else { en };
                (c.to_string(), d.to_string())
            })
            .collect()
    }

    /// A command we do not know.
    pub fn unknown_command(self, cmd: &str) -> String {
        match self {
            Lang::Ko => format!("모르는 명령입니다: /{cmd}\n/help 로 명령을 확인하세요."),
            Lang::En => format!("Unknown command: /{cmd}\nSee /help."),
        }
    }

    /// /retry or /cancel without a usable id.
    pub fn needs_id(self, cmd: &str) -> String {
        match self {
            Lang::Ko => format!("작업 ID가 필요합니다: /{cmd} ID (ID는 /tasks 에서 확인)"),
            Lang::En => format!("A task id is needed: /{cmd} ID (see /tasks)"),
        }
    }

    /// /retry succeeded: a replay is a new task (`new`), linked to the failed one (`old`).
    pub fn retried(self, old: &str, new: &str) -> String {
        match self {
            Lang::Ko => format!("다시 실행하도록 큐에 넣었습니다: 새 작업 {new} (원래 작업 {old})"),
            Lang::En => format!("Queued to run again as a new task: {new} (was {old})"),
        }
    }

    /// /cancel succeeded.
    pub fn cancelled(self, id: &str, was_running: bool) -> String {
        match (self, was_running) {
            (Lang::Ko, false) => format!("취소했습니다: {id}"),
            (Lang::Ko, true) => format!("취소했습니다 (실행 중이던 작업은 곧 중단됩니다): {id}"),
            (Lang::En, false) => format!("Cancelled: {id}"),
            (Lang::En, true) => format!("Cancelled (the running handler stops shortly): {id}"),
        }
    }

    /// A command could not act (not found, wrong state, …): the queue's reason.
    pub fn command_failed(self, reason: &str) -> String {
        match self {
            Lang::Ko => format!("처리하지 못했습니다: {reason}"),
            Lang::En => format!("Could not do it: {reason}"),
        }
    }

    /// The store did not answer while running a command.
    pub fn store_unavailable(self) -> &'static str {
        match self {
            Lang::Ko => "저장소에 연결하지 못했습니다. 잠시 후 다시 시도하세요.",
            Lang::En => "The store did not answer; try again shortly.",
        }
    }

    /// Label words used by /status, /tasks and /schedules.
    pub fn words(self) -> &'static Words {
        match self {
            Lang::Ko => &KO_WORDS,
            Lang::En => &EN_WORDS,
        }
    }
}

/// Short words for the command outputs.
#[derive(Debug)]
pub struct Words {
    /// Heading of /status.
    pub queue: &'static str,
    /// State names: pending, running, done, failed.
    pub states: [&'static str; 4],
    /// Quarantined objects.
    pub invalid: &'static str,
    /// Heading of the worker list.
    pub workers: &'static str,
    /// No worker has ever reported.
    pub no_workers: &'static str,
    /// Online / offline.
    pub online: &'static str,
    /// Offline.
    pub offline: &'static str,
    /// "last seen".
    pub last_seen: &'static str,
    /// Tasks a worker runs now.
    pub busy: &'static str,
    /// Heading of /tasks.
    pub recent: &'static str,
    /// No tasks at all.
    pub no_tasks: &'static str,
    /// Heading of /schedules.
    pub schedules: &'static str,
    /// No schedules.
    pub no_schedules: &'static str,
    /// "next".
    pub next: &'static str,
    /// "name".
    pub name: &'static str,
    /// "paused".
    pub paused: &'static str,
    /// Schedules are not available in this build/setup.
    pub schedules_unavailable: &'static str,
}

static KO_WORDS: Words = Words {
    queue: "큐 상태",
    states: ["대기", "실행", "완료", "실패"],
    invalid: "읽을 수 없는 객체",
    workers: "워커",
    no_workers: "보고한 워커가 없습니다",
    online: "온라인",
    offline: "오프라인",
    last_seen: "마지막 확인",
    busy: "실행 중",
    recent: "최근 작업",
    no_tasks: "작업이 없습니다",
    schedules: "반복 작업",
    no_schedules: "등록된 반복 작업이 없습니다",
    next: "다음",
    name: "이름",
    paused: "일시정지",
    schedules_unavailable: "반복 작업 기능을 사용할 수 없습니다",
};

static EN_WORDS: Words = Words {
    queue: "Queue",
    states: ["pending", "running", "done", "failed"],
    invalid: "unreadable objects",
    workers: "Workers",
    no_workers: "no worker has reported",
    online: "online",
    offline: "offline",
    last_seen: "last seen",
    busy: "running",
    recent: "Recent tasks",
    no_tasks: "no tasks",
    schedules: "Schedules",
    no_schedules: "no schedules",
    next: "next",
    name: "name",
    paused: "paused",
    schedules_unavailable: "schedules are not available",
};

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn offline_reply_is_the_agreed_sentence() {
        assert_eq!(
            Lang::Ko.heavy_offline(),
            "작업을 큐에 추가했습니다. MacBook 복귀 시 처리됩니다."
        );
    }

    #[test]
    fn times_are_shown_in_kst() {
        let t = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        assert_eq!(kst(t), "2026-11-25 09:00 KST");
    }

    #[test]
    fn language_parses() {
        assert_eq!("EN".parse::<Lang>().unwrap(), Lang::En);
        assert!("fr".parse::<Lang>().is_err());
    }
}
