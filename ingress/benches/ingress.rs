//! Ingress benchmark (not a test): `cargo bench -p ingress --bench ingress`.
//!
//! Measures, against the real binary on the local-directory store:
//! 1. time from process start to the first 200 on `GET /healthz` (cold start), over several
//!    runs;
//! 2. webhook latency (p50, p99, max) and throughput for text updates sent by concurrent
//!    clients, each update a new task plus its reply through a fake Bot API on loopback.
//!
//! Prints a markdown table for docs/benchmarks.md (and writes it to `$INGRESS_BENCH_OUT` when
//! set). Knobs: `INGRESS_BENCH_STARTS` (default 10), `INGRESS_BENCH_REQUESTS` (400),
//! `INGRESS_BENCH_CONCURRENCY` (8). Every loop is bounded; all traffic stays on 127.0.0.1.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::telegram::FakeBotApi;
use tokio::process::{Child, Command};

const BOT_TOKEN: &str = "123456:BENCH-token";
const SECRET: &str = "bench-secret";
const CHAT: i64 = 111111111;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn spawn(store: &std::path::Path, port: u16, api_url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ingress"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PORT", port.to_string())
        .env("INGRESS_BIND", "127.0.0.1")
        .env("QUEUE_STORE", store)
        .env("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
        .env("TELEGRAM_WEBHOOK_SECRET", SECRET)
        .env("TELEGRAM_ALLOWED_CHAT_IDS", CHAT.to_string())
        .env("TELEGRAM_API_URL", api_url)
        .env("INGRESS_API_TOKEN", "bench-api-token")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn ingress")
}

async fn stop(mut child: Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
}

/// Start the binary and poll /healthz until the first 200 (bounded: 30 s).
async fn time_to_first_200(http: &reqwest::Client, api_url: &str) -> Duration {
    let store = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let started = Instant::now();
    let child = spawn(store.path(), port, api_url);
    let elapsed = loop {
        if let Ok(r) = http.get(&url).send().await
            && r.status() == 200
        {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no 200 within 30s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    stop(child).await;
    elapsed
}

fn update(id: i64) -> String {
    let text = if id % 2 == 0 {
        "브랜드 전략 분석해줘"
    } else {
        "서버 로그 확인"
    };
    json!({
        "update_id": id,
        "message": {
            "message_id": id,
            "from": {"id": CHAT, "is_bot": false, "first_name": "Bench"},
            "chat": {"id": CHAT, "first_name": "Bench", "type": "private"},
            "date": 1763971200,
            "text": text,
        }
    })
    .to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("ingress benchmark: run it with `cargo bench -p ingress --bench ingress`");
        return;
    }
    let starts = knob("INGRESS_BENCH_STARTS", 10).max(1);
    let requests = knob("INGRESS_BENCH_REQUESTS", 400).max(1);
    let concurrency = knob("INGRESS_BENCH_CONCURRENCY", 8).max(1);
    let fake = FakeBotApi::builder().token(BOT_TOKEN).start().await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");

    // 1. cold start
    let mut start_times = Vec::with_capacity(starts);
    for _ in 0..starts {
        start_times.push(time_to_first_200(&http, fake.url()).await);
    }
    start_times.sort();

    // 2. webhook latency under concurrency
    let store = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let child = spawn(store.path(), port, fake.url());
    let health = format!("http://127.0.0.1:{port}/healthz");
    let t0 = Instant::now();
    while !matches!(http.get(&health).send().await, Ok(r) if r.status() == 200) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "ingress did not start"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let url = Arc::new(format!("http://127.0.0.1:{port}/telegram/webhook"));
    let next = Arc::new(std::sync::atomic::AtomicI64::new(1));
    let wall = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, url, next) = (http.clone(), url.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let id = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if id > requests as i64 {
                    return lat;
                }
                let t = Instant::now();
                let r = http
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .header("x-telegram-bot-api-secret-token", SECRET)
                    .body(update(id))
                    .send()
                    .await
                    .expect("webhook answers");
                assert_eq!(r.status(), 200);
                lat.push(t.elapsed());
            }
        }));
    }
    let mut lat: Vec<Duration> = Vec::with_capacity(requests);
    for w in workers {
        lat.extend(w.await.expect("worker"));
    }
    let wall = wall.elapsed();
    stop(child).await;
    lat.sort();
    let replies = fake.calls_to("sendMessage").len();
    assert_eq!(replies, requests, "one reply per update");

    let cpu = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let table = format!(
        "| measure | value |\n| --- | --- |\n\
         | start → first 200 on /healthz, median of {starts} | {} |\n\
         | start → first 200 on /healthz, worst of {starts} | {} |\n\
         | webhook p50 ({requests} text updates, {concurrency} concurrent clients) | {} |\n\
         | webhook p99 | {} |\n\
         | webhook max | {} |\n\
         | webhook throughput | {:.0} updates/s |\n\n\
         Local-directory store on a temporary directory, fake Bot API on loopback (each update is \
         one new task, its idempotency record and one sendMessage reply), release build, {cpu} \
         cores.\n",
        ms(percentile(&start_times, 0.5)),
        ms(*start_times.last().expect("runs")),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().expect("requests")),
        requests as f64 / wall.as_secs_f64(),
    );
    println!("{table}");
    if let Ok(path) = std::env::var("INGRESS_BENCH_OUT") {
        std::fs::write(&path, &table).expect("write the table");
    }
}
