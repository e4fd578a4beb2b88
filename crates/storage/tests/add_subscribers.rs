//! `SqlStore::add_subscribers`: batches of 500, one transaction each (SQLite in memory; the
//! server's `user import` end-to-end tests run it on MariaDB and PostgreSQL too).
#![allow(clippy::unwrap_used)]

mod common;

use common::sub;
use model::{Store, StoreError, Subscriber};
use storage::SqlStore;

#[tokio::test]
async fn adds_many_users_batch_by_batch() {
    let s = SqlStore::connect("sqlite::memory:", 1).await.unwrap();
    s.add_domain("example.com").await.unwrap();
    let users: Vec<Subscriber> = (0..1203)
        .map(|i| sub(&format!("u{i:05}"), "Example.COM"))
        .collect();
    assert_eq!(s.add_subscribers(&users).await.unwrap(), 1203);
    let stored = s.subscribers(Some("example.com")).await.unwrap();
    assert_eq!(stored.len(), 1203);
    assert_eq!(stored[0], sub("u00000", "example.com"));
    assert_eq!(s.add_subscribers(&[]).await.unwrap(), 0);

    // A duplicate in the third batch: the first two batches stay, the third writes nothing.
    let more: Vec<Subscriber> = (0..1100)
        .map(|i| sub(&format!("v{i:05}"), "example.com"))
        .chain([sub("u00001", "example.com")])
        .collect();
    let e = s.add_subscribers(&more).await.unwrap_err();
    assert!(matches!(e, StoreError::Duplicate { .. }), "{e:?}");
    assert_eq!(s.subscribers(None).await.unwrap().len(), 1203 + 1000);

    // An unknown domain.
    let e = s
        .add_subscribers(&[sub("w", "nowhere.example")])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
}
