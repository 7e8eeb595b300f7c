//! The sentences of results and follow-ups: `/result`, `/retry` hints, `/unschedule`, the
//! "queued" footer and the time a schedule took when the phrase named none.

use queue_core::TaskState;

use super::Lang;

impl Lang {
    /// `/result ID` for a task that finished: its result text, or a note that it had none.
    pub fn result_done(self, kind: &str, text: &Option<String>) -> String {
        match (self, text) {
            (Lang::Ko, Some(t)) => format!("✅ 완료 ({kind})\n{t}"),
            (Lang::Ko, None) => format!("✅ 완료 ({kind}): 결과 내용이 없습니다"),
            (Lang::En, Some(t)) => format!("✅ Done ({kind})\n{t}"),
            (Lang::En, None) => format!("✅ Done ({kind}): no result text"),
        }
    }

    /// `/result ID` for a task that failed for good: the reason and the chat command that
    /// replays it.
    pub fn result_failed(self, kind: &str, reason: &str, id: &str) -> String {
        match self {
            Lang::Ko => {
                format!("❌ 작업 실패 ({kind}): {reason}\n다시 실행하려면: /retry {id}")
            }
            Lang::En => format!("❌ Task failed ({kind}): {reason}\nTo run it again: /retry {id}"),
        }
    }

    /// `/result ID` for a failed task that was replayed as the new task `new`.
    pub fn result_replayed(self, kind: &str, reason: &str, new: &str) -> String {
        match self {
            Lang::Ko => format!(
                "❌ 작업 실패 ({kind}): {reason}\n다시 실행됨: 새 작업 {new} (/result {new})"
            ),
            Lang::En => {
                format!("❌ Task failed ({kind}): {reason}\nRun again as {new} (/result {new})")
            }
        }
    }

    /// `/result ID` for a task that is not finished.
    pub fn result_waiting(self, kind: &str, state: TaskState) -> String {
        match (self, state) {
            (Lang::Ko, TaskState::Running) => format!("⏳ 실행 중입니다 ({kind})"),
            (Lang::Ko, _) => format!("⏳ 아직 대기 중입니다 ({kind})"),
            (Lang::En, TaskState::Running) => format!("⏳ Running ({kind})"),
            (Lang::En, _) => format!("⏳ Still waiting ({kind})"),
        }
    }

    /// `/result ID` for an id no task has.
    pub fn result_not_found(self, id: &str) -> String {
        match self {
            Lang::Ko => format!("작업을 찾지 못했습니다: {id}"),
            Lang::En => format!("No such task: {id}"),
        }
    }

    /// `/result` without an id and not as a reply to a message about a task.
    pub fn result_needs_id(self) -> &'static str {
        match self {
            Lang::Ko => {
                "작업 ID를 적거나 (/result ID), 작업 안내 메시지에 답장으로 /result 를 보내 주세요"
            }
            Lang::En => {
                "Give a task id (/result ID), or send /result as a reply to the bot's message about the task"
            }
        }
    }

    /// The line a schedule reply adds when the phrase named no time and one was chosen.
    pub fn time_chosen(self, task: &str, when: &str) -> String {
        match self {
            Lang::Ko => format!("시각이 없어 \"{task}\"의 기본 시각으로 정했습니다: {when}"),
            Lang::En => format!("No time was given; \"{task}\" runs at its default time: {when}"),
        }
    }

    /// `/unschedule` without a name.
    pub fn unschedule_needs_name(self) -> &'static str {
        match self {
            Lang::Ko => "이름이 필요합니다: /unschedule 이름 (이름은 /schedules 에서 확인)",
            Lang::En => "A name is needed: /unschedule NAME (see /schedules)",
        }
    }

    /// `/unschedule NAME` removed it.
    pub fn unscheduled(self, name: &str) -> String {
        match self {
            Lang::Ko => format!("반복 작업을 삭제했습니다: {name}"),
            Lang::En => format!("Schedule removed: {name}"),
        }
    }

    /// `/unschedule NAME` for a schedule this chat does not have (another chat's, a file's,
    /// or none).
    pub fn not_this_chats_schedule(self, name: &str) -> String {
        match self {
            Lang::Ko => format!(
                "이 대화에서 만든 반복 작업이 아닙니다: {name} (/schedules 로 확인; 파일로 설치한 작업은 queuectl schedules rm)"
            ),
            Lang::En => format!(
                "Not a schedule made in this chat: {name} (see /schedules; installed ones: queuectl schedules rm)"
            ),
        }
    }

    /// The /schedules line counting schedules made elsewhere (other chats, the schedules
    /// file).
    pub fn other_schedules(self, n: usize) -> String {
        match self {
            Lang::Ko => format!("그 밖의 반복 작업 {n}개 (다른 대화 또는 설치 파일)"),
            Lang::En => format!("{n} more schedule(s) from other chats or the schedules file"),
        }
    }
}
