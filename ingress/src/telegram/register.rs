//! `ingress set-webhook`: tell Telegram where to deliver updates, with the secret it must send
//! back and the update types we handle, and register the command menu.

use teloxide_core::types::AllowedUpdate;
use url::Url;

use super::bot::{BotError, TeloxideBot};
use crate::reply::Lang;
use crate::secret::Secret;

/// The update types the ingress asks for: new and edited messages and channel posts.
pub fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::EditedMessage,
        AllowedUpdate::ChannelPost,
        AllowedUpdate::EditedChannelPost,
    ]
}

/// What [`register`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The bot's @username (from getMe).
    pub username: String,
    /// The webhook URL set.
    pub url: Url,
}

/// getMe (checks the token), setWebhook, setMyCommands.
pub async fn register(
    bot: &TeloxideBot,
    url: Url,
    secret: &Secret,
    drop_pending: bool,
    lang: Lang,
) -> Result<Registered, BotError> {
    let username = bot.username().await?;
    bot.set_webhook(url.clone(), secret, allowed_updates(), drop_pending)
        .await?;
    bot.set_commands(lang.command_menu()).await?;
    Ok(Registered { username, url })
}
