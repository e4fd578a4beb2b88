//! Event subscriptions kept across restarts on every backend (`common::on_sqlite`,
//! `common::on_server`).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::sync::Arc;

use common::{on_server, on_sqlite};
use model::{AddressOfRecord, StoredSubscription, SubscriptionStore};
use storage::{Backend, SqlStore};

fn sub(call_id: &str, expires_at: u64, cseq: u32) -> StoredSubscription {
    StoredSubscription {
        package: "dialog".into(),
        call_id: call_id.into(),
        remote_tag: "carol-tag".into(),
        local_tag: "swbd1".into(),
        watched: AddressOfRecord::new("bob", "example.com"),
        watcher: AddressOfRecord::new("carol", "example.com"),
        remote_uri: "sip:carol@example.com".into(),
        contact: "sip:carol@192.0.2.7:5060;transport=udp".into(),
        source: "udp:192.0.2.7:5060".into(),
        expires_at,
        cseq,
        version: 4,
    }
}

async fn exercise(s: Arc<SqlStore>) {
    s.save_subscriptions(&[sub("one", 1000, 3), sub("two", 50, 1)])
        .await
        .unwrap();
    // A refresh replaces the row of its dialog.
    s.save_subscriptions(&[sub("one", 2000, 5)]).await.unwrap();
    // At 100, "two" has ended: it is deleted, "one" comes back as written.
    assert_eq!(
        s.live_subscriptions(100).await.unwrap(),
        [sub("one", 2000, 5)]
    );
    assert!(s.live_subscriptions(100).await.unwrap().len() == 1);
    s.delete_subscription("one", "carol-tag", "swbd1")
        .await
        .unwrap();
    assert!(s.live_subscriptions(100).await.unwrap().is_empty());
    // Deleting what is not there is no error.
    s.delete_subscription("one", "carol-tag", "swbd1")
        .await
        .unwrap();
}

#[tokio::test]
async fn sqlite_subscriptions() {
    on_sqlite(exercise).await;
}

#[tokio::test]
async fn mariadb_subscriptions() {
    on_server(Backend::MySql, "switchboard_subs", exercise).await;
}

#[tokio::test]
async fn postgres_subscriptions() {
    on_server(Backend::Postgres, "switchboard_subs", exercise).await;
}
