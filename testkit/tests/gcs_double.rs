//! object_store's GCS client against the GCS test double: the same properties as against
//! moto, plus what is GCS's own (generations, error shapes, operation counts).

mod suite;

use bytes::Bytes;
use futures::TryStreamExt;

use object_store::gcp::GoogleCloudStorage;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload, RetryConfig};
use testkit::gcs::{GcsOptions, GcsTestServer, OpCounts};

/// A page size well under [`suite::LISTED`], so that every listing spans pages.
const PAGE: usize = 5;

async fn server() -> GcsTestServer {
    GcsTestServer::start_with(GcsOptions {
        page_size: PAGE,
        ..GcsOptions::default()
    })
    .await
}

async fn store() -> (GcsTestServer, GoogleCloudStorage) {
    let gcs = server().await;
    let store = gcs.store(&gcs.new_bucket());
    (gcs, store)
}

#[tokio::test]
async fn round_trip() {
    let (_gcs, store) = store().await;
    suite::round_trip(&store).await;
}

#[tokio::test]
async fn create_only_once() {
    let (_gcs, store) = store().await;
    suite::create_only_once(&store).await;
}

#[tokio::test]
async fn update_with_version() {
    let (_gcs, store) = store().await;
    suite::update_with_version(&store).await;
}

#[tokio::test]
async fn racing_creates_have_one_winner() {
    let (_gcs, store) = store().await;
    suite::racing_creates_have_one_winner(&store).await;
}

#[tokio::test]
async fn racing_updates_have_one_winner() {
    let (_gcs, store) = store().await;
    suite::racing_updates_have_one_winner(&store).await;
}

#[tokio::test]
async fn list_prefix_delimiter_and_pages() {
    let (gcs, store) = store().await;
    let before = gcs.op_counts();
    suite::list_prefix_delimiter_and_pages(&store).await;
    let lists = gcs.op_counts().since(&before).list;
    // list(dir): 26 names in pages of 5; with a delimiter: 25 entries; then pages of 4; then
    // the 6 names after dir/obj-019.
    let expected = 26_usize.div_ceil(PAGE)
        + 25_usize.div_ceil(PAGE)
        + 26_usize.div_ceil(4)
        + 6_usize.div_ceil(PAGE);
    assert_eq!(lists, expected as u64);
}

#[tokio::test]
async fn copy_if_not_exists() {
    let (_gcs, store) = store().await;
    suite::copy_if_not_exists(&store).await;
}

#[tokio::test]
async fn multipart_upload() {
    let (_gcs, store) = store().await;
    suite::multipart_upload(&store).await;
}

#[tokio::test]
async fn the_version_is_the_generation() {
    let gcs = server().await;
    let bucket = gcs.new_bucket();
    let store = gcs.store(&bucket);
    let p = Path::from("gen/x");
    let first = store.put(&p, PutPayload::from("a")).await.unwrap();
    let live = gcs.generation(&bucket, "gen/x").expect("object exists");
    assert_eq!(first.version, Some(live.to_string()));
    let second = store.put(&p, PutPayload::from("a")).await.unwrap();
    assert_eq!(first.e_tag, second.e_tag, "same bytes, same etag");
    let later: i64 = second.version.unwrap().parse().unwrap();
    assert!(later > live, "generations grow: {later} > {live}");
    assert_eq!(
        store.head(&p).await.unwrap().version,
        Some(later.to_string())
    );
}

#[tokio::test]
async fn an_unknown_bucket_is_not_found() {
    let gcs = server().await;
    let store = gcs.store("no-such-bucket");
    let p = Path::from("x");
    let get = store.get(&p).await;
    assert!(
        matches!(get, Err(object_store::Error::NotFound { .. })),
        "{get:?}"
    );
    let put = store.put(&p, PutPayload::from("x")).await;
    assert!(
        matches!(put, Err(object_store::Error::NotFound { .. })),
        "{put:?}"
    );
    let list: Result<Vec<_>, _> = store.list(None).try_collect().await;
    let err = list.expect_err("listing an unknown bucket fails");
    assert!(err.to_string().contains("NoSuchBucket"), "{err}");
}

#[tokio::test]
async fn failures_carry_gcs_xml_errors() {
    let (_gcs, store) = store().await;
    let p = Path::from("err/x");
    store.put(&p, PutPayload::from("x")).await.unwrap();
    let err = store
        .put_opts(&p, PutPayload::from("y"), PutMode::Create.into())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("412"), "{text}");
    assert!(text.contains("<Code>PreconditionFailed</Code>"), "{text}");
    let err = store.delete(&Path::from("err/missing")).await.unwrap_err();
    assert!(
        matches!(err, object_store::Error::NotFound { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn op_counts_follow_gcs_billing_classes() {
    let (gcs, store) = store().await;
    let p = Path::from("count/x");
    store.put(&p, PutPayload::from("x")).await.unwrap();
    store.head(&p).await.unwrap();
    assert_eq!(
        store.get(&p).await.unwrap().bytes().await.unwrap(),
        Bytes::from("x")
    );
    store.copy(&p, &Path::from("count/y")).await.unwrap();
    let _: Vec<_> = store.list(None).try_collect().await.unwrap();
    store.delete(&p).await.unwrap();
    let counts = gcs.op_counts();
    let expected = OpCounts {
        put: 1,
        copy: 1,
        list: 1,
        multipart: 0,
        get: 1,
        head: 1,
        delete: 1,
    };
    assert_eq!(counts, expected);
    assert_eq!((counts.class_a(), counts.class_b()), (3, 2));
}

#[tokio::test]
async fn emulator_host_is_a_base_url() {
    let gcs = server().await;
    assert_eq!(gcs.emulator_host(), format!("http://{}", gcs.addr));
    assert_eq!(
        gcs.store_env(),
        [("STORAGE_EMULATOR_HOST".to_string(), gcs.emulator_host())]
    );
}

#[tokio::test]
async fn a_stopped_server_refuses_requests() {
    let gcs = server().await;
    let bucket = gcs.new_bucket();
    // without retries: the failure is the point here
    let store = without_retries(&gcs, &bucket);
    let p = Path::from("stop/x");
    store.put(&p, PutPayload::from("x")).await.unwrap();
    gcs.stop().await;
    let after = store.head(&p).await;
    assert!(after.is_err(), "{after:?}");
}

#[tokio::test]
async fn odd_names_round_trip_and_list() {
    let (_gcs, store) = store().await;
    let names = [
        "odd/a b+c=d&e",
        "odd/quote\"<tag>",
        "odd/\u{e9}t\u{e9}",
        "odd/per%cent",
    ];
    for name in names {
        let p = Path::from(name);
        store
            .put(&p, PutPayload::from(name.to_string()))
            .await
            .unwrap();
        let got = store.get(&p).await.unwrap().bytes().await.unwrap();
        assert_eq!(got, Bytes::from(name.to_string()));
    }
    let mut listed: Vec<Path> = store
        .list(Some(&Path::from("odd")))
        .map_ok(|m| m.location)
        .try_collect()
        .await
        .unwrap();
    let mut expected: Vec<Path> = names.iter().map(|n| Path::from(*n)).collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
}

/// GCS answers 429 to a second write to one object name within a second (the wake-up object
/// of issue 12): with the limit on, the double does too, for uploads of any mode; other names
/// are not affected, and after the window the name takes writes again.
#[tokio::test]
async fn a_second_write_to_one_name_within_the_window_is_429() {
    let gcs = GcsTestServer::start_with(GcsOptions {
        write_rate_limit: Some(std::time::Duration::from_millis(300)),
        ..GcsOptions::default()
    })
    .await;
    let bucket = gcs.new_bucket();
    let store = without_retries(&gcs, &bucket);
    let hot = Path::from("light/wake.json");
    store.put(&hot, PutPayload::from("1")).await.unwrap();
    let err = store.put(&hot, PutPayload::from("2")).await.unwrap_err();
    assert!(err.to_string().contains("429"), "{err}");
    store
        .put(&Path::from("light/other.json"), PutPayload::from("x"))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    store.put(&hot, PutPayload::from("3")).await.unwrap();
    let got = store.get(&hot).await.unwrap().bytes().await.unwrap();
    assert_eq!(&got[..], b"3");
}

/// A client of the double without retries: for tests whose point is the failure.
fn without_retries(gcs: &GcsTestServer, bucket: &str) -> GoogleCloudStorage {
    gcs.store_with_retry(
        bucket,
        RetryConfig {
            max_retries: 0,
            ..Default::default()
        },
    )
}
