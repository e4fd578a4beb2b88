//! Flows with digest authentication ([`crate::server::Options::digest`]): a registration
//! answering its 401, bob's phone answering a call, and alice's call to him answering
//! its 407 (RFC 3665 §2.1 and §3.1 with credentials), carol's phone subscribing to bob's
//! line.

use crate::location::contacts;
use crate::ports::free_port;
use crate::server::{password, Server};
use crate::sipp::{Background, Sipp, SippResult};
use crate::wait::{wait_until, HANG_GUARD};

/// The ladder of a registration with digest authentication (RFC 3665 §2.1):
/// REGISTER → 401 → REGISTER with Authorization → 200.
pub const AUTHENTICATED_REGISTER_LADDER: [&str; 4] = ["> REGISTER", "< 401", "> REGISTER", "< 200"];

/// The 401 of a registration run (as SIPp received it) and its WWW-Authenticate values,
/// after checking the run's ladder is [`AUTHENTICATED_REGISTER_LADDER`].
pub fn register_challenge(r: &SippResult) -> (String, Vec<String>) {
    assert_eq!(r.ladder(), AUTHENTICATED_REGISTER_LADDER, "{}", r.messages);
    let challenge = r.find(false, "SIP/2.0 401").swap_remove(0);
    let www = crate::sipp_trace::headers(&challenge, "WWW-Authenticate")
        .into_iter()
        .map(str::to_string)
        .collect();
    (challenge, www)
}

/// The ladder of the caller's side of the RFC 3665 §3.1 call with proxy authentication:
/// INVITE → 407 → ACK → INVITE with Proxy-Authorization → 100 → 180 → 200 → ACK → BYE → 200.
pub const AUTHENTICATED_CALL_LADDER: [&str; 10] = [
    "> INVITE", "< 407", "> ACK", "> INVITE", "< 100", "< 180", "< 200", "> ACK", "> BYE", "< 200",
];

/// RFC 3665 §2.1 with digest authentication: `user` registers from 127.0.0.1:`port` with
/// its password (REGISTER → 401 → REGISTER with Authorization → 200).
pub fn register(node: &Server, user: &str, port: u16) -> SippResult {
    let r = node
        .sipp(
            &format!("register-{user}-{port}"),
            "uac-register-auth-expect-200.xml",
            port,
        )
        .service(user)
        .credentials(user, &password(user))
        .key("expires", 300)
        .run();
    r.assert_ok(&format!("REGISTER of {user} with credentials"));
    r
}

/// Bob's phone: his SIPp registers with digest on `callee_node` from a fresh port, then
/// answers one call there (INVITE → 180 → 200 → ACK → BYE → 200). Returns once bob's
/// binding is in the store `seen_from` reads (the registrar writes it a moment after its
/// 200; a shared-location node looks callees up there) and the UAS listens.
pub fn bob_answers(callee_node: &Server, seen_from: &Server) -> Background {
    let bob_port = free_port();
    register(callee_node, "bob", bob_port);
    wait_until("bob's binding in the store", HANG_GUARD, || {
        !contacts(seen_from, "bob").is_empty()
    });
    callee_node
        .sipp("bob-uas", "uas-invite-answer-expect-bye.xml", bob_port)
        .uas()
        .spawn()
}

/// The RFC 3665 §3.1 call with proxy authentication, from `caller`@example.com (alice or
/// one of her aliases) with alice's credentials, through `caller_node` to bob, whose phone
/// is `bob`: INVITE → 407 → ACK → INVITE with Proxy-Authorization → 100 → 180 → 200 → ACK
/// → BYE → 200. Returns the caller's run.
pub fn call_bob_as(caller_node: &Server, caller: &str, bob: Background) -> SippResult {
    let alice = call_bob(caller_node, caller);
    bob.wait().assert_ok("bob's UAS");
    assert_eq!(
        alice.ladder(),
        AUTHENTICATED_CALL_LADDER,
        "{}",
        alice.messages
    );
    alice
}

/// The caller's side of [`call_bob_as`]: `caller`@example.com calls bob through `node`
/// with alice's credentials (trace `CALLER-call`); checked to have ended well, its ladder
/// left to the test (bob's phone may be a watcher's subject, a UAS of the test's own).
pub fn call_bob(node: &Server, caller: &str) -> SippResult {
    let alice = node
        .sipp(
            &format!("{caller}-call"),
            "uac-invite-auth-expect-200.xml",
            free_port(),
        )
        .service("bob")
        .key("caller", caller)
        .credentials("alice", &password("alice"))
        .run();
    alice.assert_ok(&format!("{caller}'s authenticated INVITE"));
    alice
}

/// Bob registers on `callee_node`; alice calls him through `caller_node` with digest
/// authentication ([`bob_answers`], then [`call_bob_as`] alice).
pub fn authenticated_call(callee_node: &Server, caller_node: &Server) -> SippResult {
    let bob = bob_answers(callee_node, caller_node);
    call_bob_as(caller_node, "alice", bob)
}

/// Carol's phone subscribing to bob's line through `node` with her credentials: SIPp
/// `scenario` from a fresh port, trace `name`, for the test to add its keys and run.
pub fn carol_watches_bob(node: &Server, name: &str, scenario: &str) -> Sipp {
    node.sipp(name, scenario, free_port())
        .service("bob")
        .key("caller", "carol")
        .credentials("carol", &password("carol"))
}
