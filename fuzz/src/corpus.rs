//! Tricky inputs for each fuzz body, and a seeded mutator, for the smoke tests that run the
//! bodies on stable (and to seed cargo-fuzz: `cargo +nightly fuzz run envelope` starts from
//! whatever is in `fuzz/corpus/envelope/`; `tests/smoke.rs` writes these there when asked).
//! Uses only the standard library.

/// A valid envelope, as the queue writes it.
pub const ENVELOPE: &str = r#"{
  "schema": 1,
  "id": "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f",
  "class": "heavy",
  "kind": "content-ideation",
  "payload": {"text": "브랜드 전략 분석해줘", "n": 1.5e300, "deep": [[[{"a": null}]]]},
  "created_at": "2026-11-24T09:00:00Z",
  "due_at": "2026-11-24T09:00:00.123456789Z",
  "attempt": 1,
  "max_attempts": 5,
  "epoch": 18446744073709551615,
  "idempotency_key": "tg-update-42",
  "source": {"kind": "telegram", "chat_id": -1001234567890, "message_id": 7, "update_id": 42, "raw": {"x": 1}, "newer": true},
  "attachments": [{"object": "attachments/x/photo.jpg", "name": "photo.jpg", "size": 12, "future": [1]}],
  "labels": {"rule": "heavy-keywords"},
  "attempts": [{"number": 1, "epoch": 1, "worker": "mbp", "started_at": "2026-11-24T09:00:01Z", "outcome": "retry", "error": "exit 1"}],
  "result": {"ok": true},
  "failure": "dead-lettered",
  "replay_of": "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f",
  "from_the_future": {"kept": "verbatim"}
}"#;

/// A lease record, as the queue writes it.
pub const RECORD: &str = r#"{"schema":1,"epoch":2,"state":"closed","by":"reclaimer","nonce":"00ff",
"at":"2026-11-24T09:00:00Z","next":"pending","envelope":{"schema":1,"id":"0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f",
"class":"light","kind":"k","created_at":"2026-11-24T09:00:00Z","due_at":"2026-11-24T09:00:00Z","max_attempts":1},"x":[]}"#;

pub fn envelope() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = [
        ENVELOPE,
        RECORD,
        "",
        "null",
        "{}",
        "[]",
        "\u{feff}{}",
        r#"{"schema":0,"id":"0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f","class":"heavy","kind":"k","created_at":"2026-11-24T09:00:00Z","due_at":"2026-11-24T09:00:00Z","max_attempts":1}"#,
        r#"{"schema":1,"id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8","class":"heavy","kind":"k","created_at":"2026-11-24T09:00:00Z","due_at":"2026-11-24T09:00:00Z","max_attempts":1}"#,
        r#"{"schema":1,"id":"0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f","class":"medium","kind":"k","created_at":"2026-11-24T09:00:00Z","due_at":"2026-11-24T09:00:00Z","max_attempts":1}"#,
        r#"{"schema":1,"id":"0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f","class":"heavy","kind":"../x","created_at":"2026-11-24T09:00:00Z","due_at":"2026-11-24T09:00:00Z","max_attempts":1}"#,
        r#"{"schema":1,"id":"0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f","class":"heavy","kind":"k","created_at":"+262143-12-31T23:59:59Z","due_at":"-0001-01-01T00:00:00Z","max_attempts":4294967295}"#,
        r#"{"schema":1,"schema":2,"id":"0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f","class":"heavy","kind":"k","created_at":"2026-11-24T09:00:00Z","due_at":"2026-11-24T09:00:00Z","max_attempts":1}"#,
        r#"{"schema":1,"id":"0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f","class":"heavy","kind":"k","created_at":"2026-11-24T09:00:00Z","due_at":"2026-11-24T09:00:00Z","max_attempts":1,"payload":-0.0,"attempt":-1}"#,
        r#"{"schema":1,"id":"0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f","class":"heavy","kind":"k","created_at":"2026-11-24T09:00:00Z","due_at":"2026-11-24T09:00:00Z","max_attempts":1,"payload":"\ud800"}"#,
        r#"{"schema":1,"id":"0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f","class":"heavy","kind":"k","created_at":"2026-11-24T09:00:00Z","due_at":"2026-11-24T09:00:00Z","max_attempts":1,"extra":{"schema":9},"":""}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    out.push(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes());
    out.push(format!(r#"{{"payload":{}1{}}}"#, "[".repeat(200), "]".repeat(200)).into_bytes());
    out.push(vec![0xff, 0xfe, 0x00, b'{']);
    out
}

pub fn names() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = [
        "20261124T090000.000Z_0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f.json",
        "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f/000001.json",
        "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f/18446744073709551616.json",
        "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f/+1.json",
        "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f/.json",
        "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f.json",
        "{0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f}.json",
        " 0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f ",
        "urn:uuid:0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f",
        "0193C1E27A4B7C3D8E9F0A1B2C3D4E5F",
        "99991231T235959.999Z_x.json",
        "20261324T250000.000Z_0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f.json",
        "+100000101T000000.000Z_0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f.json",
        "_.json",
        ".json",
        "/",
        "../etc.json",
        "ｔｇ-update-1",
        "tg-update-42",
        ".hidden",
        "a/b c",
        "",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    out.push("é".repeat(300).into_bytes());
    out.push(vec![0u8; 24]);
    out.push(vec![0xffu8; 24]);
    out.push((0u8..=255).collect());
    out
}

pub fn schedule_phrase() -> Vec<Vec<u8>> {
    [
        "매일 오전 9시 콘텐츠 아이디어 뽑아줘",
        "매일 09:00 백업",
        "매일 오후 6시 30분 정리",
        "매일 18시 반 로그 분석",
        "매일 자정 스냅샷",
        "매일 정오",
        "매주 일요일 자정 진화",
        "월요일마다 오전 10시 회의 준비",
        "평일 오전 9시 뉴스",
        "주말 오전 10시",
        "30분마다 클립보드 백업",
        "매 5분 동기화 확인",
        "매시간",
        "매시 30분",
        "2시간마다",
        "매일 9시",
        "오후 13시",
        "매일 25시",
        "45분마다",
        "61분마다",
        "0분마다",
        "매일 오전 9시 매일 오후 6시",
        "매일 오전 9시쯤",
        "매일 오전 99999999999999999999시",
        "매 99999999999999999999분",
        "매일오전9시",
        "매일 오전 9시에는 보고",
        "매일 오전 9시:",
        "매일 오전",
        "매",
        "",
        "   ",
        "*/5 * * * *",
        "0 0 9 * * *",
        "60 * * * *",
        "* * * * * * *",
        "30s",
        "10m",
        "2h",
        "1h30m",
        "500ms",
        "99999999999999999999h",
        "-1s",
        "매일 오전 9시\u{0}",
        "\u{202e}매일 오전 9시",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

pub fn telegram_update() -> Vec<Vec<u8>> {
    [
        r#"{"update_id":10,"message":{"message_id":5,"date":1700000000,"chat":{"id":42,"type":"private","first_name":"A"},"from":{"id":7,"is_bot":false,"first_name":"A"},"text":"/status@mybot now"}}"#,
        r#"{"update_id":11,"message":{"message_id":6,"date":1700000000,"chat":{"id":42,"type":"private","first_name":"A"},"photo":[{"file_id":"a","file_unique_id":"b","width":90,"height":90,"file_size":100},{"file_id":"c","file_unique_id":"d","width":1280,"height":720}],"caption":"브랜드 분석"}}"#,
        r#"{"update_id":12,"edited_message":{"message_id":5,"date":1700000000,"edit_date":1700000001,"chat":{"id":-100,"type":"group","title":"g"},"text":"x"}}"#,
        r#"{"update_id":13,"channel_post":{"message_id":1,"date":1700000000,"chat":{"id":-1001,"type":"channel","title":"c"},"text":"/"}}"#,
        r#"{"update_id":14,"callback_query":{"id":"1","from":{"id":7,"is_bot":false,"first_name":"A"},"chat_instance":"x","message":{"chat":{"id":99}}}}"#,
        r#"{"update_id":15,"message_reaction":{"chat":{"id":42,"type":"private"},"message_id":1}}"#,
        r#"{"update_id":16,"some_future_update":{"chat":{"id":"not a number"}}}"#,
        r#"{"update_id":9223372036854775807}"#,
        r#"{"update_id":-9223372036854775808,"message":null}"#,
        r#"{"update_id":1.5}"#,
        r#"{"update_id":"1"}"#,
        r#"{"message":{}}"#,
        r#"[{"update_id":1}]"#,
        r#"{"update_id":1,"update_id":2}"#,
        r#"{"update_id":17,"message":{"message_id":5,"date":1700000000,"chat":{"id":42,"type":"private"},"text":"/ＳＴＡＴＵＳ"}}"#,
        "",
        "{",
        "\u{feff}{\"update_id\":1}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// `count` mutations of the inputs (byte flips, truncations, insertions of interesting bytes,
/// splices of two inputs), from a seeded xorshift generator: the same seed, the same inputs.
pub fn mutations(inputs: &[Vec<u8>], count: usize, seed: u64) -> Vec<Vec<u8>> {
    const INTERESTING: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"null",
        b"-",
        b"9999999999999999999999",
        b"1e309",
        b"\\u0000",
        b"\xed\xa0\x80",
        "시".as_bytes(),
        b"_",
        b"/",
        b".json",
    ];
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::with_capacity(count);
    if inputs.is_empty() {
        return out;
    }
    for _ in 0..count {
        let mut v = inputs[next() as usize % inputs.len()].clone();
        let edits = 1 + next() % 4;
        for _ in 0..edits {
            let at = if v.is_empty() {
                0
            } else {
                next() as usize % (v.len() + 1)
            };
            match next() % 5 {
                0 if at < v.len() => v[at] ^= 1 << (next() % 8),
                1 => v.truncate(at),
                2 => {
                    let piece = INTERESTING[next() as usize % INTERESTING.len()];
                    v.splice(at..at, piece.iter().copied());
                }
                3 => {
                    let other = &inputs[next() as usize % inputs.len()];
                    let from = next() as usize % (other.len() + 1);
                    v.truncate(at);
                    v.extend_from_slice(&other[from..]);
                }
                _ if at < v.len() => {
                    v.remove(at);
                }
                _ => {}
            }
        }
        out.push(v);
    }
    out
}
