//! The properties queue-core relies on, checked through a real object_store client against
//! each server: one function per property, called by one test per backend.

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode, PutOptions,
    PutPayload, UpdateVersion,
};

/// Objects written under `dir/` by [`list_prefix_delimiter_and_pages`]: more than a page.
pub const LISTED: usize = 23;

/// Concurrent writers in the race properties.
const RACERS: usize = 8;
/// Rounds of the create race, each on a name of its own.
const CREATE_ROUNDS: usize = 100;

fn path(s: &str) -> Path {
    Path::from(s)
}

fn payload(s: &str) -> PutPayload {
    PutPayload::from(Bytes::from(s.to_string()))
}

async fn read(store: &impl ObjectStore, p: &str) -> Bytes {
    let got = store.get(&path(p)).await;
    got.unwrap_or_else(|e| panic!("get {p}: {e}"))
        .bytes()
        .await
        .unwrap()
}

/// put, get, head, ranged get, conditional get, delete; then NotFound everywhere.
pub async fn round_trip(store: &impl ObjectStore) {
    let p = path("round/trip.json");
    let attributes = Attributes::from_iter([(Attribute::ContentType, "application/json")]);
    let put = store
        .put_opts(&p, payload("{\"a\":1}"), PutOptions::from(attributes))
        .await
        .unwrap();
    assert!(put.e_tag.is_some(), "put answers an etag: {put:?}");

    let got = store.get(&p).await.unwrap();
    assert_eq!(got.meta.size, 7);
    assert_eq!(
        got.attributes
            .get(&Attribute::ContentType)
            .map(|v| v.as_ref()),
        Some("application/json")
    );
    assert_eq!(got.bytes().await.unwrap(), Bytes::from("{\"a\":1}"));

    let head = store.head(&p).await.unwrap();
    assert_eq!(head.size, 7);
    assert_eq!(head.e_tag, put.e_tag);
    assert_eq!(head.version, put.version);

    assert_eq!(
        store.get_range(&p, 1..4).await.unwrap(),
        Bytes::from("\"a\"")
    );
    let tail = store
        .get_opts(
            &p,
            GetOptions {
                range: Some(GetRange::Suffix(2)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(tail.bytes().await.unwrap(), Bytes::from("1}"));

    let unchanged = store
        .get_opts(
            &p,
            GetOptions {
                if_none_match: head.e_tag.clone(),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(unchanged, Err(object_store::Error::NotModified { .. })),
        "{unchanged:?}"
    );

    store.delete(&p).await.unwrap();
    let gone = store.get(&p).await;
    assert!(
        matches!(gone, Err(object_store::Error::NotFound { .. })),
        "{gone:?}"
    );
    let gone = store.head(&p).await;
    assert!(
        matches!(gone, Err(object_store::Error::NotFound { .. })),
        "{gone:?}"
    );
}

/// `PutMode::Create` decides a race: the second create is `AlreadyExists` and changes nothing.
pub async fn create_only_once(store: &impl ObjectStore) {
    let p = path("create/once");
    store
        .put_opts(&p, payload("first"), PutMode::Create.into())
        .await
        .unwrap();
    let second = store
        .put_opts(&p, payload("second"), PutMode::Create.into())
        .await;
    assert!(
        matches!(second, Err(object_store::Error::AlreadyExists { .. })),
        "{second:?}"
    );
    assert_eq!(read(store, "create/once").await, Bytes::from("first"));
}

/// Racing creates of one name: exactly one wins, every other one is `AlreadyExists`.
pub async fn racing_creates_have_one_winner(store: &impl ObjectStore) {
    // Many rounds, not one: a server that checks the precondition and stores without a lock
    // (moto under concurrent requests) lets two racers win only now and then.
    for round in 0..CREATE_ROUNDS {
        let name = format!("race/create/{round}");
        let p = path(&name);
        let racers = (0..RACERS).map(|i| {
            let p = p.clone();
            async move {
                store
                    .put_opts(&p, payload(&format!("racer-{i}")), PutMode::Create.into())
                    .await
            }
        });
        let results = futures::future::join_all(racers).await;
        let winners: Vec<usize> = (0..RACERS).filter(|&i| results[i].is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for r in &results {
            assert!(
                matches!(r, Ok(_) | Err(object_store::Error::AlreadyExists { .. })),
                "{r:?}"
            );
        }
        let expected = format!("racer-{}", winners[0]);
        assert_eq!(read(store, &name).await, Bytes::from(expected));
    }
}

/// Racing compare-and-swaps from one version: exactly one wins, every other one is
/// `Precondition`.
pub async fn racing_updates_have_one_winner(store: &impl ObjectStore) {
    let p = path("race/update");
    store.put(&p, payload("start")).await.unwrap();
    let head = store.head(&p).await.unwrap();
    let racers = (0..RACERS).map(|i| {
        let (p, version) = (
            p.clone(),
            UpdateVersion {
                e_tag: head.e_tag.clone(),
                version: head.version.clone(),
            },
        );
        async move {
            store
                .put_opts(
                    &p,
                    payload(&format!("racer-{i}")),
                    PutMode::Update(version).into(),
                )
                .await
        }
    });
    let results = futures::future::join_all(racers).await;
    let winners: Vec<usize> = (0..RACERS).filter(|&i| results[i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for r in &results {
        assert!(
            matches!(r, Ok(_) | Err(object_store::Error::Precondition { .. })),
            "{r:?}"
        );
    }
    let expected = format!("racer-{}", winners[0]);
    assert_eq!(read(store, "race/update").await, Bytes::from(expected));
}

/// `PutMode::Update` is compare-and-swap: the current version wins, a stale one is
/// `Precondition` and changes nothing.
pub async fn update_with_version(store: &impl ObjectStore) {
    let p = path("update/lease");
    let v1 = store.put(&p, payload("epoch-1")).await.unwrap();
    let head = store.head(&p).await.unwrap();
    let current = UpdateVersion {
        e_tag: head.e_tag,
        version: head.version,
    };
    let v2 = store
        .put_opts(&p, payload("epoch-2"), PutMode::Update(current).into())
        .await
        .unwrap();
    assert_ne!((&v1.e_tag, &v1.version), (&v2.e_tag, &v2.version));

    let stale = UpdateVersion {
        e_tag: v1.e_tag,
        version: v1.version,
    };
    let lost = store
        .put_opts(&p, payload("epoch-3"), PutMode::Update(stale).into())
        .await;
    assert!(
        matches!(lost, Err(object_store::Error::Precondition { .. })),
        "{lost:?}"
    );
    assert_eq!(read(store, "update/lease").await, Bytes::from("epoch-2"));
}

/// Listing by prefix (in name order), with a delimiter, and page by page.
pub async fn list_prefix_delimiter_and_pages<S: ObjectStore + PaginatedListStore>(store: &S) {
    let mut names: Vec<String> = (0..LISTED).map(|i| format!("dir/obj-{i:03}")).collect();
    names.extend(["dir/sub/a", "dir/sub/b", "dir/zzz/c", "dirt", "other/x"].map(String::from));
    for name in &names {
        store.put(&path(name), payload(name)).await.unwrap();
    }
    let under_dir: Vec<String> = names
        .iter()
        .filter(|n| n.starts_with("dir/"))
        .cloned()
        .collect();

    let listed: Vec<String> = store
        .list(Some(&path("dir")))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed, under_dir, "list(dir) in name order");

    let shallow = store.list_with_delimiter(Some(&path("dir"))).await.unwrap();
    let objects: Vec<String> = shallow
        .objects
        .iter()
        .map(|m| m.location.to_string())
        .collect();
    assert_eq!(objects, names[..LISTED].to_vec());
    assert_eq!(shallow.common_prefixes, [path("dir/sub"), path("dir/zzz")]);
    assert!(shallow.objects.iter().all(|m| m.size == 11));

    let mut paged = Vec::new();
    let mut pages = 0;
    let mut token = None;
    loop {
        let opts = PaginatedListOptions {
            max_keys: Some(4),
            page_token: token,
            ..Default::default()
        };
        let page = store.list_paginated(Some("dir/"), opts).await.unwrap();
        assert!(page.result.objects.len() <= 4);
        paged.extend(page.result.objects.iter().map(|m| m.location.to_string()));
        pages += 1;
        token = page.page_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(paged, under_dir, "pages of 4 cover dir/ once, in order");

    let after: Vec<String> = store
        .list_with_offset(Some(&path("dir")), &path("dir/obj-019"))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<String> = under_dir
        .iter()
        .filter(|n| n.as_str() > "dir/obj-019")
        .cloned()
        .collect();
    assert_eq!(after, expected, "list_with_offset starts after the offset");
    assert_eq!(pages, under_dir.len().div_ceil(4));
}

/// `copy_if_not_exists` copies onto a free name and refuses a taken one.
pub async fn copy_if_not_exists(store: &impl ObjectStore) {
    let (src, dst) = (path("copy/src"), path("copy/dst"));
    store.put(&src, payload("payload")).await.unwrap();
    store.copy_if_not_exists(&src, &dst).await.unwrap();
    assert_eq!(read(store, "copy/dst").await, Bytes::from("payload"));

    store.put(&src, payload("changed")).await.unwrap();
    let again = store.copy_if_not_exists(&src, &dst).await;
    assert!(
        matches!(again, Err(object_store::Error::AlreadyExists { .. })),
        "{again:?}"
    );
    assert_eq!(read(store, "copy/dst").await, Bytes::from("payload"));

    store.copy(&src, &dst).await.unwrap();
    assert_eq!(read(store, "copy/dst").await, Bytes::from("changed"));
}

/// A multipart upload of two parts (S3 wants every part but the last to be 5 MiB or more).
pub async fn multipart_upload(store: &impl ObjectStore) {
    let p = path("multi/part");
    let first = vec![b'x'; 5 * 1024 * 1024];
    let mut upload = store.put_multipart(&p).await.unwrap();
    upload
        .put_part(PutPayload::from(first.clone()))
        .await
        .unwrap();
    upload.put_part(payload("tail")).await.unwrap();
    upload.complete().await.unwrap();
    let got = read(store, "multi/part").await;
    assert_eq!(got.len(), first.len() + 4);
    assert_eq!(&got[first.len()..], b"tail");
}
