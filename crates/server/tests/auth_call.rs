//! Calls with proxy authentication, end to end: the real binary with `[auth] enabled =
//! true`, SIPp as caller and callee (scenarios in `tests/sipp/`).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::digest::{authenticated_call, bob_answers, call_bob_as};
use testkit::ports::free_port;
use testkit::server::{password, Options, Server, BOTH_ALGORITHMS, DOMAIN};
use testkit::sipp::{digest_param, header, headers};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// RFC 3665 §3.1 Successful Session Establishment through a proxy that authenticates the
/// caller (RFC 3261 §22.3), the callee a registered (authenticated) SIPp UAS:
///
/// ```text
/// Alice                  Switchboard                 Bob
///  |--- F1 INVITE ---------->|                          |
///  |<-- F2 407 --------------|  Proxy-Authenticate (MD5, SHA-256)
///  |--- F3 ACK ------------->|                          |
///  |--- F4 INVITE ---------->|  Proxy-Authorization     |
///  |<-- F5 100 Trying -------|--- F6 INVITE ----------->|
///  |<-- F8 180 Ringing ------|<-- F7 180 Ringing -------|
///  |<-- F10 200 OK ----------|<-- F9 200 OK ------------|
///  |--- F11 ACK ------------>|--- F12 ACK ------------->|  (in dialog: not challenged)
///  |--- F13 BYE ------------>|--- F14 BYE ------------->|  (in dialog: not challenged)
///  |<-- F16 200 OK ----------|<-- F15 200 OK -----------|
/// ```
#[test]
fn rfc3665_3_1_invite_with_proxy_authentication() {
    let node = Server::start(
        BIN,
        Options {
            auth: Some(BOTH_ALGORITHMS.into()),
            ..Options::digest()
        },
    );
    let alice = authenticated_call(&node, &node);
    let challenge = &alice.find(false, "SIP/2.0 407")[0];
    let pa = headers(challenge, "Proxy-Authenticate");
    assert_eq!(pa.len(), 2, "{challenge}");
    assert_eq!(digest_param(pa[0], "algorithm"), Some("MD5"));
    assert_eq!(digest_param(pa[1], "algorithm"), Some("SHA-256"));
    assert!(pa.iter().all(|p| digest_param(p, "realm") == Some(DOMAIN)));
    assert!(headers(challenge, "WWW-Authenticate").is_empty());
    let invites = alice.find(true, "INVITE");
    assert!(header(&invites[0], "Proxy-Authorization").is_none());
    let creds = header(&invites[1], "Proxy-Authorization").unwrap();
    assert_eq!(digest_param(creds, "username"), Some("alice"));
    assert_eq!(node.status()["calls_answered"], 1);
}

/// A caller of another domain reaching a local user is not challenged: the proxy only
/// authenticates its own users (it has no credentials for anyone else).
///
/// ```text
/// carol@elsewhere.example  Switchboard                 Bob
///  |--- F1 INVITE ---------->|--- INVITE -------------->|
///  |<-- 100, 180, 200 -------|<-- 180, 200 -------------|
///  |--- ACK, BYE ----------->|--- ACK, BYE ------------>|
///  |<-- 200 -----------------|<-- 200 ------------------|
/// ```
#[test]
fn a_caller_of_another_domain_reaches_a_local_user_unchallenged() {
    let node = Server::start(BIN, Options::digest());
    let bob = bob_answers(&node, &node);
    let carol = node
        .sipp(
            "foreign-call",
            "uac-invite-noauth-expect-200.xml",
            free_port(),
        )
        .service("bob")
        .key("caller", "carol")
        .key("from_domain", "elsewhere.example")
        .run();
    carol.assert_ok("INVITE from elsewhere.example");
    bob.wait().assert_ok("bob's UAS");
    assert_eq!(
        carol.ladder(),
        ["> INVITE", "< 100", "< 180", "< 200", "> ACK", "> BYE", "< 200"],
        "{}",
        carol.messages
    );
}

/// Neither the caller nor the callee is ours: the proxy is not an open relay.
///
/// ```text
///  |--- F1 INVITE sip:dan@other.example (From carol@elsewhere.example)
///  |<-- F2 403 Relaying Denied
///  |--- F3 ACK
/// ```
#[test]
fn foreign_to_foreign_is_relaying_denied() {
    let node = Server::start(BIN, Options::digest());
    let r = node
        .sipp("relay", "uac-invite-relay-expect-403.xml", free_port())
        .service("dan")
        .key("caller", "carol")
        .key("from_domain", "elsewhere.example")
        .key("to_domain", "other.example")
        .run();
    r.assert_ok("INVITE from elsewhere.example to other.example");
    assert_eq!(r.ladder(), ["> INVITE", "< 403", "> ACK"], "{}", r.messages);
    assert!(headers(&r.find(false, "SIP/2.0 403")[0], "Proxy-Authenticate").is_empty());
}

/// Alice's valid credentials on an INVITE whose From is bob: 403 Identity Mismatch, and
/// the call goes nowhere.
///
/// ```text
///  |--- F1 INVITE (From bob) ----->|
///  |<-- F2 407 --------------------|
///  |--- F3 ACK ------------------->|
///  |--- F4 INVITE (From bob) ----->|   Proxy-Authorization: username="alice"
///  |<-- F5 403 Identity Mismatch --|
///  |--- F6 ACK ------------------->|
/// ```
#[test]
fn an_invite_with_another_users_credentials_is_an_identity_mismatch() {
    let node = Server::start(BIN, Options::digest());
    let r = node
        .sipp(
            "identity",
            "uac-invite-identity-expect-403.xml",
            free_port(),
        )
        .service("carol")
        .key("caller", "bob")
        .credentials("alice", &password("alice"))
        .run();
    r.assert_ok("INVITE From bob with alice's credentials");
    let ladder = r.ladder();
    let ladder: Vec<&str> = ladder
        .iter()
        .map(String::as_str)
        .filter(|l| *l != "< 100")
        .collect();
    assert_eq!(
        ladder,
        ["> INVITE", "< 407", "> ACK", "> INVITE", "< 403", "> ACK"],
        "{}",
        r.messages
    );
    assert_eq!(node.status()["calls_answered"], 0);
}

/// A user may call with one of their aliases in From (`allow_alias_identity`, on by
/// default): alice authenticates as herself, From is 100@example.com, her alias.
#[test]
fn an_alias_of_the_authenticated_user_is_an_accepted_identity() {
    let node = Server::start(BIN, Options::digest());
    node.cli(&[
        "alias",
        "add",
        &format!("100@{DOMAIN}"),
        &format!("alice@{DOMAIN}"),
    ]);
    let bob = bob_answers(&node, &node);
    let r = call_bob_as(&node, "100", bob);
    let invite = &r.find(true, "INVITE")[1];
    assert!(header(invite, "From")
        .unwrap()
        .contains("sip:100@example.com"));
}
