//! Console benchmark (not a test): `cargo bench -p ingress --bench console`.
//!
//! Server time of the console's pages for a bucket holding `CONSOLE_BENCH_DONE` (default
//! 10,000) done tasks on the local-directory store: the router in-process (tower `oneshot`,
//! no network), a logged-in session, each page requested `CONSOLE_BENCH_RUNS` (default 20)
//! times; prints p50 / p95 / max per page as a markdown table for docs/console.md. The pages
//! of a listing read only their own 50 objects, so a page costs one listing plus 50 reads
//! however many tasks the prefix holds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use ingress::{AppState, Secret};
use queue_core::task::Outcome;
use queue_core::{Bucket, Class, EnqueueRequest, Queue, Settings, SystemClock, TaskId, names};
use serde_json::json;
use tower::ServiceExt;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let done = knob("CONSOLE_BENCH_DONE", 10_000);
    let runs = knob("CONSOLE_BENCH_RUNS", 20);
    let dir = tempfile::tempdir().expect("temp dir");
    let bucket = Bucket::local(dir.path()).expect("local store");
    let queue = Arc::new(Queue::new(
        bucket.clone(),
        Arc::new(SystemClock),
        Settings::default(),
    ));

    // One real task through enqueue, claim and complete; then `done` copies of its done
    // object under fresh ids (what 10,000 finished tasks leave behind).
    queue
        .enqueue(EnqueueRequest::new(
            Class::Light,
            "backup",
            json!({"text": "nightly backup"}),
        ))
        .await
        .unwrap();
    let claimed = queue.claim(Class::Light, "bench").await.unwrap().unwrap();
    queue
        .complete(
            &claimed.lease,
            &claimed.envelope,
            Outcome::Done(json!({"ok": true})),
        )
        .await
        .unwrap();
    let template = queue.find(claimed.envelope.id).await.unwrap().envelope;
    let started = Instant::now();
    let mut rng = rand::rng();
    let mut some_id = template.id;
    for i in 0..done.saturating_sub(1) {
        let at = template.created_at + chrono::Duration::milliseconds(i as i64);
        let mut env = template.clone();
        env.id = TaskId::new_at(at, &mut rng);
        some_id = env.id;
        bucket
            .put(&names::done(Class::Light, env.id), env.to_json())
            .await
            .unwrap();
    }
    eprintln!("wrote {done} done tasks in {:?}", started.elapsed());

    let token = "bench-token";
    let app = ingress::app(AppState::new(queue).with_api_token(Secret::new(token)));
    let login = app
        .clone()
        .oneshot(
            Request::post("/ui/login")
                .header(header::HOST, "127.0.0.1")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("token={token}")))
                .unwrap(),
        )
        .await
        .unwrap();
    let cookie = login.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();

    // the floor: one listing of the done/ prefix, as every count and every page needs
    let mut floor: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let listed = bucket.list("light/done/").await.unwrap();
        floor.push(t.elapsed());
        assert_eq!(listed.len(), done);
    }
    floor.sort();
    eprintln!(
        "one listing of light/done/ ({done} names): p50 {:.1} ms",
        floor[floor.len() / 2].as_secs_f64() * 1000.0
    );

    let last_page = done.div_ceil(50) - 1;
    let pages = [
        ("overview", "/ui?every=0".to_string()),
        (
            "done, first page",
            "/ui/tasks?class=light&state=done".to_string(),
        ),
        (
            "done, last page",
            format!("/ui/tasks?class=light&state=done&page={last_page}"),
        ),
        ("a done task", format!("/ui/tasks/{some_id}")),
        ("quarantine", "/ui/invalid".to_string()),
    ];
    println!("| page ({done} done tasks, local store) | p50 ms | p95 ms | max ms |");
    println!("|---|---:|---:|---:|");
    for (name, path) in pages {
        let mut times: Vec<Duration> = Vec::with_capacity(runs);
        for _ in 0..runs {
            let req = Request::get(&path)
                .header(header::HOST, "127.0.0.1")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap();
            let t = Instant::now();
            let response = app.clone().oneshot(req).await.unwrap();
            let status = response.status();
            let _ = axum::body::to_bytes(response.into_body(), 1 << 26)
                .await
                .unwrap();
            times.push(t.elapsed());
            assert_eq!(status, StatusCode::OK, "{path}");
        }
        times.sort();
        let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
        let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
        println!(
            "| {name} | {} | {} | {} |",
            ms(times[times.len() / 2]),
            ms(p95),
            ms(times[times.len() - 1])
        );
    }
}
