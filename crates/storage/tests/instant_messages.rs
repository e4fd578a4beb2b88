//! Instant messages kept for offline users on every backend (`common::on_sqlite`,
//! `common::on_server`).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::sync::Arc;

use common::{on_server, on_sqlite, sub};
use model::{AddressOfRecord, ImStore, NewInstantMessage, Store, StoreError};
use storage::{Backend, SqlStore};

fn im(to: &AddressOfRecord, body: &str, at: u64) -> NewInstantMessage {
    NewInstantMessage {
        to: to.clone(),
        from: "\"Alice\" <sip:alice@example.com>".into(),
        content_type: "text/plain;charset=utf-8".into(),
        body: body.into(),
        received_at: at,
    }
}

async fn exercise(s: Arc<SqlStore>) {
    s.add_domain("example.com").await.unwrap();
    let bob = AddressOfRecord::new("bob", "example.com");
    let carol = AddressOfRecord::new("carol", "example.com");
    let nobody = AddressOfRecord::new("nobody", "example.com");
    s.add_subscriber(&sub("bob", "example.com")).await.unwrap();
    s.add_subscriber(&sub("carol", "example.com"))
        .await
        .unwrap();
    assert!(matches!(
        s.store_instant_message(&im(&nobody, "x", 1), 3).await,
        Err(StoreError::NotFound { .. })
    ));
    let first = s
        .store_instant_message(&im(&bob, "one ünïcode", 10), 3)
        .await
        .unwrap();
    let second = s
        .store_instant_message(&im(&bob, "two", 10), 3)
        .await
        .unwrap();
    let third = s
        .store_instant_message(&im(&bob, "three", 5), 3)
        .await
        .unwrap();
    assert!(first < second && second < third);
    // The bound holds in the inserting statement.
    assert!(matches!(
        s.store_instant_message(&im(&bob, "four", 11), 3).await,
        Err(StoreError::Full { .. })
    ));
    s.store_instant_message(&im(&carol, "for carol", 12), 3)
        .await
        .unwrap();
    // In arrival order (ids), whatever the clock said.
    let pending = s.pending_instant_messages(&bob, 100).await.unwrap();
    let bodies: Vec<&str> = pending.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["one ünïcode", "two", "three"]);
    assert_eq!(pending[0].from, "\"Alice\" <sip:alice@example.com>");
    assert_eq!(pending[0].content_type, "text/plain;charset=utf-8");
    assert_eq!(pending[0].attempts, 0);
    assert_eq!(s.pending_instant_messages(&bob, 2).await.unwrap().len(), 2);
    assert_eq!(s.instant_message_count().await.unwrap(), 4);
    assert_eq!(
        s.instant_message_recipients().await.unwrap(),
        [bob.clone(), carol.clone()]
    );
    assert_eq!(s.instant_messages(None).await.unwrap().len(), 4);
    assert_eq!(s.instant_messages(Some(&carol)).await.unwrap().len(), 1);
    // Failed deliveries are counted; delivered ones go.
    assert_eq!(s.instant_message_failed(first).await.unwrap(), Some(1));
    assert_eq!(s.instant_message_failed(first).await.unwrap(), Some(2));
    assert_eq!(s.instant_message_failed(9_999_999).await.unwrap(), None);
    assert!(s.delete_instant_message(first).await.unwrap());
    assert!(!s.delete_instant_message(first).await.unwrap());
    // Purge by age, then by user.
    assert_eq!(s.purge_instant_messages(None, 6).await.unwrap(), 1);
    assert_eq!(
        s.purge_instant_messages(Some(&bob), u64::MAX)
            .await
            .unwrap(),
        1
    );
    assert!(s
        .pending_instant_messages(&bob, 10)
        .await
        .unwrap()
        .is_empty());
    // A user's messages go with the user.
    s.delete_subscriber(&carol).await.unwrap();
    assert_eq!(s.instant_message_count().await.unwrap(), 0);
    s.delete_subscriber(&bob).await.unwrap();
    s.delete_domain("example.com").await.unwrap();
}

#[tokio::test]
async fn sqlite_instant_messages() {
    on_sqlite(exercise).await;
}

#[tokio::test]
async fn mariadb_instant_messages() {
    on_server(Backend::MySql, "switchboard_im", exercise).await;
}

#[tokio::test]
async fn postgres_instant_messages() {
    on_server(Backend::Postgres, "switchboard_im", exercise).await;
}
