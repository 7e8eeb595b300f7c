//! The dev chat over real HTTP on loopback: a message typed in the page goes through the real
//! webhook, the ingress's reply comes back through the built-in Bot API, and a photo is
//! fetched from it with getFile and the file download.

use std::sync::Arc;

use ingress::console::chat::{DevChat, Who};
use ingress::{AppState, Secret};
use queue_core::{Bucket, Class, Queue, Settings, SystemClock, TaskState, inspect};

const TOKEN: &str = "chat-token";
const BOUNDARY: &str = "XbucketqX";

fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, bytes) in fields {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let file = file.map_or(String::new(), |f| format!("; filename=\"{f}\""));
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn a_chat_message_goes_through_the_webhook_and_the_reply_is_recorded() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let chat = Arc::new(DevChat::new(&base, Secret::new("hook-secret")));
    let queue = Arc::new(Queue::new(
        Bucket::memory(),
        Arc::new(SystemClock),
        Settings::default(),
    ));
    let state = AppState::new(queue.clone())
        .with_api_token(Secret::new(TOKEN))
        .with_telegram(chat.telegram_state().unwrap())
        .with_dev_chat(chat.clone());
    tokio::spawn(ingress::serve(listener, state, std::future::pending()));

    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http
        .post(format!("{base}/ui/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={TOKEN}"))
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .expect("a session cookie");
    let page = http
        .get(format!("{base}/ui/chat"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = page.find(r#"name="csrf" value=""#).unwrap() + 19;
    let csrf = page[at..at + 64].to_string();
    let send = |fields: Vec<u8>| {
        http.post(format!("{base}/ui/chat"))
            .header("cookie", &cookie)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(fields)
            .send()
    };

    // without the CSRF token nothing is sent
    let refused = send(multipart(&[("text", None, "안녕".as_bytes())]))
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(chat.entries().is_empty());

    let sent = send(multipart(&[
        ("csrf", None, csrf.as_bytes()),
        ("text", None, "서버 상태 확인해줘".as_bytes()),
    ]))
    .await
    .unwrap();
    assert_eq!(sent.status(), 303);
    let log = chat.entries();
    let whos: Vec<Who> = log.iter().map(|e| e.who).collect();
    assert_eq!(whos, [Who::You, Who::Bot, Who::System], "{log:?}");
    assert!(
        log[1].html.contains("VM"),
        "the Korean reply: {}",
        log[1].html
    );
    assert!(
        log[2]
            .html
            .contains("classified <strong class=\"route\">light</strong>")
    );
    let pending = inspect::list_tasks(queue.bucket(), Class::Light, TaskState::Pending)
        .await
        .unwrap();
    let source = pending[0]
        .envelope
        .as_ref()
        .unwrap()
        .source
        .clone()
        .unwrap();
    assert_eq!(source.chat_id, Some(1000));

    // a photo: the ingress fetches it back from the built-in Bot API
    let jpeg: &[u8] = b"\xff\xd8\xff\xe0 a tiny jpeg";
    let sent = send(multipart(&[
        ("csrf", None, csrf.as_bytes()),
        ("text", None, "이 사진 봐줘".as_bytes()),
        ("photo", Some("cat.jpg"), jpeg),
    ]))
    .await
    .unwrap();
    assert_eq!(sent.status(), 303);
    let heavy = inspect::list_tasks(queue.bucket(), Class::Heavy, TaskState::Pending)
        .await
        .unwrap();
    let env = heavy[0].envelope.clone().unwrap();
    assert_eq!(env.attachments.len(), 1, "{env:?}");
    let stored = queue
        .bucket()
        .get(&env.attachments[0].object)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&stored.bytes[..], jpeg);
}
