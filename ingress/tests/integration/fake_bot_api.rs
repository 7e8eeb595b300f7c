//! The fake Bot API (testkit::telegram) answers teloxide-core the way Telegram does: these
//! tests call it through teloxide itself, JSON and multipart requests alike.

use serde_json::json;
use teloxide_core::net::Download;
use teloxide_core::payloads::{SendDocumentSetters, SendMessageSetters, SetWebhookSetters};
use teloxide_core::requests::{Request, Requester};
use teloxide_core::types::{AllowedUpdate, ChatId, InputFile, MessageId, ReplyParameters};
use testkit::telegram::FakeBotApi;

fn bot(fake: &FakeBotApi, token: &str) -> teloxide_core::Bot {
    let client = teloxide_core::net::default_reqwest_settings()
        .no_proxy()
        .build()
        .unwrap();
    teloxide_core::Bot::with_client(token, client).set_api_url(fake.url().parse().unwrap())
}

#[tokio::test]
async fn send_message_is_recorded_and_its_answer_parses() {
    let fake = FakeBotApi::start().await;
    let bot = bot(&fake, "42:abc");
    let sent = bot
        .send_message(ChatId(111), "안녕하세요")
        .reply_parameters(ReplyParameters::new(MessageId(9)))
        .send()
        .await
        .expect("teloxide parses the answer");
    assert_eq!(sent.chat.id, ChatId(111));
    assert_eq!(sent.text(), Some("안녕하세요"));
    let group = bot
        .send_message(ChatId(-100555), "hi")
        .send()
        .await
        .unwrap();
    assert_eq!(group.chat.id, ChatId(-100555));
    let calls = fake.wait_for_calls("sendMessage", 2).await;
    assert_eq!(calls[0].token, "42:abc");
    assert_eq!(calls[0].chat_id(), Some(111));
    assert_eq!(calls[0].text(), Some("안녕하세요"));
    assert_eq!(calls[0].reply_to(), Some(9));
    assert_eq!(fake.messages_to(-100555), vec!["hi".to_string()]);
}

#[tokio::test]
async fn send_document_multipart_is_recorded_with_its_file() {
    let fake = FakeBotApi::start().await;
    let bot = bot(&fake, "42:abc");
    let msg = bot
        .send_document(
            ChatId(7),
            InputFile::memory(&b"report body"[..]).file_name("report.md"),
        )
        .caption("결과")
        .send()
        .await
        .expect("parses");
    assert_eq!(
        msg.document().unwrap().file_name.as_deref(),
        Some("report.md")
    );
    let call = &fake.wait_for_calls("sendDocument", 1).await[0];
    assert_eq!(call.chat_id(), Some(7));
    assert_eq!(call.str_param("caption"), Some("결과"));
    assert_eq!(call.files.len(), 1);
    let file = call.file("document").expect("the document part");
    assert_eq!(file.file_name.as_deref(), Some("report.md"));
    assert_eq!(&file.bytes[..], b"report body");
}

#[tokio::test]
async fn get_file_and_download_serve_the_file_table() {
    let fake = FakeBotApi::start().await;
    fake.add_file("file-1", "photos/file_1.jpg", &b"jpeg!"[..]);
    let bot = bot(&fake, "42:abc");
    let file = bot
        .get_file("file-1".to_string().into())
        .send()
        .await
        .unwrap();
    assert_eq!(file.path, "photos/file_1.jpg");
    assert_eq!(file.meta.size, 5);
    let mut out = Vec::new();
    bot.download_file(&file.path, &mut out).await.unwrap();
    assert_eq!(out, b"jpeg!");
    assert_eq!(fake.downloads(), vec!["photos/file_1.jpg".to_string()]);
    let missing = bot.get_file("nope".to_string().into()).send().await;
    assert!(missing.is_err());
}

#[tokio::test]
async fn set_webhook_and_get_me() {
    let fake = FakeBotApi::builder()
        .bot_username("queue_bot")
        .start()
        .await;
    let bot = bot(&fake, "42:abc");
    let me = bot.get_me().send().await.unwrap();
    assert_eq!(me.username(), "queue_bot");
    bot.set_webhook("https://example.invalid/telegram/webhook".parse().unwrap())
        .secret_token("s3cret")
        .allowed_updates([AllowedUpdate::Message, AllowedUpdate::ChannelPost])
        .drop_pending_updates(true)
        .send()
        .await
        .unwrap();
    let call = &fake.wait_for_calls("setWebhook", 1).await[0];
    assert_eq!(
        call.str_param("url"),
        Some("https://example.invalid/telegram/webhook")
    );
    assert_eq!(call.str_param("secret_token"), Some("s3cret"));
    assert_eq!(
        call.param("allowed_updates"),
        Some(&json!(["message", "channel_post"]))
    );
    assert_eq!(call.param("drop_pending_updates"), Some(&json!(true)));
}

#[tokio::test]
async fn a_fixed_token_refuses_others_and_scripted_failures_fire_once() {
    let fake = FakeBotApi::builder().token("1:right").start().await;
    assert!(bot(&fake, "1:wrong").get_me().send().await.is_err());
    let good = bot(&fake, "1:right");
    fake.fail_next("SendMessage", 429, "Too Many Requests: retry after 1");
    assert!(good.send_message(ChatId(1), "a").send().await.is_err());
    assert!(good.send_message(ChatId(1), "b").send().await.is_ok());
    assert_eq!(fake.calls_to("sendMessage").len(), 2);
}
