//! object_store's S3 client against moto: the properties queue-core relies on.
//!
//! Needs moto (`scripts/install-test-tools.sh`). One server for the binary, a bucket per test.

mod suite;

use std::net::TcpStream;

use object_store::aws::AmazonS3;
use testkit::moto::MotoServer;

fn store() -> AmazonS3 {
    let moto = MotoServer::shared();
    moto.store(&moto.new_bucket())
}

#[tokio::test]
async fn round_trip() {
    suite::round_trip(&store()).await;
}

#[tokio::test]
async fn create_only_once() {
    suite::create_only_once(&store()).await;
}

#[tokio::test]
async fn update_with_version() {
    suite::update_with_version(&store()).await;
}

#[tokio::test]
async fn racing_creates_have_one_winner() {
    suite::racing_creates_have_one_winner(&store()).await;
}

#[tokio::test]
async fn racing_updates_have_one_winner() {
    suite::racing_updates_have_one_winner(&store()).await;
}

#[tokio::test]
async fn list_prefix_delimiter_and_pages() {
    suite::list_prefix_delimiter_and_pages(&store()).await;
}

#[tokio::test]
async fn copy_if_not_exists() {
    suite::copy_if_not_exists(&store()).await;
}

#[tokio::test]
async fn multipart_upload() {
    suite::multipart_upload(&store()).await;
}

#[test]
fn store_env_names_the_server() {
    let moto = MotoServer::shared();
    let env = moto.store_env();
    let get = |k: &str| {
        env.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("AWS_ENDPOINT_URL"), Some(moto.endpoint().as_str()));
    assert_eq!(get("AWS_REGION"), Some("us-east-1"));
    assert_eq!(get("AWS_ALLOW_HTTP"), Some("true"));
    assert!(get("AWS_ACCESS_KEY_ID").is_some() && get("AWS_SECRET_ACCESS_KEY").is_some());
}

#[test]
fn a_server_of_its_own_stops_when_dropped() {
    let moto = MotoServer::start();
    let port = moto.port();
    assert!(!moto.bucket().is_empty());
    assert_ne!(moto.new_bucket(), moto.bucket());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(moto);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "moto still listens on {port} after drop"
    );
}
