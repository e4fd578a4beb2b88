//! Issue 11, item 1: a phone on another host uses the server with its default network
//! settings (a wildcard listener, no advertised host). The other host is a network
//! namespace made by the test (10.99.0.2), the server listens on 0.0.0.0.
//!
//! ```text
//! Alice (10.99.0.2)          Switchboard (0.0.0.0)           Bob (127.0.0.1)
//!  |--- REGISTER sip:10.99.0.1 ->|  domain = the server's IP      |
//!  |<-- 401 / REGISTER / 200 ----|                                |
//!  |--- INVITE bob@10.99.0.1 --->|--- INVITE ------------------->|
//!  |<-- 200 (Record-Route: 10.99.0.1, not 127.0.0.1) ------------|
//!  |--- ACK, BYE to 10.99.0.1 -->|--- BYE ---------------------->|
//!  |<-- 200 ---------------------|<-- 200 -----------------------|
//! ```
//! Before the fix the server answered 403 Relaying Denied to the REGISTER, and with the IP
//! as an alias it record-routed 127.0.0.1, so Alice's BYE went to her own loopback.

use testkit::digest::bob_answers;
use testkit::netns::{OtherHost, HOST_IP, PEER_IP};
use testkit::ports::free_port;
use testkit::server::{password, Options, Server};
use testkit::sipp::headers;

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

#[test]
fn a_phone_on_another_host_registers_calls_and_hangs_up_with_the_defaults() {
    let Some(host) = OtherHost::create() else {
        return;
    };
    let node = Server::start(BIN, Options::digest().on_all_addresses());
    let server = format!("{HOST_IP}:{}", node.port);

    let reg = node
        .sipp(
            "alice-remote-register",
            "uac-register-auth-expect-200.xml",
            free_port(),
        )
        .in_netns(&host.ns, PEER_IP, &server)
        .service("alice")
        .credentials("alice", &password("alice"))
        .key("expires", 300)
        .key("domain", HOST_IP)
        .run();
    reg.assert_ok("REGISTER from the other host");
    assert_eq!(
        reg.ladder(),
        testkit::digest::AUTHENTICATED_REGISTER_LADDER,
        "{}",
        reg.messages
    );

    let bob = bob_answers(&node, &node);
    let alice = node
        .sipp(
            "alice-remote-call",
            "uac-invite-auth-expect-200.xml",
            free_port(),
        )
        .in_netns(&host.ns, PEER_IP, &server)
        .service("bob")
        .key("caller", "alice")
        .key("from_domain", HOST_IP)
        .key("to_domain", HOST_IP)
        .credentials("alice", &password("alice"))
        .run();
    alice.assert_ok("call from the other host, ended by its BYE");
    bob.wait().assert_ok("bob's UAS");
    assert_eq!(
        alice.ladder(),
        testkit::digest::AUTHENTICATED_CALL_LADDER,
        "{}",
        alice.messages
    );
    let ok = &alice.find(false, "SIP/2.0 200")[0];
    let rr: Vec<&str> = headers(ok, "Record-Route")
        .into_iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect();
    // Alice routes through the last entry first: it must be the address she reaches.
    assert_eq!(
        rr.last().copied(),
        Some(format!("<sip:{HOST_IP}:{};lr>", node.port).as_str()),
        "{ok}"
    );
    assert_eq!(node.status()["dialogs_active"], 0, "the BYE ended the call");
}
