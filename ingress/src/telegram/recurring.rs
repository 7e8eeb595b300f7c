//! A message that defines a recurring time ("매일 오전 9시 콘텐츠 아이디어 뽑아줘",
//! "30분마다 동기화 확인") becomes a schedule, named `tg-{update_id}`, through the phrase
//! parser (the `phrases` crate) and queue-core's schedule store. What follows the phrase is
//! the task each slot runs; its class and kind come from the same rules as any message, so
//! "매주 일요일 시스템 진화" runs the `system-evolution` routine job. A phrase that names days
//! but no time takes the time of its task's rule (`default_time`, the seed's time for the
//! routine job) or the rules' default, and the reply says which. A phrase the parser refuses
//! is answered with its reason and creates nothing.
//!
//! `/schedules` lists the schedules this chat made (`extra.chat_id`); `/unschedule NAME`
//! removes one of them — never another chat's, nor one installed from the schedules file.

use phrases::{PhraseError, PhraseMatch, looks_like_schedule, next_run, parse_phrase_with};
use queue_core::ErrorKind;
use queue_core::schedule::{Schedule, ScheduleStore, Spec};
use serde_json::{Value, json};

use super::update::{Incoming, IncomingMessage};
use super::webhook::send_reply;
use crate::classify::{Input, Rules};
use crate::error::ApiError;
use crate::reply::Lang;
use crate::state::{AppState, TelegramState};

/// A message that starts like a schedule, and what the parser made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// The phrase understood, or the parser's reason for refusing it.
    pub parsed: Result<PhraseMatch, PhraseError>,
}

/// Whether `text` starts like a recurring time; if so, parse it.
pub fn detect(text: &str, rules: &Rules) -> Option<Detected> {
    if !looks_like_schedule(text) {
        return None;
    }
    Some(parse(text, rules))
}

/// Parse `text` as a schedule phrase followed by the task; a phrase without a time takes the
/// default time the rules give its task.
pub fn parse(text: &str, rules: &Rules) -> Detected {
    Detected {
        parsed: parse_phrase_with(text, |task| rules.default_time(task)),
    }
}

/// The schedule name for an update: one per update, forever (a redelivery finds it).
pub fn schedule_name(update_id: i64) -> String {
    format!("tg-{update_id}")
}

/// The parser's refusal in the reply language.
fn refusal_in(lang: Lang, reason: &PhraseError) -> &str {
    match lang {
        Lang::Ko => &reason.ko,
        Lang::En => &reason.en,
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
            let text = lang.schedule_refused(refusal_in(lang, &reason));
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
    let mut what = format!(
        "{} ({}) — {} [{class}]\n{}: {name}",
        phrase.description_ko,
        phrase.cron,
        phrase.rest,
        lang.words().name
    );
    if phrase.time_chosen {
        what = format!(
            "{what}\n{}",
            lang.time_chosen(&phrase.rest, &phrase.description_ko)
        );
    }
    send_reply(tg, msg.chat_id, reply_to, &lang.scheduled(&what, next)).await;
    Ok(())
}

/// Whether `chat_id` made the schedule (the bot records the chat in `extra.chat_id`).
pub fn belongs_to(schedule: &Schedule, chat_id: i64) -> bool {
    schedule.extra.get("chat_id").and_then(Value::as_i64) == Some(chat_id)
}

/// /schedules: this chat's schedules with their timing, class, kind and next run, and how
/// many others exist. One listing of `schedules/` (Class A) and one GET per schedule.
pub async fn list(state: &AppState, chat_id: i64) -> queue_core::Result<String> {
    let lang = state.lang;
    let w = lang.words();
    let listing = ScheduleStore::new(state.queue.bucket().clone())
        .list()
        .await?;
    let (mine, others): (Vec<&Schedule>, Vec<&Schedule>) = listing
        .schedules
        .iter()
        .partition(|s| belongs_to(s, chat_id));
    let others = others.len() + listing.invalid.len();
    if mine.is_empty() {
        return Ok(match others {
            0 => w.no_schedules.to_string(),
            n => format!("{}\n{}", w.no_schedules, lang.other_schedules(n)),
        });
    }
    let now = state.queue.clock().now();
    let mut out = format!("{}\n", w.schedules);
    for s in mine {
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
    if others > 0 {
        out += &format!("{}\n", lang.other_schedules(others));
    }
    Ok(out.trim_end().to_string())
}

/// /unschedule NAME: remove a schedule this chat made. Costs one GET (whose is it) and one
/// DELETE (free).
pub async fn unschedule(state: &AppState, chat_id: i64, args: &str) -> queue_core::Result<String> {
    let lang = state.lang;
    let name = args.trim();
    if name.is_empty() {
        return Ok(lang.unschedule_needs_name().to_string());
    }
    let store = ScheduleStore::new(state.queue.bucket().clone());
    let schedule = match store.get(name).await {
        Ok(s) => s,
        Err(e) if e.kind() == ErrorKind::InvalidInput => None,
        Err(e) => return Err(e),
    };
    match schedule {
        Some(s) if belongs_to(&s, chat_id) => {
            store.remove(name).await?;
            tracing::info!(schedule = name, chat_id, "schedule removed from telegram");
            Ok(lang.unscheduled(name))
        }
        _ => Ok(lang.not_this_chats_schedule(name)),
    }
}
