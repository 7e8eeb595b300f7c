//! `GET /metrics` over real HTTP after real work: tasks enqueued through the API and the
//! webhook (local-directory store, the fake Bot API), then a scrape read back by the strict
//! text-format reader.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ingress::IngressMetrics;
use ingress::metrics::TASK_COUNT_LISTINGS;
use metrics_text::parse::{Scrape, parse};
use queue_core::Bucket;
use serde_json::json;
use testkit::telegram::FakeBotApi;

use crate::common::*;

struct Served {
    h: Harness,
    url: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let (bucket, metrics) = IngressMetrics::counting(&Bucket::local(dir.path()).unwrap());
    let fake = FakeBotApi::builder().token(BOT_TOKEN).start().await;
    let h = Harness::with_fake(fake, bucket, |s| s.with_metrics(metrics));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, h.router.clone()).into_future());
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    Served {
        h,
        url,
        http,
        _dir: dir,
    }
}

impl Served {
    async fn scrape(&self) -> Scrape {
        let response = self
            .http
            .get(format!("{}/metrics", self.url))
            .bearer_auth(API_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let text = response.text().await.unwrap();
        parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    async fn enqueue(&self, body: serde_json::Value) {
        let response = self
            .http
            .post(format!("{}/v1/tasks", self.url))
            .bearer_auth(API_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }

    async fn webhook(&self, update: &serde_json::Value, secret: &str) -> u16 {
        self.http
            .post(format!("{}/telegram/webhook", self.url))
            .header("x-telegram-bot-api-secret-token", secret)
            .json(update)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

#[tokio::test]
async fn a_scrape_after_real_work_shows_the_counts() {
    let s = serve().await;
    for auth in [None, Some("wrong")] {
        let mut req = s.http.get(format!("{}/metrics", s.url));
        if let Some(token) = auth {
            req = req.bearer_auth(token);
        }
        assert_eq!(req.send().await.unwrap().status(), 401, "{auth:?}");
    }
    s.enqueue(json!({"class": "light", "kind": "backup"})).await;
    let keyed = json!({"class": "heavy", "kind": "ocr", "idempotency_key": "k-1"});
    s.enqueue(keyed.clone()).await;
    s.enqueue(keyed).await; // the same task: not a new enqueue
    let update = text_update(700, "브랜드 전략 분석해줘");
    assert_eq!(s.webhook(&update, WEBHOOK_SECRET).await, 200);
    assert_eq!(s.webhook(&update, WEBHOOK_SECRET).await, 200); // redelivery
    assert_eq!(s.webhook(&update, "not-the-secret").await, 401);
    let telegram_class = s.h.task_for(700).await.class;

    let m = s.scrape().await;
    let enq = |class: &str, source: &str| {
        m.sum(
            "bucketq_enqueues_total",
            &[("class", class), ("source", source)],
        )
    };
    assert_eq!(enq("light", "api"), Some(1.0));
    assert_eq!(enq("heavy", "api"), Some(1.0));
    assert_eq!(enq(telegram_class.as_str(), "telegram"), Some(1.0));
    assert_eq!(m.sum("bucketq_enqueues_total", &[]), Some(3.0));
    let hooks = |outcome: &str| m.sum("bucketq_webhook_requests_total", &[("outcome", outcome)]);
    assert_eq!(hooks("ok"), Some(2.0));
    assert_eq!(hooks("unauthorized"), Some(1.0));
    let tasks =
        |class: &str, state: &str| m.sum("bucketq_tasks", &[("class", class), ("state", state)]);
    let heavy_pending = 1.0 + f64::from(u8::from(telegram_class.as_str() == "heavy"));
    assert_eq!(tasks("heavy", "pending"), Some(heavy_pending));
    assert_eq!(tasks("light", "pending"), Some(4.0 - heavy_pending - 1.0));
    assert_eq!(tasks("light", "done"), Some(0.0));
    assert_eq!(m.sum("bucketq_quarantined_objects", &[]), Some(0.0));
    assert_eq!(m.sum("bucketq_task_counts_age_seconds", &[]), Some(0.0));
    // every request the work cost, by GCS class; the scrape's own listings among them
    let ops = |class: &str| m.sum("bucketq_store_operations_total", &[("gcs_class", class)]);
    assert!(
        ops("A").unwrap() >= 3.0 + TASK_COUNT_LISTINGS as f64,
        "{:?}",
        ops("A")
    );
    assert!(ops("B").unwrap() >= 1.0, "{:?}", ops("B"));
    let lists = |m: &Scrape| m.sum("bucketq_store_operations_total", &[("op", "list")]);
    assert!(lists(&m).unwrap() >= TASK_COUNT_LISTINGS as f64);

    // within the minute a scrape lists nothing: the counts come from the cache
    s.enqueue(json!({"class": "light", "kind": "backup"})).await;
    let again = s.scrape().await;
    assert_eq!(lists(&again), lists(&m));
    assert_eq!(
        again.sum("bucketq_enqueues_total", &[("source", "api")]),
        Some(3.0)
    );
    assert_eq!(
        again.sum("bucketq_tasks", &[("class", "light"), ("state", "pending")]),
        tasks("light", "pending")
    );
}

#[tokio::test]
async fn without_an_api_token_there_are_no_metrics() {
    let h = Harness::with(|mut s| {
        s.api_token = None;
        s
    })
    .await;
    let (status, _) = h
        .call(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
