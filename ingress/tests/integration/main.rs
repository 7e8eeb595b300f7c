//! Integration tests of the ingress: the router in-process (tower `oneshot`) and the real
//! binary over HTTP, fed real Telegram update JSON (tests/fixtures), with the fake Bot API
//! from testkit recording replies and serving getFile. One test binary, one module per area.

mod api;
mod binary;
mod commands;
mod common;
mod console;
mod dev_chat;
mod fake_bot_api;
mod followups;
mod metrics;
mod routing;
mod schedules;
mod webhook;
