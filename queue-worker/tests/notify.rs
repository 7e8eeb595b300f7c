//! The Telegram notifier against testkit's fake Bot API server: messages, long results as
//! several messages or a document, and errors that never carry the token.

use queue_worker::notify::{Body, MESSAGE_LIMIT, Notice, Notifier, TelegramNotifier};
use testkit::telegram::FakeBotApi;

const TOKEN: &str = "123456:SECRET-TOKEN";

fn notice(body: Body) -> Notice {
    Notice {
        chat_id: 99,
        reply_to: Some(5),
        body,
    }
}

#[tokio::test]
async fn split_messages_go_out_in_order_replying_with_the_first() {
    let bot = FakeBotApi::start().await;
    let notifier = TelegramNotifier::new(TOKEN, Some(bot.url())).unwrap();
    let parts = vec!["a".repeat(MESSAGE_LIMIT), "b".repeat(10)];
    notifier
        .send(&notice(Body::Text(parts.clone())))
        .await
        .unwrap();
    let calls = bot.wait_for_calls("sendMessage", 2).await;
    assert_eq!(bot.messages_to(99), parts);
    assert_eq!(calls[0].reply_to(), Some(5));
    assert_eq!(calls[1].reply_to(), None);
    assert_eq!(calls[0].token, TOKEN);
}

#[tokio::test]
async fn a_very_long_result_is_sent_as_a_document() {
    let bot = FakeBotApi::start().await;
    let notifier = TelegramNotifier::new(TOKEN, Some(bot.url())).unwrap();
    notifier
        .send(&notice(Body::Document {
            file_name: "analysis-1.txt".into(),
            bytes: b"long text".to_vec(),
            caption: "result".into(),
        }))
        .await
        .unwrap();
    let calls = bot.wait_for_calls("sendDocument", 1).await;
    assert_eq!(calls[0].chat_id(), Some(99));
    assert_eq!(
        calls[0].files[0].file_name.as_deref(),
        Some("analysis-1.txt")
    );
    assert_eq!(&calls[0].files[0].bytes[..], b"long text");
}

#[tokio::test]
async fn errors_are_reported_without_the_token() {
    let bot = FakeBotApi::start().await;
    bot.fail_next("sendMessage", 400, "Bad Request: chat not found");
    let notifier = TelegramNotifier::new(TOKEN, Some(bot.url())).unwrap();
    let err = notifier
        .send(&notice(Body::Text(vec!["hi".into()])))
        .await
        .unwrap_err();
    assert!(err.contains("chat not found"), "{err}");

    // nothing listens on port 9 of loopback: a network error, whose text holds the URL
    let offline = TelegramNotifier::new(TOKEN, Some("http://127.0.0.1:9/")).unwrap();
    let err = offline
        .send(&notice(Body::Text(vec!["hi".into()])))
        .await
        .unwrap_err();
    assert!(!err.contains("SECRET"), "{err}");
}
