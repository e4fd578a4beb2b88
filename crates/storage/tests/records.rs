//! Call records on each backend: an answered call written at the answer and again at its
//! end, a failed call, filters, retention, text longer than its column.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{on_server, on_sqlite};
use model::{CallRecord, CdrFilter, CdrStore};
use storage::{Backend, SqlStore};

fn answered_open() -> CallRecord {
    CallRecord {
        id: "run1-1".into(),
        call_id: "c1@192.0.2.7".into(),
        caller: Some("alice@example.com".into()),
        caller_from: "sip:alice@example.com".into(),
        dialled: "sip:bob@example.com".into(),
        translated: "sip:bob@example.com".into(),
        target: "sip:carol@example.com".into(),
        source: "udp:192.0.2.7:5060".into(),
        gateway: None,
        started_ms: 1_700_000_000_000,
        answered_ms: Some(1_700_000_003_000),
        ended_ms: None,
        duration_ms: None,
        status: 200,
        reason: String::new(),
        hangup: None,
        chain: vec![("busy".into(), "sip:carol@example.com".into())],
    }
}

fn failed() -> CallRecord {
    CallRecord {
        id: "run1-2".into(),
        call_id: "c2".into(),
        caller: None,
        caller_from: "sip:stranger@elsewhere.org".into(),
        dialled: "sip:alice@example.com".into(),
        translated: "sip:alice@example.com".into(),
        target: "sip:alice@example.com".into(),
        source: "udp:198.51.100.1:5060".into(),
        started_ms: 1_700_000_100_000,
        ended_ms: Some(1_700_000_100_050),
        status: 480,
        reason: "Temporarily Unavailable".into(),
        ..CallRecord::default()
    }
}

async fn exercise(store: Arc<SqlStore>) {
    // A reference, for the `async move` closure below to copy.
    let s = store.as_ref();
    let open = answered_open();
    s.save_records(&[open.clone(), failed()]).await.unwrap();
    assert_eq!(
        s.records(&CdrFilter::default()).await.unwrap(),
        [open.clone(), failed()]
    );

    // The end replaces the open row; twice in one batch, the last wins.
    let mut ended = open.clone();
    ended.ended_ms = Some(1_700_000_013_000);
    ended.duration_ms = Some(10_000);
    ended.hangup = Some("caller".into());
    s.save_records(&[open.clone(), ended.clone()])
        .await
        .unwrap();
    let all = s.records(&CdrFilter::default()).await.unwrap();
    assert_eq!(all, [ended.clone(), failed()]);

    let by = |f: CdrFilter| async move { s.records(&f).await.unwrap() };
    let alice = Some("alice@example.com".to_string());
    assert_eq!(
        by(CdrFilter {
            user: alice.clone(),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    let carol = Some("carol@example.com".to_string());
    assert_eq!(
        by(CdrFilter {
            user: carol,
            ..Default::default()
        })
        .await,
        [ended.clone()]
    );
    let bob = Some("nobody@example.com".to_string());
    assert!(by(CdrFilter {
        user: bob,
        ..Default::default()
    })
    .await
    .is_empty());
    // A call dialled to an alias (here: bob@, forwarded to carol) is the alias owner's.
    assert_eq!(
        by(CdrFilter {
            user: Some("dave@example.com".to_string()),
            aliases: vec!["bob@example.com".into()],
            ..Default::default()
        })
        .await,
        [ended.clone()]
    );
    assert_eq!(
        by(CdrFilter {
            status: Some(480),
            ..Default::default()
        })
        .await,
        [failed()]
    );
    assert_eq!(
        by(CdrFilter {
            since_ms: Some(1_700_000_050_000),
            ..Default::default()
        })
        .await,
        [failed()]
    );
    assert_eq!(
        by(CdrFilter {
            until_ms: Some(1_700_000_050_000),
            ..Default::default()
        })
        .await,
        [ended.clone()]
    );
    assert_eq!(
        by(CdrFilter {
            limit: Some(1),
            ..Default::default()
        })
        .await,
        [failed()]
    );

    // A domain admin's history: calls from or to their domains only.
    let mut elsewhere = failed();
    elsewhere.id = "run1-9".into();
    elsewhere.dialled = "sip:bob@example.com.evil.org;user=phone".into();
    elsewhere.target = elsewhere.dialled.clone();
    elsewhere.started_ms = 1_699_999_000_000;
    s.save_records(&[elsewhere.clone()]).await.unwrap();
    let domains = |ds: &[&str]| CdrFilter {
        domains: Some(ds.iter().map(|d| d.to_string()).collect()),
        ..Default::default()
    };
    assert_eq!(
        by(domains(&["example.com"])).await,
        [ended.clone(), failed()]
    );
    assert!(
        by(domains(&["elsewhere.org"])).await.is_empty(),
        "an unauthenticated From proves no domain"
    );
    assert!(by(domains(&[])).await.is_empty());
    // Keyset paging, newest first: the page before a row.
    assert_eq!(
        by(CdrFilter {
            before: Some((failed().started_ms, "run1-2".into())),
            limit: Some(1),
            ..Default::default()
        })
        .await,
        [ended.clone()]
    );
    assert_eq!(
        by(CdrFilter {
            before: Some((ended.started_ms, ended.id.clone())),
            ..Default::default()
        })
        .await,
        [elsewhere]
    );
    assert_eq!(s.delete_records_before(1_699_999_500_000).await.unwrap(), 1);

    // A Call-ID longer than its column is cut, not refused.
    let mut long = failed();
    long.id = "run1-3".into();
    long.call_id = "x".repeat(1000);
    s.save_records(&[long]).await.unwrap();
    let got = by(CdrFilter::default()).await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].call_id.len(), 255);

    // Retention.
    assert_eq!(s.delete_records_before(1_700_000_050_000).await.unwrap(), 1);
    assert_eq!(by(CdrFilter::default()).await.len(), 2);
}

#[tokio::test]
async fn sqlite_records() {
    on_sqlite(exercise).await;
}

#[tokio::test]
async fn mariadb_records() {
    on_server(Backend::MySql, "switchboard_cdr", exercise).await;
}

#[tokio::test]
async fn postgres_records() {
    on_server(Backend::Postgres, "switchboard_cdr", exercise).await;
}
