//! Voicemail mailboxes and messages on every backend (`common::on_sqlite`,
//! `common::on_server`).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::sync::Arc;

use common::{on_server, on_sqlite, sub};
use model::{
    hash_pin, AddressOfRecord, Mailbox, MessageCounts, MessageStatus, NewMessage, Store,
    StoreError, VoicemailStore,
};
use storage::{Backend, SqlStore};

fn mailbox(aor: &AddressOfRecord) -> Mailbox {
    Mailbox {
        aor: aor.clone(),
        pin_hash: hash_pin("4711").unwrap(),
        after_secs: 15,
        no_pin_at_home: true,
        greeting: None,
        enabled: true,
    }
}

fn message(at: u64) -> NewMessage {
    NewMessage {
        caller: "\"Bob\" <sip:bob@example.com>".into(),
        received_at: at,
        duration_secs: 3,
        file: format!("/var/lib/switchboard/voicemail/alice/{at}.wav"),
    }
}

async fn exercise(s: Arc<SqlStore>) {
    s.add_domain("example.com").await.unwrap();
    let alice = AddressOfRecord::new("alice", "example.com");
    let nobody = AddressOfRecord::new("nobody", "example.com");
    s.add_subscriber(&sub("alice", "example.com"))
        .await
        .unwrap();
    assert!(matches!(
        s.save_mailbox(&mailbox(&nobody)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.add_message(&alice, &message(1), 5).await,
        Err(StoreError::NotFound { .. })
    ));
    let mut m = mailbox(&alice);
    s.save_mailbox(&m).await.unwrap();
    assert_eq!(s.mailbox(&alice).await.unwrap().as_ref(), Some(&m));
    assert!(s.mailbox(&alice).await.unwrap().unwrap().verify_pin("4711"));
    // Upsert: settings change, messages stay.
    let first = s.add_message(&alice, &message(100), 2).await.unwrap();
    m.enabled = false;
    m.after_secs = 30;
    s.save_mailbox(&m).await.unwrap();
    assert_eq!(s.mailboxes().await.unwrap(), [m.clone()]);
    let second = s.add_message(&alice, &message(50), 2).await.unwrap();
    assert_ne!(first, second);
    // Full: a defined answer, nothing written.
    assert!(matches!(
        s.add_message(&alice, &message(200), 2).await,
        Err(StoreError::Full { .. })
    ));
    assert_eq!(
        s.message_counts(&alice).await.unwrap(),
        MessageCounts { new: 2, old: 0 }
    );
    assert!(s
        .set_message_status(&alice, first, MessageStatus::Saved)
        .await
        .unwrap());
    // Same status again (MySQL reports 0 changed rows) still finds the message.
    assert!(s
        .set_message_status(&alice, first, MessageStatus::Saved)
        .await
        .unwrap());
    assert!(!s
        .set_message_status(&nobody, first, MessageStatus::New)
        .await
        .unwrap());
    let listed = s.messages(&alice).await.unwrap();
    assert_eq!(
        listed.iter().map(|m| m.id).collect::<Vec<_>>(),
        [second, first]
    );
    assert_eq!(listed[0].caller, "\"Bob\" <sip:bob@example.com>");
    assert_eq!(listed[0].received_at, 50);
    assert_eq!(listed[1].status, MessageStatus::Saved);
    assert_eq!(
        s.message_counts(&alice).await.unwrap(),
        MessageCounts { new: 1, old: 1 }
    );
    s.set_greeting(&alice, Some("/g.wav")).await.unwrap();
    s.set_greeting(&alice, Some("/g.wav")).await.unwrap();
    assert_eq!(
        s.mailbox(&alice)
            .await
            .unwrap()
            .unwrap()
            .greeting
            .as_deref(),
        Some("/g.wav")
    );
    assert!(matches!(
        s.set_greeting(&nobody, None).await,
        Err(StoreError::NotFound { .. })
    ));
    let gone = s.delete_message(&alice, second).await.unwrap().unwrap();
    assert_eq!(gone.file, message(50).file);
    assert_eq!(s.delete_message(&alice, second).await.unwrap(), None);
    // Deleting the mailbox takes its messages.
    assert!(s.delete_mailbox(&alice).await.unwrap());
    assert!(!s.delete_mailbox(&alice).await.unwrap());
    assert!(s.messages(&alice).await.unwrap().is_empty());
    // Deleting the user takes its mailbox and messages.
    s.save_mailbox(&mailbox(&alice)).await.unwrap();
    s.add_message(&alice, &message(7), 2).await.unwrap();
    s.delete_subscriber(&alice).await.unwrap();
    assert_eq!(s.mailbox(&alice).await.unwrap(), None);
    assert_eq!(
        s.message_counts(&alice).await.unwrap(),
        MessageCounts::default()
    );
    s.delete_domain("example.com").await.unwrap();
}

#[tokio::test]
async fn sqlite_voicemail() {
    on_sqlite(exercise).await;
}

#[tokio::test]
async fn mariadb_voicemail() {
    on_server(Backend::MySql, "switchboard_vm", exercise).await;
}

#[tokio::test]
async fn postgres_voicemail() {
    on_server(Backend::Postgres, "switchboard_vm", exercise).await;
}
