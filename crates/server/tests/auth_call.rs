//! Calls with proxy authentication, end to end: the real binary with `[auth] enabled =
//! true`, SIPp as caller and callee (scenarios in `tests/sipp/`).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod auth_support;

use auth_support::{authenticated_call, digest_param, header, headers, Node, Opts, DOMAIN};

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
    let node = Node::start(Opts::default());
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
