//! phrases: the schedule phrases people type to the bot or to `queuectl schedules add --phrase`,
//! and the next-run texts they read back. queue-core keeps what a schedule *is* (specs, slots,
//! the scheduler); this crate is presentation for people, next to its users (ingress, queuectl).
//!
//! Map of the crate:
//!
//! - [`phrase`] — the Korean phrase parser ("매일 오전 9시 …" → `0 9 * * *` + the task text),
//!   with a caller-chosen time for phrases that name days but no time ("매주 일요일 시스템 진화").
//! - [`render`] — a schedule's next run in its zone and UTC ("3월 10일 (화) 오전 9시 (KST)").
//! - [`PhraseError`] — why a phrase was refused, in Korean and in English.

pub mod phrase;
pub mod render;

pub use crate::phrase::{
    PhraseMatch, korean_time, looks_like_schedule, parse_phrase, parse_phrase_with,
};
pub use crate::render::{NextRun, next_run};

/// A phrase that is not understood, said in both languages the bot speaks. Never guessed: the
/// person is told what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ko} / {en}")]
pub struct PhraseError {
    /// The reason in Korean.
    pub ko: String,
    /// The reason in English.
    pub en: String,
}

impl PhraseError {
    /// A refusal with both texts.
    pub fn new(ko: impl std::fmt::Display, en: impl std::fmt::Display) -> Self {
        PhraseError {
            ko: ko.to_string(),
            en: en.to_string(),
        }
    }
}

/// What the parser answers.
pub type Result<T, E = PhraseError> = std::result::Result<T, E>;
