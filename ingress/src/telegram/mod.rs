//! The Telegram front door.
//!
//! - [`webhook`]   — the route: secret check, JSON parse, chat allowlist, dispatch.
//! - [`update`]    — what an update is for us (teloxide-core types for what we model).
//! - [`request`]   — a message asking for work: classify, store the photo, enqueue, reply.
//! - [`photo`]     — getFile, download, store under `attachments/`.
//! - [`recurring`] — a message defining a recurring time becomes a schedule.
//! - [`commands`]  — /status, /tasks, /result, /retry, /cancel, /schedules, /unschedule, /help.
//! - [`outcome`]   — a task's result for the chat: `/result`, the `id:` footer that maps a bot
//!   message to its task, and the `context` a follow-up reply carries.
//! - [`bot`]       — the Bot API client behind a small trait (teloxide-core).
//! - [`register`]  — `ingress set-webhook`: setWebhook with the secret and update types.

pub mod bot;
pub mod commands;
pub mod outcome;
pub mod photo;
pub mod recurring;
pub mod register;
pub mod request;
pub mod update;
pub mod webhook;
