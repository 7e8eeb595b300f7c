//! Body of the schedule-phrase fuzz target. It uses only `phrases` and `queue_core`, so the
//! phrases crate's tests include this file as it is (`#[path]`) and run it over a corpus on
//! stable.

use queue_core::schedule::Spec;

/// Schedule phrases, cron expressions and durations: never panic; a phrase the bot accepts
/// gives a cron expression the scheduler accepts, and its task text comes from the message.
pub fn schedule_phrase(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = phrases::parse_phrase(&text) {
        assert_eq!(
            m.cron.split_whitespace().count(),
            5,
            "phrase {text:?} gave cron {:?}",
            m.cron
        );
        if let Err(e) = Spec::parse_cron(&m.cron) {
            panic!(
                "phrase {text:?} gave cron {:?} that the scheduler refuses: {e}",
                m.cron
            );
        }
        assert!(
            text.contains(m.rest.as_str()),
            "phrase {text:?} gave a task text not in the message: {:?}",
            m.rest
        );
    }
    if let Ok(m) = phrases::parse_phrase_with(&text, |_| Some((0, 0)))
        && let Err(e) = Spec::parse_cron(&m.cron)
    {
        panic!(
            "phrase {text:?} with a default time gave cron {:?}: {e}",
            m.cron
        );
    }
    let _ = Spec::parse_cron(&text);
    let _ = Spec::parse_every(&text);
    let _ = queue_core::settings::parse_duration(&text);
}
