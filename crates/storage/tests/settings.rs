//! Per-user call-service settings (`user_settings`) on every backend (`common::on_sqlite`,
//! `common::on_server`).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::sync::Arc;

use common::{on_server, on_sqlite, sub};
use model::{
    AddressOfRecord, Store, StoreError, UserSettings, FINDME, FORWARD_ALWAYS, FORWARD_NO_ANSWER,
    SCREEN_INCOMING,
};
use storage::{Backend, SqlStore};

async fn exercise(s: Arc<SqlStore>) {
    s.add_domain("example.com").await.unwrap();
    let alice = AddressOfRecord::new("alice", "example.com");
    let bob = AddressOfRecord::new("bob", "example.com");
    for user in ["alice", "bob"] {
        s.add_subscriber(&sub(user, "example.com")).await.unwrap();
    }
    let nobody = AddressOfRecord::new("nobody", "example.com");
    assert!(matches!(
        s.set_setting(&nobody, FORWARD_ALWAYS, "bob@example.com")
            .await,
        Err(StoreError::NotFound { .. })
    ));
    s.set_setting(&alice, FORWARD_ALWAYS, "bob@example.com")
        .await
        .unwrap();
    // Upsert: the second write replaces the first.
    s.set_setting(&alice, FORWARD_ALWAYS, "sip:carol@192.0.2.7:5070")
        .await
        .unwrap();
    s.set_setting(&alice, FORWARD_NO_ANSWER, "20 bob@example.com")
        .await
        .unwrap();
    s.set_setting(&alice, SCREEN_INCOMING, "@spam.example\nanonymous")
        .await
        .unwrap();
    s.set_setting(&bob, FINDME, "sip:desk@192.0.2.4:5060:10\n+15551234:20")
        .await
        .unwrap();
    let rows = s.settings(&alice).await.unwrap();
    assert_eq!(rows.len(), 3);
    let typed = UserSettings::from_rows(rows.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    assert_eq!(
        typed.forwarding.always.as_deref(),
        Some("sip:carol@192.0.2.7:5070")
    );
    assert_eq!(
        typed.forwarding.no_answer,
        Some(("bob@example.com".into(), 20))
    );
    assert_eq!(typed.screening.len(), 2);
    let all = UserSettings::group(s.all_settings().await.unwrap());
    assert_eq!(all.len(), 2);
    assert_eq!(all[&bob].findme.as_ref().unwrap().targets.len(), 2);
    // Domain case does not matter.
    let upper = AddressOfRecord {
        user: "alice".into(),
        domain: "EXAMPLE.COM".into(),
    };
    assert!(s.delete_setting(&upper, FORWARD_ALWAYS).await.unwrap());
    assert!(!s.delete_setting(&alice, FORWARD_ALWAYS).await.unwrap());
    assert_eq!(s.settings(&alice).await.unwrap().len(), 2);
    // Deleting the user deletes its settings.
    s.delete_subscriber(&alice).await.unwrap();
    assert!(s.settings(&alice).await.unwrap().is_empty());
    s.delete_domain("example.com").await.unwrap();
    assert!(s.all_settings().await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_settings() {
    on_sqlite(exercise).await;
}

#[tokio::test]
async fn mariadb_settings() {
    on_server(Backend::MySql, "switchboard_s", exercise).await;
}

#[tokio::test]
async fn postgres_settings() {
    on_server(Backend::Postgres, "switchboard_s", exercise).await;
}
