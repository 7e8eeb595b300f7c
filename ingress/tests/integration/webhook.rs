//! `POST /telegram/webhook` in-process: authentication, parsing, the chat allowlist,
//! idempotency, classification and replies, photos, and the update types we do not model.

use axum::http::StatusCode;
use queue_core::{Class, TaskState};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn missing_or_wrong_secret_is_401_and_creates_nothing() {
    let h = Harness::new().await;
    let body = fixture("text").to_string();
    let (status, err) = h.post_raw(body.clone(), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"]["code"], "unauthorized");
    let (status, _) = h.post_raw(body.clone(), Some("webhook-s3cret_tokem")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = h.post_raw(body, Some("")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(h.pending().await.is_empty());
    assert!(h.fake.calls().is_empty());
}

#[tokio::test]
async fn broken_json_is_400_and_nothing_is_queued() {
    let h = Harness::new().await;
    let (status, err) = h
        .post_raw("{\"update_id\": 1, \"message\": {", Some(WEBHOOK_SECRET))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["code"], "bad_request");
    let (status, _) = h.post_raw("[1,2,3]", Some(WEBHOOK_SECRET)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, err) = h.post_raw("{\"message\": {}}", Some(WEBHOOK_SECRET)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("update_id"),
        "{err}"
    );
    assert!(h.pending().await.is_empty());
    assert!(
        h.queue.bucket().list("").await.unwrap().is_empty(),
        "nothing written at all"
    );
}

#[tokio::test]
async fn oversized_body_is_413_in_the_json_error_shape() {
    let h = Harness::new().await;
    let mut update = fixture("text");
    update["message"]["text"] = "가".repeat(400_000).into(); // ~1.2 MB of UTF-8
    let (status, err) = h.post_raw(update.to_string(), Some(WEBHOOK_SECRET)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err["error"]["code"], "too_large", "{err}");
    assert!(h.pending().await.is_empty());
}

#[tokio::test]
async fn chats_not_allowed_create_nothing_and_get_no_reply() {
    let h = Harness::new().await;
    let update = from_chat(fixture("text"), STRANGER);
    assert_eq!(
        h.post_update(&update).await,
        StatusCode::OK,
        "200 so Telegram does not redeliver"
    );
    let mut reaction = fixture("message_reaction");
    reaction["message_reaction"]["chat"]["id"] = STRANGER.into();
    assert_eq!(h.post_update(&reaction).await, StatusCode::OK);
    assert!(h.pending().await.is_empty());
    assert!(h.queue.bucket().list("keys/").await.unwrap().is_empty());
    assert!(h.fake.calls().is_empty());
}

#[tokio::test]
async fn the_same_update_twice_makes_one_task_and_one_reply() {
    let h = Harness::new().await;
    let update = fixture("text");
    assert_eq!(h.post_update(&update).await, StatusCode::OK);
    assert_eq!(h.post_update(&update).await, StatusCode::OK);
    let tasks = h.pending().await;
    assert_eq!(tasks.len(), 1, "{tasks:#?}");
    assert_eq!(
        tasks[0].idempotency_key.as_deref(),
        Some("tg-update-815736001")
    );
    assert_eq!(
        replies(&h, CHAT, 1).await,
        vec![format!("{OFFLINE}\n\nid: {}", tasks[0].id)],
        "the reply names the task in its footer"
    );
    assert_eq!(h.fake.calls_to("sendMessage").len(), 1);
}

#[tokio::test]
async fn each_default_rule_gives_its_class_rule_and_reply() {
    let h = Harness::new().await;
    let light = "VM 작업 큐에 추가했습니다. 곧 처리됩니다.";
    let cases: [(&str, Class, &str, &str); 10] = [
        ("브랜드 전략 분석해줘", Class::Heavy, "analysis", OFFLINE),
        (
            "2026년 마케팅 전략 수립 부탁해",
            Class::Heavy,
            "strategy",
            OFFLINE,
        ),
        (
            "새 브랜드 아이덴티티 잡아줘",
            Class::Heavy,
            "brand-identity",
            OFFLINE,
        ),
        (
            "내일 오후 3시 치과 일정 등록",
            Class::Light,
            "calendar",
            light,
        ),
        ("어제 배포 로그 확인", Class::Light, "logs", light),
        ("서버 상태 체크", Class::Light, "status-check", light),
        ("원달러 환율 조회", Class::Light, "lookup", light),
        ("다운로드 폴더 파일 정리", Class::Light, "tidy-files", light),
        ("안녕", Class::Heavy, "conversation", OFFLINE),
        (LONG, Class::Heavy, "long-request", OFFLINE),
    ];
    for (i, (text, class, rule, reply)) in cases.iter().enumerate() {
        let id = 1000 + i as i64;
        assert_eq!(
            h.post_update(&text_update(id, text)).await,
            StatusCode::OK,
            "{text}"
        );
        let env = h.task_for(id).await;
        assert_eq!(env.class, *class, "{text}");
        assert_eq!(
            env.labels.get("class_rule").map(String::as_str),
            Some(*rule),
            "{text}"
        );
        assert_eq!(
            env.labels.get("class").map(String::as_str),
            Some(class.as_str())
        );
        let expected_kind = if *class == Class::Heavy {
            "telegram-heavy"
        } else {
            "telegram-light"
        };
        assert_eq!(env.kind, expected_kind);
        assert_eq!(env.payload["text"], json!(text));
        assert_eq!(env.payload["rule"], json!(rule));
        let source = env.source.as_ref().unwrap();
        assert_eq!(
            (source.kind.as_str(), source.chat_id, source.message_id),
            ("telegram", Some(CHAT), Some(4021))
        );
        assert_eq!(
            source.raw.as_ref().unwrap()["update_id"],
            json!(id),
            "raw update kept"
        );
        let sent = replies(&h, CHAT, i + 1).await;
        assert_eq!(sent[i], format!("{reply}\n\nid: {}", env.id), "{text}");
    }
    let calls = h.fake.calls_to("sendMessage");
    assert!(
        calls.iter().all(|c| c.reply_to() == Some(4021)),
        "replies quote the message"
    );
}

const LONG: &str = "이번 분기 콘텐츠 계획을 세우려고 해. 우리 채널의 지난 6개월 데이터를 보면 영상 길이가 짧을수록 완주율이 높고, 댓글은 질문형 제목에서 많이 달렸어. 경쟁 채널 세 곳의 업로드 주기와 주제도 비교해서, 다음 분기에 어떤 주제를 어떤 순서로 올리면 좋을지, 각 주제별로 예상되는 반응과 위험 요소, 필요한 준비물과 촬영 일정까지 표로 정리해 줘. 가능하면 썸네일 문구 후보도 주제마다 세 개씩 제안해 주고, 우리가 놓치고 있는 시청자층이 있다면 그 근거와 함께 알려 줘. 마지막으로 전체 계획을 한 문단으로 요약해 줘.";

#[tokio::test]
async fn heavy_reply_says_processing_while_a_heavy_worker_is_online() {
    let h = Harness::new().await;
    h.worker_online("vm-light-1", Class::Light).await;
    assert_eq!(
        h.post_update(&text_update(1, "브랜드 전략 분석해줘")).await,
        StatusCode::OK
    );
    assert_eq!(
        sentences(&h, CHAT, 1).await[0],
        OFFLINE,
        "a light worker does not count"
    );
    h.worker_online("macbook", Class::Heavy).await;
    assert_eq!(
        h.post_update(&text_update(2, "브랜드 전략 분석해줘")).await,
        StatusCode::OK
    );
    assert_eq!(sentences(&h, CHAT, 2).await[1], "처리 중입니다…");
    // its promised heartbeat is long overdue: offline again
    h.clock.advance(chrono::Duration::minutes(10));
    assert_eq!(
        h.post_update(&text_update(3, "브랜드 전략 분석해줘")).await,
        StatusCode::OK
    );
    assert_eq!(sentences(&h, CHAT, 3).await[2], OFFLINE);
}

#[tokio::test]
async fn replies_follow_the_language_setting() {
    let h = Harness::with(english).await;
    assert_eq!(
        h.post_update(&text_update(1, "brand strategy, analyze it"))
            .await,
        StatusCode::OK
    );
    assert_eq!(
        h.post_update(&text_update(2, "check logs")).await,
        StatusCode::OK
    );
    let sent = sentences(&h, CHAT, 2).await;
    assert_eq!(
        sent[0],
        "Added to the queue. It will run when the MacBook is back."
    );
    assert_eq!(sent[1], "Added to the VM queue; it will run shortly.");
}

#[tokio::test]
async fn a_photo_is_stored_under_attachments_before_the_answer_and_referenced() {
    let h = Harness::new().await;
    let update = fixture("photo");
    assert_eq!(h.post_update(&update).await, StatusCode::OK);
    // fetched the largest of the four sizes
    let get_file = h.fake.calls_to("getFile");
    assert_eq!(get_file.len(), 1);
    assert_eq!(get_file[0].str_param("file_id"), Some(PHOTO_FILE_ID));
    assert_eq!(h.fake.downloads(), vec!["photos/file_7.jpg".to_string()]);
    // stored by the time the webhook answered
    let object = "attachments/tg-update-815736002/photo-AQADlarge1280.jpg";
    let stored = h
        .queue
        .bucket()
        .get(object)
        .await
        .unwrap()
        .expect("photo stored");
    assert_eq!(&stored.bytes[..], PHOTO_BYTES);
    let env = h.task_for(815736002).await;
    assert_eq!(env.class, Class::Heavy);
    assert_eq!(env.labels["class_rule"], "photo");
    assert_eq!(env.attachments.len(), 1);
    assert_eq!(env.attachments[0].object, object);
    assert_eq!(
        env.attachments[0].content_type.as_deref(),
        Some("image/jpeg")
    );
    assert_eq!(env.attachments[0].size, Some(PHOTO_BYTES.len() as u64));
    assert_eq!(
        env.payload["text"],
        json!("이 로고 어때?"),
        "the caption is the text"
    );
    assert_eq!(env.payload["attachments"], json!([object]));
    assert_eq!(sentences(&h, CHAT, 1).await, vec![OFFLINE.to_string()]);

    // a redelivery neither downloads again nor replies again
    assert_eq!(h.post_update(&update).await, StatusCode::OK);
    assert_eq!(h.fake.downloads().len(), 1);
    assert_eq!(h.fake.calls_to("sendMessage").len(), 1);
    assert_eq!(h.pending().await.len(), 1);
}

#[tokio::test]
async fn a_photo_telegram_cannot_serve_is_queued_without_it_and_said_so() {
    let h = Harness::new().await;
    h.fake
        .fail_next("getFile", 400, "Bad Request: file is too big");
    assert_eq!(h.post_update(&fixture("photo")).await, StatusCode::OK);
    let env = h.task_for(815736002).await;
    assert!(env.attachments.is_empty());
    assert!(
        env.labels["attachment_error"].contains("file is too big"),
        "{:?}",
        env.labels
    );
    let sent = sentences(&h, CHAT, 1).await;
    assert_eq!(
        sent[0],
        format!("{OFFLINE}\n사진을 가져오지 못해 사진 없이 추가했습니다.")
    );
}

#[tokio::test]
async fn edited_messages_create_nothing_by_default() {
    let h = Harness::new().await;
    assert_eq!(
        h.post_update(&fixture("edited_message")).await,
        StatusCode::OK
    );
    assert!(h.pending().await.is_empty());
    assert!(h.fake.calls().is_empty());
}

#[tokio::test]
async fn an_allowed_channel_post_is_classified_and_answered_in_the_channel() {
    let h = Harness::new().await;
    assert_eq!(
        h.post_update(&fixture("channel_post")).await,
        StatusCode::OK
    );
    let env = h.task_for(815736005).await;
    assert_eq!(env.class, Class::Light);
    assert_eq!(env.labels["class_rule"], "logs");
    assert!(
        env.payload.get("from").is_none(),
        "channel posts have no sender"
    );
    let sent = sentences(&h, CHANNEL, 1).await;
    assert_eq!(
        sent,
        vec!["VM 작업 큐에 추가했습니다. 곧 처리됩니다.".to_string()]
    );
}

#[tokio::test]
async fn an_update_type_we_do_not_model_is_kept_raw_with_unknown_fields() {
    let h = Harness::new().await;
    let update = fixture("message_reaction");
    assert_eq!(h.post_update(&update).await, StatusCode::OK);
    assert_eq!(h.post_update(&update).await, StatusCode::OK);
    let tasks = h.in_state(Class::Light, TaskState::Pending).await;
    assert_eq!(tasks.len(), 1);
    let env = &tasks[0];
    assert_eq!(env.kind, "telegram-update");
    assert_eq!(env.labels["class_rule"], "other-update");
    assert_eq!(env.labels["update_type"], "message_reaction");
    assert_eq!(
        env.source.as_ref().unwrap().raw.as_ref(),
        Some(&update),
        "raw update kept verbatim"
    );
    assert_eq!(
        env.source.as_ref().unwrap().raw.as_ref().unwrap()["message_reaction"]["field_from_a_newer_bot_api"],
        json!({"kept": true})
    );
    assert!(h.fake.calls().is_empty(), "no reply to a reaction");
}

#[tokio::test]
async fn unknown_fields_of_a_message_survive_in_the_envelope() {
    let h = Harness::new().await;
    let mut update = text_update(77, "서버 상태 체크");
    update["message"]["a_field_added_next_year"] = json!({"nested": [1, 2]});
    assert_eq!(h.post_update(&update).await, StatusCode::OK);
    let env = h.task_for(77).await;
    assert_eq!(env.source.unwrap().raw.unwrap(), update);
}

#[tokio::test]
async fn the_webhook_is_not_routed_without_telegram() {
    let h = Harness::with(|mut s| {
        s.telegram = None;
        s
    })
    .await;
    let (status, err) = h
        .post_raw(fixture("text").to_string(), Some(WEBHOOK_SECRET))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_reply_telegram_refuses_does_not_fail_the_update() {
    let h = Harness::new().await;
    h.fake
        .fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user");
    assert_eq!(
        h.post_update(&text_update(5, "로그 확인")).await,
        StatusCode::OK
    );
    assert_eq!(h.pending().await.len(), 1);
}

#[tokio::test]
async fn a_custom_rules_file_changes_classes_and_kinds() {
    let rules = ingress::Rules::parse(
        "[settings]\ndefault_class = 'heavy'\nheavy_kind = 'agent'\n\n[[rule]]\nname = 'ping'\nclass = 'light'\nkind = 'ping'\ncontains_any = ['핑']\n",
        "custom.toml",
    )
    .unwrap();
    let h = Harness::with(move |s| s.with_rules(rules)).await;
    assert_eq!(
        h.post_update(&text_update(1, "핑 핑")).await,
        StatusCode::OK
    );
    assert_eq!(
        h.post_update(&text_update(2, "서버 로그 확인")).await,
        StatusCode::OK
    );
    let ping = h.task_for(1).await;
    assert_eq!(
        (
            ping.class,
            ping.kind.as_str(),
            ping.labels["class_rule"].as_str()
        ),
        (Class::Light, "ping", "ping")
    );
    let other = h.task_for(2).await;
    assert_eq!(
        (
            other.class,
            other.kind.as_str(),
            other.labels["class_rule"].as_str()
        ),
        (Class::Heavy, "agent", "default")
    );
}
