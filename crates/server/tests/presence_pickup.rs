//! Call pickup done by the proxy (RFC 5359 §2.16, issue 17), end to end on the real binary
//! with SIPp phones: the picking phone learns the ringing call from the server's dialog
//! NOTIFYs and sends an INVITE with Replaces, or dials `*8<ext>`; either way the proxy
//! sends it to the ringing call's **caller** (RFC 3891: the UAC of the early dialog accepts
//! the replacement), and once that is answered CANCELs the ringing phone.
//!
//! Alice's phone takes part in two dialogs, so it is two SIPp processes: the one that
//! calls puts the other's port in its Contact, where the picking INVITE arrives.

#![allow(clippy::unwrap_used)]

use testkit::open::{assert_via_proxy, caller, phone};
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::sipp::{header, rungs, tag, trace_so_far, wait_trace, Background, Sipp, SippResult};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// The value of attribute `name` in the first element of `xml` that has it.
fn attr<'a>(xml: &'a str, name: &str) -> &'a str {
    let start = xml.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    &xml[start..start + xml[start..].find('"').unwrap()]
}

/// Bob's phone rings (and is CANCELled), alice calls him with her Contact on a second
/// process, which answers the picking INVITE. Returns (bob, alice's call, alice's second
/// process).
fn bob_rings(server: &Server) -> (Background, Background, Background) {
    let (_, bob) = phone(server, "bob", "uas-ring-cancel-487.xml");
    let bob = bob.spawn();
    let other = free_port();
    let alice2 = Sipp::new(
        server,
        "alice-answers",
        "uas-answer-200-picked-up.xml",
        other,
    )
    .service("alice")
    .spawn();
    let alice = caller(server, "alice", "uac-invite-picked-expect-487.xml", "bob")
        .key("contactport", other)
        .run_background();
    (bob, alice, alice2)
}

/// The ladders of bob, alice's call and alice's second process after a pickup, and the
/// picking INVITE as alice's second process got it: sent to her Contact, with Replaces
/// naming her early dialog with bob.
fn assert_picked_up(
    server: &Server,
    bob: Background,
    alice: Background,
    alice2: Background,
) -> String {
    let a2 = alice2.wait();
    a2.assert_ok("alice's phone answering the pickup");
    let a = alice.wait();
    a.assert_ok("alice's picked-up call");
    let b = bob.wait();
    b.assert_ok("bob's ringing phone");
    assert_eq!(
        a.ladder(),
        rungs(&["> INVITE", "< 100", "< 180", "< 487", "> ACK"])
    );
    assert_eq!(
        b.ladder(),
        rungs(&["< INVITE", "> 180", "< CANCEL", "> 200", "> 487", "< ACK"])
    );
    assert_eq!(
        a2.ladder(),
        rungs(&["< INVITE", "> 180", "> 200", "< ACK", "< BYE", "> 200"])
    );
    let invite = a2.find(false, "INVITE").swap_remove(0);
    assert_via_proxy(server, &invite);
    let ringing = &b.find(true, "SIP/2.0 180")[0];
    let first = &a.find(true, "INVITE")[0];
    let expected = format!(
        "{};to-tag={};from-tag={};early-only",
        header(first, "Call-ID").unwrap(),
        tag(header(ringing, "To").unwrap()),
        tag(header(first, "From").unwrap()),
    );
    assert_eq!(
        header(&invite, "Replaces"),
        Some(expected.as_str()),
        "{invite}"
    );
    invite
}

/// RFC 5359 §2.16 Call Pickup with the server as the dialog-state notifier.
///
/// ```text
/// Carol (BLF)     Carol (pickup)   Switchboard          Alice (2 processes)   Bob
///   | SUBSCRIBE bob, 200, NOTIFY v0 (idle) |                   |               |
///   |<------------------------------------>|  INVITE bob       |               |
///   |                 |                |<------------------|  INVITE         |
///   | NOTIFY v1 trying, v2 early (ids) |------------------------------------>|
///   |<---------------------------------|  180              |          180    |
///   |                 | INVITE bob, Replaces: early dialog  |<----------------|
///   |                 |--------------->| INVITE to alice's Contact (Replaces) |
///   |                 |                |------------------>|                 |
///   |                 | 180 / 200      |  180 / 200        |                 |
///   |                 |<---------------|<------------------|                 |
///   |                 |                | CANCEL / 200 / 487 / ACK            |
///   |                 |                |------------------------------------>|
///   |                 |                |  487 / ACK        |                 |
///   |                 |                |------------------>|                 |
///   | NOTIFY v3 terminated (replaced)  |                   |                 |
///   |<---------------------------------|                   |                 |
///   | SUBSCRIBE Expires: 0, 200, NOTIFY terminated        |                 |
///   |                 | ACK, BYE / 200 |<----------------->|                 |
/// ```
#[test]
fn rfc5359_2_16_call_pickup_by_replaces_from_the_blf_notify() {
    let server = Server::start(BIN, Options::default());
    let watcher = caller(
        &server,
        "carol-blf",
        "uac-subscribe-pickup-expect-notify.xml",
        "bob",
    )
    .key("caller", "carol")
    .run_background();
    wait_trace(&server, "carol-blf", "state=\"full\"");
    let (bob, alice, alice2) = bob_rings(&server);
    wait_trace(&server, "carol-blf", "<state>early</state>");
    let seen = trace_so_far(&server, "carol-blf");
    let early = seen
        .find(false, "NOTIFY")
        .into_iter()
        .find(|n| n.contains("<state>early</state>"))
        .unwrap();
    let replaces = format!(
        "{};to-tag={};from-tag={};early-only",
        attr(&early, "call-id"),
        attr(&early, "local-tag"),
        attr(&early, "remote-tag"),
    );
    let c = caller(
        &server,
        "carol-pickup",
        "uac-invite-replaces-expect-200.xml",
        "bob",
    )
    .key("from", "carol")
    .key("replaces", &replaces)
    .run();
    c.assert_ok("carol's picking phone");
    assert_eq!(
        c.ladder(),
        rungs(&["> INVITE", "< 100", "< 180", "< 200", "> ACK", "> BYE", "< 200"])
    );
    let invite = assert_picked_up(&server, bob, alice, alice2);
    assert_eq!(header(&invite, "Replaces"), Some(replaces.as_str()));
    let w = watcher.wait();
    w.assert_ok("carol's BLF key");
    assert_eq!(
        w.ladder(),
        rungs(&[
            "> SUBSCRIBE",
            "< 200",
            "< NOTIFY",
            "> 200",
            "< NOTIFY",
            "> 200",
            "< NOTIFY",
            "> 200",
            "< NOTIFY",
            "> 200",
            "> SUBSCRIBE",
            "< 200",
            "< NOTIFY",
            "> 200",
        ])
    );
}

/// Bob's phone rings (alice calls him); carol's phone dials `number` to pick the call up,
/// and the pickup is checked at every phone (`assert_picked_up`). Carol's SIPp result,
/// and the INVITE alice's phone got.
fn carol_dials_while_bob_rings(server: &Server, number: &str) -> (SippResult, String) {
    let (bob, alice, alice2) = bob_rings(server);
    wait_trace(server, "alice", "SIP/2.0 180");
    let c = caller(
        server,
        "carol-pickup",
        "uac-invite-pickup-expect-200.xml",
        number,
    )
    .key("from", "carol")
    .run();
    let invite = assert_picked_up(server, bob, alice, alice2);
    (c, invite)
}

/// Directed pickup: carol dials `*8bob` while bob's phone rings; the proxy finds the
/// ringing call, adds Replaces for it, and the rest is the §2.16 ladder above.
#[test]
fn star_8_ext_picks_up_the_call_ringing_that_user() {
    let server = Server::start(BIN, Options::default());
    let (c, invite) = carol_dials_while_bob_rings(&server, "*8bob");
    c.assert_ok("carol dialling *8bob");
    assert_eq!(
        c.ladder(),
        rungs(&["> INVITE", "< 100", "< 180", "< 200", "> ACK", "> BYE", "< 200"])
    );
    assert!(
        invite.starts_with("INVITE sip:alice@127.0.0.1:"),
        "{invite}"
    );
    // Nothing rings now: the code answers 480.
    let none = caller(&server, "alice-none", "uac-invite-expect-480.xml", "*8bob").run();
    none.assert_ok("*8bob with nothing ringing");
}

/// Group pickup: `switchboard pickup-group add desk bob carol`; carol dials `*8` while bob's
/// phone rings and picks the call up (the §2.16 ladder above). Deleting the group ends it.
#[test]
fn star_8_picks_up_a_call_ringing_in_the_group() {
    let server = Server::start(BIN, Options::default());
    let added = server.cli(&[
        "pickup-group",
        "add",
        "desk",
        "bob@example.com",
        "carol@example.com",
    ]);
    assert!(added.contains("2 user(s) in pickup group desk"), "{added}");
    let list = server.cli(&["pickup-group", "list"]);
    assert!(
        list.contains("desk") && list.contains("bob@example.com carol@example.com"),
        "{list}"
    );
    let bad = server.cli_raw(&["pickup-group", "add", "desk", "nobody@example.com"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nobody@example.com"));

    let (c, invite) = carol_dials_while_bob_rings(&server, "*8");
    c.assert_ok("carol dialling *8");
    assert!(invite.starts_with("INVITE sip:alice@"), "{invite}");

    let deleted = server.cli(&["pickup-group", "del", "desk"]);
    assert!(
        deleted.contains("pickup group desk deleted (2 members)"),
        "{deleted}"
    );
    assert!(!server.cli(&["pickup-group", "list"]).contains("desk"));
}
