//! The portal's tables on each backend: accounts with their role and domains, the bounded
//! audit log, and the keyset-paged user list (prefix search, domain scope).

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{on_server, on_sqlite, sub};
use model::{AuditEntry, PortalAccount, PortalRole, PortalStore, Store, StoreError, UserQuery};
use storage::{Backend, SqlStore};

fn entry(n: u64) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: 1_800_000_000 + n,
        actor: "root".into(),
        source: "192.0.2.1".into(),
        action: "user.add".into(),
        object: format!("u{n}@example.com"),
    }
}

async fn exercise(s: Arc<SqlStore>) {
    // Accounts.
    assert_eq!(s.portal_account_count().await.unwrap(), 0);
    s.add_domain("example.com").await.unwrap();
    s.add_domain("other.test").await.unwrap();
    let root = PortalAccount {
        name: "root".into(),
        password_hash: "$argon2id$v=19$x".into(),
        role: PortalRole::Admin,
    };
    s.add_portal_account(&root).await.unwrap();
    let ops = PortalAccount {
        name: "ops".into(),
        password_hash: "$argon2id$v=19$y".into(),
        role: PortalRole::DomainAdmin(vec!["example.com".into(), "other.test".into()]),
    };
    s.add_portal_account(&ops).await.unwrap();
    assert!(matches!(
        s.add_portal_account(&root).await,
        Err(StoreError::Duplicate { .. })
    ));
    assert_eq!(s.portal_account("root").await.unwrap(), Some(root));
    assert_eq!(s.portal_account("ops").await.unwrap(), Some(ops));
    assert_eq!(s.portal_account("nobody").await.unwrap(), None);
    assert_eq!(s.portal_account_count().await.unwrap(), 2);
    s.set_portal_password("ops", "$argon2id$v=19$z")
        .await
        .unwrap();
    assert_eq!(
        s.portal_account("ops")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$v=19$z"
    );
    assert!(matches!(
        s.set_portal_password("nobody", "h").await,
        Err(StoreError::NotFound { .. })
    ));
    // A deleted domain leaves the domain admin's list.
    s.delete_domain("other.test").await.unwrap();
    assert_eq!(
        s.portal_account("ops").await.unwrap().unwrap().role,
        PortalRole::DomainAdmin(vec!["example.com".into()])
    );

    // The audit log, newest first, paged, bounded.
    for n in 1..=5 {
        s.append_audit(&entry(n), 3).await.unwrap();
    }
    let all = s.audit(None, 10).await.unwrap();
    assert_eq!(all.len(), 3, "kept only the newest 3");
    assert_eq!(all[0].object, "u5@example.com");
    assert_eq!(all[0].at, 1_800_000_005);
    assert_eq!(all[0].source, "192.0.2.1");
    let older = s.audit(Some(all[0].id), 1).await.unwrap();
    assert_eq!(older[0].object, "u4@example.com");

    // The user list: (domain, user) order, prefix, scope, keyset paging.
    s.add_domain("b.test").await.unwrap();
    for u in ["carol", "alice", "bob", "al", "alx"] {
        s.add_subscriber(&sub(u, "example.com")).await.unwrap();
    }
    s.add_subscriber(&sub("zed", "b.test")).await.unwrap();
    let names =
        |v: Vec<model::AddressOfRecord>| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let q = UserQuery {
        limit: 3,
        ..UserQuery::default()
    };
    let page1 = s.user_page(&q).await.unwrap();
    assert_eq!(
        names(page1.clone()),
        ["zed@b.test", "al@example.com", "alice@example.com"]
    );
    let page2 = s
        .user_page(&UserQuery {
            after: page1.last().cloned(),
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        names(page2),
        ["alx@example.com", "bob@example.com", "carol@example.com"]
    );
    let al = s
        .user_page(&UserQuery {
            prefix: "al".into(),
            domains: Some(vec!["example.com".into()]),
            limit: 10,
            after: None,
        })
        .await
        .unwrap();
    assert_eq!(
        names(al),
        ["al@example.com", "alice@example.com", "alx@example.com"]
    );
    // Pages within one domain, and across several.
    let one = s
        .user_page(&UserQuery {
            domains: Some(vec!["example.com".into()]),
            after: Some(model::AddressOfRecord::new("alice", "example.com")),
            limit: 2,
            prefix: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(names(one), ["alx@example.com", "bob@example.com"]);
    let both = s
        .user_page(&UserQuery {
            domains: Some(vec!["example.com".into(), "b.test".into()]),
            after: Some(model::AddressOfRecord::new("zed", "b.test")),
            limit: 1,
            prefix: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(names(both), ["al@example.com"]);
    let none = s
        .user_page(&UserQuery {
            domains: Some(Vec::new()),
            limit: 10,
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn sqlite_portal() {
    on_sqlite(exercise).await;
}

#[tokio::test]
async fn mariadb_portal() {
    on_server(Backend::MySql, "switchboard_p", exercise).await;
}

#[tokio::test]
async fn postgres_portal() {
    on_server(Backend::Postgres, "switchboard_p", exercise).await;
}
