//! One test body, run on SQLite always and on MariaDB and PostgreSQL when their URLs are set
//! (`eval "$(scripts/dbs.sh)"`). With `SWITCHBOARD_REQUIRE_DBS=1` a missing URL fails.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::path::PathBuf;

use common::{run_then, scratch_database, sub, unique, Scratch};
use model::{
    AddressOfRecord, Alias, Binding, CallClass, Gateway, GatewayTransport, PstnStore, Route, Store,
    StoreError, TrustedPeer,
};
use sqlx::Connection;
use storage::{Backend, SqlStore};

fn binding(aor: &AddressOfRecord, contact: &str, expires_at: u64) -> Binding {
    Binding {
        aor: aor.clone(),
        contact: contact.to_string(),
        q: 500,
        expires_at,
        call_id: "call-1@192.0.2.1".into(),
        cseq: 1,
        source: "udp:192.0.2.1:5060".into(),
        path: vec![
            "<sip:edge1.example.com;lr>".into(),
            "<sip:edge2.example.com;lr>".into(),
        ],
        user_agent: "Test Phone/1.0".into(),
        node: "node-a".into(),
        flow: None,
    }
}

/// Everything the registrar and the admin tools rely on, on one store.
async fn exercise(s: &SqlStore) {
    let name = s.backend_name();
    eprintln!("testing {name}");
    assert_eq!(s.schema_version().await.unwrap(), 8);
    exercise_pstn(s).await;

    // Domains.
    s.add_domain("Example.COM").await.unwrap();
    s.add_domain("other.org").await.unwrap();
    assert_eq!(s.domains().await.unwrap(), ["example.com", "other.org"]);
    assert!(matches!(
        s.add_domain("example.com").await,
        Err(StoreError::Duplicate { .. })
    ));
    assert!(matches!(
        s.delete_domain("nowhere.net").await,
        Err(StoreError::NotFound { .. })
    ));

    // Subscribers.
    let alice = sub("alice", "example.com");
    s.add_subscriber(&alice).await.unwrap();
    assert!(matches!(
        s.add_subscriber(&alice).await,
        Err(StoreError::Duplicate { .. })
    ));
    assert!(matches!(
        s.add_subscriber(&sub("x", "nowhere.net")).await,
        Err(StoreError::NotFound { .. })
    ));
    // User parts are case-sensitive: Alice is somebody else.
    s.add_subscriber(&sub("Alice", "example.com"))
        .await
        .unwrap();
    s.add_subscriber(&sub("carol", "other.org")).await.unwrap();
    assert_eq!(s.subscriber(&alice.aor).await.unwrap(), Some(alice.clone()));
    assert_eq!(
        s.subscriber(&AddressOfRecord::new("alice", "EXAMPLE.com"))
            .await
            .unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        s.subscriber(&AddressOfRecord::new("nobody", "example.com"))
            .await
            .unwrap(),
        None
    );
    let mut changed = alice.clone();
    changed.ha1_md5 = "new-md5".into();
    s.update_subscriber(&changed).await.unwrap();
    s.update_subscriber(&changed).await.unwrap(); // unchanged row: still found
    assert_eq!(s.subscriber(&alice.aor).await.unwrap(), Some(changed));
    assert!(matches!(
        s.update_subscriber(&sub("nobody", "example.com")).await,
        Err(StoreError::NotFound { .. })
    ));
    let users: Vec<String> = s
        .subscribers(Some("EXAMPLE.com"))
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.aor.user)
        .collect();
    assert_eq!(users.len(), 2);
    assert!(users.contains(&"alice".to_string()) && users.contains(&"Alice".to_string()));
    assert_eq!(s.subscribers(None).await.unwrap().len(), 3);

    // Aliases.
    let did = AddressOfRecord::new("15551234", "example.com");
    let alias = Alias {
        alias: did.clone(),
        target: alice.aor.clone(),
    };
    s.add_alias(&alias).await.unwrap();
    assert_eq!(
        s.resolve_alias(&did).await.unwrap(),
        Some(alice.aor.clone())
    );
    assert_eq!(
        s.resolve_alias(&AddressOfRecord::new("999", "example.com"))
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        s.add_alias(&alias).await,
        Err(StoreError::Duplicate { .. })
    ));
    let shadowing = Alias {
        alias: AddressOfRecord::new("carol", "other.org"),
        target: alice.aor.clone(),
    };
    assert!(matches!(
        s.add_alias(&shadowing).await,
        Err(StoreError::Duplicate { .. })
    ));
    let dangling = Alias {
        alias: AddressOfRecord::new("help", "example.com"),
        target: AddressOfRecord::new("nobody", "example.com"),
    };
    assert!(matches!(
        s.add_alias(&dangling).await,
        Err(StoreError::NotFound { .. })
    ));
    let sales = AddressOfRecord::new("sales", "other.org");
    s.add_alias(&Alias {
        alias: sales.clone(),
        target: alice.aor.clone(),
    })
    .await
    .unwrap();
    assert_eq!(
        s.aliases(Some("example.com")).await.unwrap(),
        std::slice::from_ref(&alias)
    );
    assert_eq!(s.aliases(None).await.unwrap().len(), 2);
    s.delete_alias(&sales).await.unwrap();
    assert!(matches!(
        s.delete_alias(&sales).await,
        Err(StoreError::NotFound { .. })
    ));

    // Bindings: upsert, expiry filter, purge, delete.
    let b1 = binding(&alice.aor, "sip:alice@192.0.2.1:5060;transport=udp", 1_000);
    s.save_binding(&b1).await.unwrap();
    let mut refreshed = b1.clone();
    refreshed.expires_at = 2_000;
    refreshed.cseq = 2;
    refreshed.path.clear();
    refreshed.q = 1000;
    s.save_binding(&refreshed).await.unwrap();
    assert_eq!(
        s.bindings(Some(&alice.aor), 0).await.unwrap(),
        [refreshed.clone()]
    );
    let b2 = binding(&alice.aor, "sip:alice@198.51.100.7", 500);
    s.save_binding(&b2).await.unwrap();
    assert_eq!(
        s.bindings(Some(&alice.aor), 499).await.unwrap(),
        [refreshed.clone(), b2.clone()]
    );
    assert_eq!(s.bindings(Some(&alice.aor), 500).await.unwrap().len(), 1);
    assert_eq!(s.bindings(None, 2_000).await.unwrap().len(), 0);
    assert_eq!(s.purge_expired(500).await.unwrap(), 1);
    assert_eq!(s.bindings(Some(&alice.aor), 0).await.unwrap().len(), 1);
    s.delete_binding(&alice.aor, &b1.contact).await.unwrap();
    s.delete_binding(&alice.aor, &b1.contact).await.unwrap(); // missing is fine
    assert!(s.bindings(None, 0).await.unwrap().is_empty());
    let too_long = binding(&alice.aor, &format!("sip:{}@x", "a".repeat(600)), 10);
    assert!(matches!(
        s.save_binding(&too_long).await,
        Err(StoreError::Invalid { .. })
    ));

    // Batch write-behind: 10,000 bindings in one call, then again as an update.
    let carol = AddressOfRecord::new("carol", "other.org");
    let mut batch: Vec<Binding> = (0..10_000)
        .map(|i| {
            binding(
                &carol,
                &format!("sip:carol@10.0.{}.{}:5060", i / 250, i % 250),
                5_000,
            )
        })
        .collect();
    batch.push(binding(&carol, "sip:carol@10.0.0.0:5060", 6_000)); // a repeat: last wins
    s.save_bindings(&batch).await.unwrap();
    let saved = s.bindings(Some(&carol), 0).await.unwrap();
    assert_eq!(saved.len(), 10_000);
    assert!(saved
        .iter()
        .any(|b| b.contact == "sip:carol@10.0.0.0:5060" && b.expires_at == 6_000));
    for b in &mut batch {
        b.expires_at = 7_000;
    }
    s.save_bindings(&batch).await.unwrap();
    assert_eq!(s.bindings(Some(&carol), 6_999).await.unwrap().len(), 10_000);
    let doomed: Vec<(AddressOfRecord, String)> = batch[..100]
        .iter()
        .map(|b| (b.aor.clone(), b.contact.clone()))
        .collect();
    assert_eq!(s.delete_binding_many(&doomed).await.unwrap(), 100);
    assert_eq!(s.delete_binding_many(&doomed).await.unwrap(), 0);
    s.save_binding(&binding(&alice.aor, "sip:alice@192.0.2.9", 9_000))
        .await
        .unwrap();
    assert_eq!(s.delete_bindings(Some(&carol)).await.unwrap(), 9_900);
    s.save_bindings(&batch[..10]).await.unwrap();
    assert_eq!(s.delete_bindings(None).await.unwrap(), 11);

    // Deleting a subscriber takes its aliases and bindings along.
    s.save_binding(&b1).await.unwrap();
    s.delete_subscriber(&alice.aor).await.unwrap();
    assert!(matches!(
        s.delete_subscriber(&alice.aor).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(s.resolve_alias(&did).await.unwrap(), None);
    assert!(s.bindings(None, 0).await.unwrap().is_empty());

    // Deleting a domain takes its subscribers, aliases and bindings along.
    let bob = sub("bob", "example.com");
    s.add_subscriber(&bob).await.unwrap();
    s.add_alias(&Alias {
        alias: AddressOfRecord::new("bobby", "example.com"),
        target: bob.aor.clone(),
    })
    .await
    .unwrap();
    s.add_alias(&Alias {
        alias: AddressOfRecord::new("bobby", "other.org"),
        target: bob.aor.clone(),
    })
    .await
    .unwrap();
    s.save_binding(&binding(&bob.aor, "sip:bob@192.0.2.2", 1_000))
        .await
        .unwrap();
    s.save_binding(&binding(&carol, "sip:carol@192.0.2.3", 1_000))
        .await
        .unwrap();
    s.delete_domain("EXAMPLE.com").await.unwrap();
    assert_eq!(s.domains().await.unwrap(), ["other.org"]);
    assert_eq!(s.subscribers(Some("example.com")).await.unwrap(), []);
    assert_eq!(s.aliases(None).await.unwrap(), []);
    assert_eq!(s.bindings(None, 0).await.unwrap().len(), 1);
    assert_eq!(s.subscribers(None).await.unwrap().len(), 1);
    integrity(s).await;
    eprintln!("{name}: ok");
}

/// A user cannot take an alias's name (one by one or by batch); deleting a domain or a
/// user removes other users' forwarding and find-me entries that point at it.
async fn integrity(s: &SqlStore) {
    use model::{FINDME, FORWARD_ALWAYS, FORWARD_BUSY, FORWARD_UNAVAILABLE};
    s.add_domain("clash.test").await.unwrap();
    s.add_domain("gone.test").await.unwrap();
    let alice = sub("alice", "clash.test");
    s.add_subscriber(&alice).await.unwrap();
    let did = AddressOfRecord::new("100", "clash.test");
    s.add_alias(&Alias {
        alias: did.clone(),
        target: alice.aor.clone(),
    })
    .await
    .unwrap();
    assert!(matches!(
        s.add_subscriber(&sub("100", "clash.test")).await,
        Err(StoreError::Duplicate { .. })
    ));
    assert!(matches!(
        s.add_subscribers(&[sub("101", "clash.test"), sub("100", "clash.test")])
            .await,
        Err(StoreError::Duplicate { .. })
    ));
    let n101 = AddressOfRecord::new("101", "clash.test");
    assert_eq!(s.subscriber(&n101).await.unwrap(), None);

    s.add_subscriber(&sub("bob", "gone.test")).await.unwrap();
    s.set_setting(&alice.aor, FORWARD_ALWAYS, "bob@gone.test")
        .await
        .unwrap();
    s.set_setting(&alice.aor, FORWARD_BUSY, "sip:x@elsewhere.net")
        .await
        .unwrap();
    s.set_setting(
        &alice.aor,
        FINDME,
        "bob@gone.test:10\nsip:desk@192.0.2.4:5060:10",
    )
    .await
    .unwrap();
    s.delete_domain("gone.test").await.unwrap();
    let kept = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        s.settings(&alice.aor).await.unwrap(),
        kept(&[
            (FINDME, "sip:desk@192.0.2.4:5060:10"),
            (FORWARD_BUSY, "sip:x@elsewhere.net"),
        ])
    );

    // A user's deletion takes forwarding to it, and to its aliases, along.
    let carol = sub("carol", "clash.test");
    s.add_subscriber(&carol).await.unwrap();
    s.add_alias(&Alias {
        alias: AddressOfRecord::new("200", "clash.test"),
        target: carol.aor.clone(),
    })
    .await
    .unwrap();
    s.set_setting(&alice.aor, FORWARD_UNAVAILABLE, "200")
        .await
        .unwrap();
    s.set_setting(&alice.aor, FINDME, "carol@clash.test:10")
        .await
        .unwrap();
    s.delete_subscriber(&carol.aor).await.unwrap();
    assert_eq!(
        s.settings(&alice.aor).await.unwrap(),
        kept(&[(FORWARD_BUSY, "sip:x@elsewhere.net")])
    );
    s.delete_domain("clash.test").await.unwrap();
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        TempDir(std::env::temp_dir().join(unique("switchboard_storage")))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn sqlite_file() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/sub/dir/store.db", dir.0.display());
    let store = SqlStore::connect(&url, 4).await.unwrap();
    assert_eq!(store.backend_name(), "sqlite");
    run_then(store, |s| async move { exercise(&s).await }, async {}).await;
}

#[tokio::test]
async fn sqlite_in_memory() {
    let store = SqlStore::connect("sqlite::memory:", 4).await.unwrap();
    run_then(store, |s| async move { exercise(&s).await }, async {}).await;
}

#[tokio::test]
async fn sqlite_data_survives_a_restart() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/store.db", dir.0.display());
    let alice = sub("alice", "example.com");
    let b = binding(&alice.aor, "sip:alice@192.0.2.1", 1_000);
    {
        let s = SqlStore::connect(&url, 2).await.unwrap();
        s.add_domain("example.com").await.unwrap();
        s.add_subscriber(&alice).await.unwrap();
        s.save_binding(&b).await.unwrap();
        s.close().await;
    }
    let s = SqlStore::connect(&url, 2).await.unwrap();
    assert_eq!(s.schema_version().await.unwrap(), 8);
    assert_eq!(s.domains().await.unwrap(), ["example.com"]);
    assert_eq!(s.subscriber(&alice.aor).await.unwrap(), Some(alice.clone()));
    assert_eq!(s.bindings(None, 0).await.unwrap(), [b]);
    s.close().await;
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

/// Only `connect` creates a SQLite file; `connect_existing` names the missing file and
/// creates nothing, not even its directory.
#[tokio::test]
async fn sqlite_connect_existing_creates_nothing() {
    let dir = TempDir::new();
    let path = dir.0.join("sub/store.db");
    let url = format!("sqlite://{}", path.display());
    match SqlStore::connect_existing(&url, 1).await {
        Err(StoreError::NotFound { what }) => {
            assert!(what.contains(&path.display().to_string()), "{what}")
        }
        other => panic!("expected NotFound, got {:?}", other.map(|_| ())),
    }
    assert!(!dir.0.exists());
    SqlStore::connect(&url, 1).await.unwrap().close().await;
    let s = SqlStore::connect_existing(&url, 1).await.unwrap();
    assert_eq!(s.schema_version().await.unwrap(), 8);
    s.close().await;
}

#[tokio::test]
async fn bad_urls_are_rejected() {
    for url in ["redis://localhost", "no-scheme", "sqlite://"] {
        assert!(
            matches!(
                SqlStore::connect(url, 1).await,
                Err(StoreError::Invalid { .. })
            ),
            "{url}"
        );
    }
}

/// On a new, empty database of a server: only `connect` (init) makes it a Switchboard
/// database; then [`exercise`], and the database is dropped.
async fn on_server(url: &str, name: &str, db: Scratch) {
    // An empty database is not a Switchboard database until `connect` (init) makes it one.
    assert!(matches!(
        SqlStore::connect_existing(url, 1).await,
        Err(StoreError::NotFound { .. })
    ));
    let store = SqlStore::connect(url, 4).await.unwrap();
    SqlStore::connect_existing(url, 1)
        .await
        .unwrap()
        .close()
        .await;
    assert_eq!(store.backend_name(), name);
    run_then(store, |s| async move { exercise(&s).await }, db.drop()).await;
}

#[tokio::test]
async fn mariadb() {
    let Some(db) = scratch_database(Backend::MySql, "switchboard_t").await else {
        return;
    };
    let url = db.url.replacen("mysql://", "mariadb://", 1);
    on_server(&url, "mysql", db).await;
}

#[tokio::test]
async fn postgres() {
    let Some(db) = scratch_database(Backend::Postgres, "switchboard_t").await else {
        return;
    };
    let url = db.url.clone();
    on_server(&url, "postgres", db).await;
}

/// Gateways and routes (migration 0005): round trip, uniqueness, a route needs its
/// gateways, a used gateway stays.
async fn exercise_pstn(s: &SqlStore) {
    let gw = |name: &str| Gateway {
        name: name.into(),
        addr: "192.0.2.7:5080".parse().unwrap(),
        transport: GatewayTransport::Tcp,
        strip: 1,
        prefix: "+49".into(),
        probe_secs: 0,
        tls_verify: Default::default(),
    };
    s.add_gateway(&gw("carrier-b")).await.unwrap();
    s.add_gateway(&gw("carrier-a")).await.unwrap();
    assert!(matches!(
        s.add_gateway(&gw("carrier-a")).await,
        Err(StoreError::Duplicate { .. })
    ));
    let listed = s.gateways().await.unwrap();
    assert_eq!(listed, vec![gw("carrier-a"), gw("carrier-b")]);
    // Edited in place (the same values again too: MySQL reports 0 changed rows then).
    let edited = Gateway {
        addr: "192.0.2.8:5090".parse().unwrap(),
        transport: GatewayTransport::Udp,
        prefix: String::new(),
        tls_verify: model::TlsVerify::Pin([0xab; 32]),
        ..gw("carrier-b")
    };
    s.update_gateway(&edited).await.unwrap();
    s.update_gateway(&edited).await.unwrap();
    assert_eq!(s.gateways().await.unwrap()[1], edited);
    let skipped = Gateway {
        tls_verify: model::TlsVerify::Skip,
        ..edited.clone()
    };
    s.update_gateway(&skipped).await.unwrap();
    assert_eq!(
        s.gateways().await.unwrap()[1].tls_verify,
        model::TlsVerify::Skip
    );
    s.update_gateway(&edited).await.unwrap();
    s.update_gateway(&gw("carrier-b")).await.unwrap();
    assert!(matches!(
        s.update_gateway(&gw("nobody")).await,
        Err(StoreError::NotFound { .. })
    ));
    let route = Route {
        prefix: "+4930".into(),
        domain: Some("example.com".into()),
        gateways: vec!["carrier-a".into(), "carrier-b".into()],
        class: CallClass::International,
    };
    s.add_route(&route).await.unwrap();
    assert!(matches!(
        s.add_route(&route).await,
        Err(StoreError::Duplicate { .. })
    ));
    let orphan = Route {
        domain: None,
        gateways: vec!["nobody".into()],
        ..route.clone()
    };
    assert!(matches!(
        s.add_route(&orphan).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(s.routes().await.unwrap(), vec![route]);
    assert!(matches!(
        s.delete_gateway("carrier-a").await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        s.delete_route("+4930", None).await,
        Err(StoreError::NotFound { .. })
    ));
    s.delete_route("+4930", Some("example.com")).await.unwrap();
    let peer = TrustedPeer {
        cidr: "192.0.2.0/24".into(),
        gateway: Some("carrier-a".into()),
    };
    s.add_trusted(&peer).await.unwrap();
    assert!(matches!(
        s.add_trusted(&peer).await,
        Err(StoreError::Duplicate { .. })
    ));
    assert_eq!(s.trusted().await.unwrap(), vec![peer]);
    s.delete_trusted("192.0.2.0/24").await.unwrap();
    let rule = model::DialRule {
        domain: "example.com".into(),
        priority: 10,
        pattern: "^0([1-9][0-9]+)$".into(),
        replacement: "+49$1".into(),
    };
    s.add_dial_rule(&rule).await.unwrap();
    assert!(matches!(
        s.add_dial_rule(&rule).await,
        Err(StoreError::Duplicate { .. })
    ));
    assert_eq!(s.dial_rules().await.unwrap(), vec![rule]);
    s.delete_dial_rule("example.com", "^0([1-9][0-9]+)$")
        .await
        .unwrap();
    assert!(s.trusted().await.unwrap().is_empty());
    s.delete_gateway("carrier-a").await.unwrap();
    s.delete_gateway("carrier-b").await.unwrap();
    assert!(s.gateways().await.unwrap().is_empty());
}
