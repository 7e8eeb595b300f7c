//! Alerts to the operator's chat (`TELEGRAM_ADMIN_CHAT_ID`): things nobody would otherwise
//! see.
//!
//! - a routine job (a task a schedule fired) dead-lettered — with `/retry ID`;
//! - a handler's own findings: the `alerts` of its result (the sync check's drift);
//! - an always-on worker (class light, the VM) whose presence went stale while it says it is
//!   running: silent past twice its presence cadence ([`stale_workers`], watched by every
//!   worker that has an admin chat, see [`watch`]).
//!
//! At most one alert per cause per [`QUIET`]: the last send time per cause is kept in this
//! process's memory, so limiting costs no store operation (a restart may repeat one alert).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use queue_core::presence::{self, Presence};
use queue_core::{Bucket, Class, Clock, Envelope, TaskState};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::notify::{Body, Notice, Notifier, split_text};

/// The shortest time between two alerts of one cause.
pub const QUIET: chrono::Duration = chrono::Duration::hours(1);

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// What it is about; alerts of one cause are sent at most once per [`QUIET`].
    pub cause: String,
    /// The message.
    pub text: String,
}

/// The alerts a committed task raises (pure).
pub fn for_task(envelope: &Envelope, state: TaskState) -> Vec<Alert> {
    let mut out = Vec::new();
    let schedule = envelope.source.as_ref().and_then(|s| s.schedule.as_deref());
    if let (TaskState::Failed, Some(schedule)) = (state, schedule) {
        let why = envelope
            .failure
            .as_deref()
            .or(envelope.last_error())
            .unwrap_or("unknown error");
        out.push(Alert {
            cause: format!("dead-letter:{schedule}"),
            text: format!(
                "⚠️ 정기 작업 실패: {} (스케줄 {schedule}, 시도 {}회)\n{}\n\n다시 실행: /retry {}",
                envelope.kind,
                envelope.attempt,
                truncate(why, 1000),
                envelope.id
            ),
        });
    }
    if state == TaskState::Done {
        let listed = envelope.result.as_ref().and_then(|r| r.get("alerts"));
        for item in listed.and_then(Value::as_array).into_iter().flatten() {
            let text = item.get("text").and_then(Value::as_str);
            let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
                continue;
            };
            let cause = item.get("cause").and_then(Value::as_str).unwrap_or(text);
            out.push(Alert {
                cause: format!("{}:{}", envelope.kind, truncate(cause, 200)),
                text: format!("⚠️ {}: {}", envelope.kind, truncate(text, 3000)),
            });
        }
    }
    out
}

/// Always-on workers (class light) that say they run but have been silent past twice their
/// presence cadence, except `me` (pure). The cadence is read from the document itself:
/// `next_heartbeat_by − last_seen`.
pub fn stale_workers(docs: &[Presence], me: &str, now: DateTime<Utc>) -> Vec<Alert> {
    docs.iter()
        .filter(|d| d.class == Class::Light && d.running && d.worker_id != me)
        .filter(|d| now > d.last_seen + (d.next_heartbeat_by - d.last_seen) * 2)
        .map(|d| Alert {
            cause: format!("stale:{}", d.worker_id),
            text: format!(
                "⚠️ 워커 {} ({}) 응답 없음: 마지막 신호 {} 전 ({} UTC). VM이 멈췄거나 네트워크가 끊겼을 수 있습니다.",
                d.worker_id,
                d.host,
                span(now - d.last_seen),
                d.last_seen.format("%Y-%m-%d %H:%M")
            ),
        })
        .collect()
}

/// Whether an alert whose cause was last sent at `last` may go out at `now` (pure).
pub fn may_send(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|last| now - last >= QUIET || now < last)
}

/// Sends alerts to the admin chat, at most one per cause per [`QUIET`].
#[derive(Debug)]
pub struct Alerter {
    notifier: Arc<dyn Notifier>,
    chat_id: i64,
    clock: Arc<dyn Clock>,
    sent: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl Alerter {
    /// Alerts to `chat_id` through `notifier`.
    pub fn new(notifier: Arc<dyn Notifier>, chat_id: i64, clock: Arc<dyn Clock>) -> Self {
        Alerter {
            notifier,
            chat_id,
            clock,
            sent: Mutex::new(HashMap::new()),
        }
    }

    /// The admin chat from `TELEGRAM_ADMIN_CHAT_ID`; `None` when unset or without a notifier.
    pub fn from_env(
        notifier: Option<Arc<dyn Notifier>>,
        clock: Arc<dyn Clock>,
    ) -> Result<Option<Self>, String> {
        let Some(chat) = admin_chat_from_env()? else {
            return Ok(None);
        };
        let Some(notifier) = notifier else {
            tracing::warn!(
                "TELEGRAM_ADMIN_CHAT_ID is set but TELEGRAM_BOT_TOKEN is not: no alerts"
            );
            return Ok(None);
        };
        Ok(Some(Alerter::new(notifier, chat, clock)))
    }

    /// Send each alert whose cause is not in its quiet hour; returns how many went out.
    pub async fn raise(&self, alerts: Vec<Alert>) -> usize {
        let mut sent = 0;
        for alert in alerts {
            let now = self.clock.now();
            {
                let mut last = self.sent.lock().expect("alert state lock");
                if !may_send(last.get(&alert.cause).copied(), now) {
                    tracing::debug!(cause = %alert.cause, "alert suppressed (sent within the hour)");
                    continue;
                }
                last.insert(alert.cause.clone(), now);
            }
            let notice = Notice {
                chat_id: self.chat_id,
                reply_to: None,
                body: Body::Text(split_text(&alert.text, crate::notify::MESSAGE_LIMIT)),
            };
            match tokio::time::timeout(Duration::from_secs(60), self.notifier.send(&notice)).await {
                Ok(Ok(())) => {
                    sent += 1;
                    tracing::info!(cause = %alert.cause, "alert sent")
                }
                Ok(Err(e)) => {
                    tracing::warn!(cause = %alert.cause, error = %e, "could not send an alert")
                }
                Err(_) => tracing::warn!(cause = %alert.cause, "sending an alert timed out"),
            }
        }
        sent
    }
}

/// `TELEGRAM_ADMIN_CHAT_ID`, if set.
pub fn admin_chat_from_env() -> Result<Option<i64>, String> {
    chat_from_env("TELEGRAM_ADMIN_CHAT_ID")
}

/// A chat id from environment variable `var`, if set.
pub fn chat_from_env(var: &str) -> Result<Option<i64>, String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{var}={v:?} is not a Telegram chat id (an integer)")),
        _ => Ok(None),
    }
}

/// Look at `workers/` every `every` (one listing — a Class A operation — plus one read per
/// worker) and alert on stale always-on workers, until `stop`.
pub async fn watch(
    bucket: Bucket,
    alerter: Arc<Alerter>,
    me: String,
    every: Duration,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match presence::list(&bucket).await {
            Ok(docs) => {
                let now = alerter.clock.now();
                alerter.raise(stale_workers(&docs, &me, now)).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read workers/ for the stale-worker alert")
            }
        }
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn span(d: chrono::Duration) -> String {
    let m = d.num_minutes();
    if m < 120 {
        format!("{m}분")
    } else {
        format!("{}시간", m / 60)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use queue_core::task::Source;
    use serde_json::json;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
    }

    fn routine(state_failure: Option<&str>, result: Option<Value>) -> Envelope {
        let mut env: Envelope = serde_json::from_value(json!({
            "schema": 1, "id": "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f", "class": "light",
            "kind": "content-ideation", "created_at": "2026-03-01T00:00:00Z",
            "due_at": "2026-03-01T00:00:00Z", "max_attempts": 3, "attempt": 3,
        }))
        .unwrap();
        env.failure = state_failure.map(str::to_string);
        env.result = result;
        env.source = Some(Source {
            kind: "schedule".into(),
            schedule: Some("content-ideation".into()),
            ..Default::default()
        });
        env
    }

    #[test]
    fn a_dead_lettered_routine_job_alerts_with_its_retry_command() {
        let alerts = for_task(&routine(Some("exit 1: boom"), None), TaskState::Failed);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].cause, "dead-letter:content-ideation");
        assert!(alerts[0].text.contains("boom"), "{}", alerts[0].text);
        assert!(
            alerts[0]
                .text
                .contains("/retry 0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f")
        );
        let mut manual = routine(Some("x"), None);
        manual.source = None;
        assert!(for_task(&manual, TaskState::Failed).is_empty());
        assert!(for_task(&routine(None, None), TaskState::Done).is_empty());
    }

    #[test]
    fn handler_findings_become_alerts_by_cause() {
        let env = routine(
            None,
            Some(json!({"alerts": [
                {"cause": "stuck-lease", "text": "lease expired 10m ago"},
                {"text": ""}, "junk"
            ]})),
        );
        let alerts = for_task(&env, TaskState::Done);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].cause, "content-ideation:stuck-lease");
    }

    #[test]
    fn one_alert_per_cause_per_hour() {
        let m = chrono::Duration::minutes;
        assert!(may_send(None, t0()));
        assert!(!may_send(Some(t0()), t0() + m(59)));
        assert!(may_send(Some(t0()), t0() + m(60)));
        assert!(may_send(Some(t0()), t0() - m(5)), "a clock set back");
    }

    #[test]
    fn only_running_light_workers_silent_past_twice_their_cadence_are_stale() {
        let m = chrono::Duration::minutes;
        let doc = |id: &str, class: Class, running: bool| -> Presence {
            serde_json::from_value(json!({
                "schema": 1, "worker_id": id, "class": class, "host": "vm", "version": "0",
                "pid": 1, "started_at": t0(), "last_seen": t0(),
                "next_heartbeat_by": t0() + m(35), "current_tasks": [], "concurrency": 1,
                "running": running,
            }))
            .unwrap()
        };
        let docs = [
            doc("light-vm", Class::Light, true),
            doc("light-old", Class::Light, false),
            doc("heavy-mac", Class::Heavy, true),
        ];
        assert!(stale_workers(&docs, "heavy-mac", t0() + m(70)).is_empty());
        let stale = stale_workers(&docs, "heavy-mac", t0() + m(71));
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].cause, "stale:light-vm");
        assert!(stale[0].text.contains("71분"), "{}", stale[0].text);
        assert!(stale_workers(&docs, "light-vm", t0() + m(71)).is_empty());
    }
}
