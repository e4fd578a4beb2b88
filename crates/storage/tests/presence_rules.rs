//! Presence watcher rules (`presence_rules`, migration 6) on every backend
//! (`common::on_sqlite`, `common::on_server`).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::sync::Arc;

use common::{on_server, on_sqlite, sub};
use model::{AddressOfRecord, PresenceRule, Store, StoreError, WatcherRule};
use storage::{Backend, SqlStore};

async fn exercise(s: Arc<SqlStore>) {
    s.add_domain("example.com").await.unwrap();
    let [alice, bob, carol] =
        ["alice", "bob", "carol"].map(|u| AddressOfRecord::new(u, "example.com"));
    for user in ["alice", "bob", "carol"] {
        s.add_subscriber(&sub(user, "example.com")).await.unwrap();
    }
    let rule = |watched: &AddressOfRecord, watcher: &AddressOfRecord, rule| PresenceRule {
        watched: watched.clone(),
        watcher: watcher.clone(),
        rule,
    };
    let nobody = AddressOfRecord::new("nobody", "example.com");
    assert!(matches!(
        s.set_presence_rule(&rule(&nobody, &alice, WatcherRule::Deny))
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let stranger = AddressOfRecord::new("mallory", "other.example");
    s.set_presence_rule(&rule(&bob, &carol, WatcherRule::Allow))
        .await
        .unwrap();
    s.set_presence_rule(&rule(&bob, &stranger, WatcherRule::Allow))
        .await
        .unwrap();
    s.set_presence_rule(&rule(&alice, &carol, WatcherRule::Deny))
        .await
        .unwrap();
    // A second rule about the same watcher replaces the first.
    s.set_presence_rule(&rule(&bob, &carol, WatcherRule::Deny))
        .await
        .unwrap();
    assert_eq!(
        s.presence_rules(Some(&bob)).await.unwrap(),
        [
            rule(&bob, &carol, WatcherRule::Deny),
            rule(&bob, &stranger, WatcherRule::Allow)
        ]
    );
    assert_eq!(s.presence_rules(None).await.unwrap().len(), 3);
    assert!(s.delete_presence_rule(&bob, &stranger).await.unwrap());
    assert!(!s.delete_presence_rule(&bob, &stranger).await.unwrap());
    // A deleted user's rules go with it.
    s.delete_subscriber(&bob).await.unwrap();
    assert_eq!(
        s.presence_rules(None).await.unwrap(),
        [rule(&alice, &carol, WatcherRule::Deny)]
    );
    s.delete_domain("example.com").await.unwrap();
    assert!(s.presence_rules(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_presence_rules() {
    on_sqlite(exercise).await;
}

#[tokio::test]
async fn mariadb_presence_rules() {
    on_server(Backend::MySql, "switchboard_pr", exercise).await;
}

#[tokio::test]
async fn postgres_presence_rules() {
    on_server(Backend::Postgres, "switchboard_pr", exercise).await;
}
