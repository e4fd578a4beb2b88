//! The use cases against `model::MemoryStore`: what they store, the notices they return,
//! and the error texts (the CLI prints them as they are).
#![allow(clippy::unwrap_used)]

use admin::{AdminError, Change, ChangeNotice, ForwardKind};
use model::{AddressOfRecord, MemoryStore, ScreenDirection, Store};

fn aor(s: &str) -> AddressOfRecord {
    AddressOfRecord::parse(s).unwrap()
}

fn pw(p: &str) -> impl FnOnce() -> Result<String, AdminError> + '_ {
    move || Ok(p.to_string())
}

fn never() -> Result<String, AdminError> {
    panic!("the password must not be asked for")
}

async fn provisioned() -> MemoryStore {
    let s = MemoryStore::new();
    admin::add_domain(&s, "example.com").await.unwrap();
    admin::add_user(&s, &aor("alice@example.com"), pw("pw-alice"))
        .await
        .unwrap();
    s
}

fn text(e: AdminError) -> String {
    e.to_string()
}

#[tokio::test]
async fn domains_are_validated_normalised_and_noticed() {
    let s = MemoryStore::new();
    let added = admin::add_domain(&s, "Example.COM").await.unwrap();
    assert_eq!(added.result, "example.com");
    assert_eq!(
        added.notices,
        vec![ChangeNotice::Domain("example.com".into(), Change::Added)]
    );
    let e = admin::add_domain(&s, "a..b").await.unwrap_err();
    assert_eq!(e.field(), Some("domain"));
    assert_eq!(e.http_status(), 400);
    assert!(text(e).starts_with("domain \"a..b\": "));
    let e = admin::add_domain(&s, "example.com").await.unwrap_err();
    assert_eq!(e.http_status(), 409);
    assert_eq!(s.domains().await.unwrap(), vec!["example.com".to_string()]);
}

#[tokio::test]
async fn users_get_both_hashes_and_the_password_is_asked_last() {
    let s = provisioned().await;
    let alice = aor("alice@example.com");
    let sub = s.subscriber(&alice).await.unwrap().unwrap();
    assert_eq!(sub, admin::subscriber_with_password(&alice, "pw-alice"));
    assert_eq!(sub.ha1_md5.len(), 32);
    assert_eq!(sub.ha1_sha256.len(), 64);

    let e = admin::add_user(&s, &aor("bob@nowhere.test"), never)
        .await
        .unwrap_err();
    assert_eq!(text(e), "domain nowhere.test is not served here");
    let e = admin::add_user(&s, &aor("bob@example.com"), pw(""))
        .await
        .unwrap_err();
    assert_eq!(text(e), "password: must not be empty");
    let long = "x".repeat(257);
    let e = admin::add_user(&s, &aor("bob@example.com"), pw(&long))
        .await
        .unwrap_err();
    assert_eq!(text(e), "password: longer than 256 characters");
    assert!(s
        .subscriber(&aor("bob@example.com"))
        .await
        .unwrap()
        .is_none());

    let changed = admin::set_password(&s, &alice, pw("new")).await.unwrap();
    assert_eq!(
        changed.notices,
        vec![ChangeNotice::User(alice.clone(), Change::Changed)]
    );
    assert_eq!(
        s.subscriber(&alice).await.unwrap().unwrap(),
        admin::subscriber_with_password(&alice, "new")
    );
    let e = admin::set_password(&s, &aor("ghost@example.com"), never)
        .await
        .unwrap_err();
    assert_eq!(text(e), "user ghost@example.com not found");
    assert_eq!(e_status(&s).await, 404);
}

async fn e_status(s: &MemoryStore) -> u16 {
    admin::set_password(s, &aor("ghost@example.com"), never)
        .await
        .unwrap_err()
        .http_status()
}

#[tokio::test]
async fn a_user_and_an_alias_never_share_a_name() {
    let s = provisioned().await;
    let did = aor("15551234@example.com");
    let added = admin::add_alias(&s, &did, &aor("alice@example.com"))
        .await
        .unwrap();
    assert_eq!(
        added.notices,
        vec![ChangeNotice::Alias(did.clone(), Change::Added)]
    );
    let e = admin::add_user(&s, &did, never).await.unwrap_err();
    assert_eq!(e.field(), Some("user"));
    assert_eq!(
        text(e),
        "user 15551234@example.com: the name is taken by alias \
         15551234@example.com -> alice@example.com"
    );
    let e = admin::add_alias(&s, &aor("alice@example.com"), &did)
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), 409);
    assert_eq!(
        text(e),
        "alias alice@example.com: the name is taken by user alice@example.com"
    );
    let e = admin::add_alias(&s, &aor("100@elsewhere.test"), &did)
        .await
        .unwrap_err();
    assert_eq!(
        text(e),
        "alias 100@elsewhere.test: domain elsewhere.test is not served here"
    );
    let deleted = admin::delete_alias(&s, &did).await.unwrap();
    assert_eq!(
        deleted.notices,
        vec![ChangeNotice::Alias(did.clone(), Change::Removed)]
    );
    assert!(admin::delete_alias(&s, &did).await.is_err());
}

#[tokio::test]
async fn deleting_a_user_notices_its_aliases_and_the_settings_pointing_at_it() {
    let s = provisioned().await;
    let (alice, bob, did) = (
        aor("alice@example.com"),
        aor("bob@example.com"),
        aor("200@example.com"),
    );
    admin::add_user(&s, &bob, pw("b")).await.unwrap();
    admin::add_alias(&s, &did, &bob).await.unwrap();
    let set = admin::set_forwarding(&s, &alice, ForwardKind::Busy, "200", None)
        .await
        .unwrap();
    assert_eq!(
        set.notices,
        vec![ChangeNotice::Settings(alice.clone(), Change::Changed)]
    );
    let deleted = admin::delete_user(&s, &bob).await.unwrap();
    assert_eq!(
        deleted.notices,
        vec![
            ChangeNotice::User(bob.clone(), Change::Removed),
            ChangeNotice::Alias(did, Change::Removed),
            ChangeNotice::Settings(alice.clone(), Change::Changed),
        ]
    );
    assert!(s.settings(&alice).await.unwrap().is_empty());

    let deleted = admin::delete_domain(&s, "example.com").await.unwrap();
    assert_eq!(
        deleted.notices,
        vec![ChangeNotice::Domain("example.com".into(), Change::Removed)]
    );
    assert!(s.subscribers(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn forwarding_targets_exist_or_are_external() {
    let s = provisioned().await;
    let alice = aor("alice@example.com");
    let set = |t: &'static str, k| {
        let s = &s;
        let alice = alice.clone();
        async move { admin::set_forwarding(s, &alice, k, t, None).await }
    };
    let e = set("ghost@example.com", ForwardKind::Always)
        .await
        .unwrap_err();
    assert!(text(e).contains("no user or alias ghost@example.com"));
    let e = set("bob@other.net", ForwardKind::Busy).await.unwrap_err();
    assert!(text(e).contains("write the SIP URI, sip:bob@other.net"));
    let e = set("alice@example.com", ForwardKind::Busy)
        .await
        .unwrap_err();
    assert_eq!(text(e), "target \"alice@example.com\": is the user itself");
    let e = set("sip:bob@a..b", ForwardKind::Busy).await.unwrap_err();
    assert!(text(e).contains("empty label"));
    set("sip:bob@other.net", ForwardKind::Always).await.unwrap();

    let e = admin::set_forwarding(&s, &alice, ForwardKind::Busy, "sip:x@y.net", Some(5))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("after"));
    assert_eq!(text(e), "after: only applies to no-answer forwarding");
    admin::set_forwarding(&s, &alice, ForwardKind::NoAnswer, "sip:x@y.net", Some(5))
        .await
        .unwrap();

    let cleared = admin::clear_forwarding(&s, &alice, None).await.unwrap();
    assert_eq!(cleared.result, 2);
    assert_eq!(cleared.notices.len(), 1);
    let cleared = admin::clear_forwarding(&s, &alice, None).await.unwrap();
    assert_eq!((cleared.result, cleared.notices.len()), (0, 0));
    let e = admin::clear_forwarding(&s, &aor("ghost@example.com"), None)
        .await
        .unwrap_err();
    assert_eq!(text(e), "user: ghost@example.com not found");
}

#[tokio::test]
async fn findme_lists_are_bounded_and_checked() {
    let s = provisioned().await;
    let alice = aor("alice@example.com");
    let many: Vec<String> = (0..11).map(|i| format!("sip:u{i}@x.net")).collect();
    let e = admin::set_findme(&s, &alice, &many).await.unwrap_err();
    assert_eq!(text(e), "targets: at most 10 entries");
    let e = admin::set_findme(&s, &alice, &["ghost@example.com".into()])
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("findme"));
    let set = admin::set_findme(&s, &alice, &["sip:m@x.net:5070,15".into()])
        .await
        .unwrap();
    assert_eq!(set.result, 1);
    let cleared = admin::clear_findme(&s, &alice).await.unwrap();
    assert!(cleared.result);
    assert!(!admin::clear_findme(&s, &alice).await.unwrap().result);
}

#[tokio::test]
async fn screening_rules_add_once_and_delete_by_pattern() {
    let s = provisioned().await;
    let alice = aor("alice@example.com");
    let d = ScreenDirection::Incoming;
    let added = admin::add_screen_rule(&s, &alice, d, "+1900*")
        .await
        .unwrap();
    assert_eq!(added.result.to_string(), "+1900*");
    admin::add_screen_rule(&s, &alice, d, "+1900*")
        .await
        .unwrap();
    admin::add_screen_rule(&s, &alice, d, "anonymous")
        .await
        .unwrap();
    assert_eq!(s.settings(&alice).await.unwrap().len(), 1);
    let e = admin::delete_screen_rule(&s, &alice, ScreenDirection::Outgoing, "anonymous")
        .await
        .unwrap_err();
    assert_eq!(
        text(e),
        "pattern: anonymous is not in the outgoing rules of alice@example.com"
    );
    admin::delete_screen_rule(&s, &alice, d, "+1900*")
        .await
        .unwrap();
    let deleted = admin::delete_screen_rule(&s, &alice, d, "anonymous")
        .await
        .unwrap();
    assert_eq!(
        deleted.notices,
        vec![ChangeNotice::Settings(alice.clone(), Change::Changed)]
    );
    assert!(s.settings(&alice).await.unwrap().is_empty());
}
