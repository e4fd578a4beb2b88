//! Several domains on one server: each domain is its own digest realm, users are per
//! domain, and a user of one domain calls a user of another (both local).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::digest::bob_answers;
use testkit::location::{contacts_of, wait_for_contacts_of};
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::sipp::{digest_param, header, headers};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

const OTHER: &str = "example.org";

fn with_second_domain() -> Server {
    let node = Server::start(BIN, Options::digest());
    node.cli(&["domain", "add", OTHER]);
    node.cli(&[
        "user",
        "add",
        &format!("dave@{OTHER}"),
        "--password",
        "dave-pw",
    ]);
    node
}

/// RFC 3665 §2.1 in a second domain: the challenge's realm is that domain, and the
/// user's credentials there verify.
#[test]
fn each_domain_is_its_own_realm() {
    let node = with_second_domain();
    let port = free_port();
    let r = node
        .sipp("dave-register", "uac-register-auth-expect-200.xml", port)
        .key("domain", OTHER)
        .service("dave")
        .credentials("dave", "dave-pw")
        .key("expires", 300)
        .run();
    r.assert_ok("REGISTER of dave@example.org");
    let (challenge, www) = testkit::digest::register_challenge(&r);
    for w in &www {
        assert_eq!(digest_param(w, "realm"), Some(OTHER), "{challenge}");
    }
    wait_for_contacts_of(
        &node,
        &format!("dave@{OTHER}"),
        &[format!("sip:dave@127.0.0.1:{port}")],
    );
}

/// Users are per domain: alice of example.com is nobody in example.org, whatever her
/// password (RFC 3665 §2.5 ladder: 401, then 401 again).
#[test]
fn a_user_of_one_domain_is_unknown_in_another() {
    let node = with_second_domain();
    let r = node
        .sipp(
            "alice-in-org",
            "uac-register-wrongpw-expect-401.xml",
            free_port(),
        )
        .key("domain", OTHER)
        .service("alice")
        .credentials("alice", &testkit::server::password("alice"))
        .key("expires", 300)
        .run();
    r.assert_ok("REGISTER of alice@example.org");
    assert_eq!(r.ladder(), ["> REGISTER", "< 401", "> REGISTER", "< 401"]);
    assert!(contacts_of(&node, &format!("alice@{OTHER}")).is_empty());
}

/// dave@example.org calls bob@example.com: dave is challenged in his own realm
/// (example.org, the From domain), then the call completes to bob's phone.
#[test]
fn a_user_of_one_domain_calls_a_user_of_another() {
    let node = with_second_domain();
    let bob = bob_answers(&node, &node);
    let dave = node
        .sipp("dave-call", "uac-invite-auth-expect-200.xml", free_port())
        .service("bob")
        .key("caller", "dave")
        .key("from_domain", OTHER)
        .credentials("dave", "dave-pw")
        .run();
    dave.assert_ok("dave@example.org calling bob@example.com");
    bob.wait().assert_ok("bob's UAS");
    assert_eq!(
        dave.ladder(),
        testkit::digest::AUTHENTICATED_CALL_LADDER,
        "{}",
        dave.messages
    );
    let challenge = &dave.find(false, "SIP/2.0 407")[0];
    for p in headers(challenge, "Proxy-Authenticate") {
        assert_eq!(digest_param(p, "realm"), Some(OTHER), "{challenge}");
    }
    let invites = dave.find(true, "INVITE");
    let creds = header(&invites[1], "Proxy-Authorization").unwrap();
    assert_eq!(digest_param(creds, "realm"), Some(OTHER));
}
