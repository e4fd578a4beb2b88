//! Screening (RFC 5359 §2.13, §2.14) with authentication on, end to end: the decision
//! rests on the identity the proxy verified, after the digest challenge.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::ports::free_port;
use testkit::server::{password, Options, Server, DOMAIN};
use testkit::sipp::header;

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn node() -> Server {
    Server::start(
        BIN,
        Options {
            // Spliced after the [auth] lines: a [services] section of its own.
            auth: Some(
                "\n[services]\nscreening_announcement = \"sip:announcement@127.0.0.1\"\n".into(),
            ),
            ..Options::digest()
        },
    )
}

/// Alice (authenticated) calls `callee`; the proxy challenges, then refuses with 403.
///
/// ```text
/// Alice            Switchboard
///   | INVITE            |
///   |------------------>|
///   | 407 (challenge)   |
///   |<------------------|
///   | ACK, INVITE (Proxy-Authorization)
///   |------------------>|
///   | 403 Forbidden, Error-Info: <sip:announcement@127.0.0.1>
///   |<------------------|
///   | ACK               |
///   |------------------>|
/// ```
fn screened_call(node: &Server, callee: &str) {
    let alice = node
        .sipp(
            &format!("alice-{callee}"),
            "uac-invite-auth-screened-expect-403.xml",
            free_port(),
        )
        .service(callee)
        .key("caller", "alice")
        .credentials("alice", &password("alice"))
        .run();
    alice.assert_ok("screened, authenticated caller");
    assert_eq!(
        alice.ladder(),
        ["> INVITE", "< 407", "> ACK", "> INVITE", "< 403", "> ACK"]
    );
    let resp = &alice.find(false, "SIP/2.0 403")[0];
    assert_eq!(
        header(resp, "Error-Info"),
        Some("<sip:announcement@127.0.0.1>")
    );
}

/// RFC 5359 §2.13: Bob blocks Alice; her call is refused after she proved who she is.
#[test]
fn rfc5359_2_13_incoming_screening_after_authentication() {
    let node = node();
    node.cli(&[
        "screen",
        "add",
        &format!("bob@{DOMAIN}"),
        "--incoming",
        &format!("alice@{DOMAIN}"),
    ]);
    screened_call(&node, "bob");
}

/// RFC 5359 §2.14: Alice may not call numbers starting with +1900.
#[test]
fn rfc5359_2_14_outgoing_screening_after_authentication() {
    let node = node();
    node.cli(&[
        "screen",
        "add",
        &format!("alice@{DOMAIN}"),
        "--outgoing",
        "+1900*",
    ]);
    screened_call(&node, "+19005551234");
}
