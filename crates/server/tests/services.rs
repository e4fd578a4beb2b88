//! RFC 5359 call-service flows carried by the proxy, end to end: the real binary between
//! SIPp phones, provisioned with `switchboard forward|screen|findme`. Each test names its
//! section and draws its ladder. See docs/services.md.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::forwarding::{self, alice, history, ladder};
use testkit::open;
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::sipp::{header, headers, Sipp};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A server whose `[services]` section is set (spliced after `[sip]` by the harness's
/// extra-lines hook): announcement URI for screening, 2 s per find-me contact group.
fn server() -> Server {
    let opts = Options {
        sip: "\n[services]\nscreening_announcement = \"sip:announcement@127.0.0.1\"\n\
              findme_contact_ring_secs = 2\n"
            .into(),
        ..Options::default()
    };
    Server::start(BIN, opts)
}

/// A phone of `user` answering with `scenario`, registered from its port first.
fn phone(server: &Server, user: &str, scenario: &str) -> testkit::sipp::Background {
    open::phone(server, user, scenario).1.spawn()
}

/// RFC 5359 §2.7 Call Forwarding Unconditional, to an outside (IP-literal) target.
///
/// ```text
/// Alice            Switchboard            Bob (fwd always)     Voicemail
///   | F1 INVITE bob     |                      |                   |
///   |------------------>|                      |                   |
///   | F2 100 Trying     |                      |                   |
///   |<------------------|                      |                   |
///   | F3 181 Forwarded  | F4 INVITE voicemail (History-Info)       |
///   |<------------------|----------------------------------------->|
///   | F6 180 Ringing    |                      |   F5 180 Ringing  |
///   |<------------------|<-----------------------------------------|
///   | F8 200 OK         |                      |   F7 200 OK       |
///   |<------------------|<-----------------------------------------|
///   | ACK, BYE / 200 through the proxy (Record-Route)              |
/// ```
#[test]
fn rfc5359_2_7_unconditional_forwarding() {
    let server = server();
    let vm_port = free_port();
    let target = format!("sip:voicemail@127.0.0.1:{vm_port}");
    server.cli(&["forward", "set", "bob@example.com", "always", &target]);
    let vm = Sipp::new(&server, "voicemail", "uas-answer-200.xml", vm_port)
        .service("voicemail")
        .spawn();
    let a = alice(&server, "uac-invite-forwarded-expect-200.xml", "bob");
    a.assert_ok("caller");
    let vm = vm.wait();
    vm.assert_ok("forwarding target");
    assert_eq!(
        a.ladder(),
        ladder(&["> INVITE", "< 100", "< 181", "< 180", "< 200"])
    );
    let invite = &vm.find(false, "INVITE")[0];
    assert!(
        invite.starts_with(&format!("INVITE {target} SIP/2.0")),
        "{invite}"
    );
    assert_eq!(
        history(invite),
        [
            "<sip:bob@example.com>;index=1".to_string(),
            format!("<{target};cause=302>;index=1.1;mp=1"),
        ],
        "{invite}"
    );
    // One hop for the retarget, one for the proxy.
    assert_eq!(header(invite, "Max-Forwards"), Some("68"), "{invite}");
}

/// RFC 5359 §2.8 Call Forwarding Busy, to another local user.
///
/// ```text
/// Alice            Switchboard            Bob (fwd busy)        Carol
///   | INVITE bob        | INVITE               |                   |
///   |------------------>|--------------------->|                   |
///   | 100 Trying        | 486 Busy Here        |                   |
///   |<------------------|<---------------------|                   |
///   |                   | ACK                  |                   |
///   | 181 Forwarded     |--------------------->|                   |
///   |<------------------| INVITE carol (History-Info cause=486)    |
///   |                   |----------------------------------------->|
///   | 180, 200          |                        180, 200          |
///   |<------------------|<-----------------------------------------|
/// ```
#[test]
fn rfc5359_2_8_call_forwarding_busy() {
    let server = server();
    forwarding::busy(&server, &server);
}

/// RFC 5359 §2.9 Call Forwarding No Answer: Bob rings for 2 s, then Carol.
///
/// ```text
/// Alice            Switchboard            Bob (fwd no-answer 2s) Carol
///   | INVITE bob        | INVITE               |                   |
///   |------------------>|--------------------->|                   |
///   | 100, 180          | 180 Ringing          |                   |
///   |<------------------|<---------------------|                   |
///   |                   | (2 s) CANCEL         |                   |
///   |                   |--------------------->|                   |
///   |                   | 200 (CANCEL), 487    |                   |
///   |                   |<---------------------|                   |
///   |                   | ACK                  |                   |
///   | 181 Forwarded     |--------------------->|                   |
///   |<------------------| INVITE carol (History-Info cause=408)    |
///   |                   |----------------------------------------->|
///   | 180, 200          |                        180, 200          |
///   |<------------------|<-----------------------------------------|
/// ```
#[test]
fn rfc5359_2_9_call_forwarding_no_answer() {
    let server = server();
    forwarding::no_answer(&server, &server);
}

/// Call Forwarding Unavailable (the §2.7 ladder when Bob has no registered phone).
///
/// ```text
/// Alice            Switchboard (bob: no contact)           Carol
///   | INVITE bob        |                                    |
///   |------------------>| INVITE carol (History-Info cause=404)
///   | 100, 181          |----------------------------------->|
///   |<------------------|                    180, 200        |
///   | 180, 200          |<-----------------------------------|
///   |<------------------|                                    |
/// ```
#[test]
fn call_forwarding_unavailable() {
    let server = server();
    forwarding::unavailable(&server, &server);
}

/// RFC 5359 §2.12 Find-Me: Bob's own phone rings 2 s (the contact ring time), then the
/// find-me list's next target, Carol, who answers.
///
/// ```text
/// Alice            Switchboard            Bob's phone           Carol
///   | INVITE bob        | INVITE               |                   |
///   |------------------>|--------------------->|                   |
///   | 100, 180          | 180                  |                   |
///   |<------------------|<---------------------|                   |
///   |                   | (2 s) CANCEL / 487 / ACK                 |
///   |                   |<-------------------->| INVITE carol      |
///   |                   |----------------------------------------->|
///   | 180, 200          |                        180, 200          |
///   |<------------------|<-----------------------------------------|
/// ```
#[test]
fn rfc5359_2_12_find_me() {
    let server = server();
    forwarding::find_me(&server, &server);
}

/// RFC 5359 §2.13 Incoming Call Screening: Bob blocks Alice; the proxy answers 403 with
/// the announcement in Error-Info and never rings Bob.
///
/// ```text
/// Alice            Switchboard            Bob
///   | INVITE bob        |                   |
///   |------------------>|                   |
///   | 403 Forbidden     |                   |
///   | Error-Info: <sip:announcement@...>    |
///   |<------------------|                   |
///   | ACK               |                   |
///   |------------------>|                   |
/// ```
#[test]
fn rfc5359_2_13_incoming_call_screening() {
    let server = server();
    server.cli(&[
        "screen",
        "add",
        "bob@example.com",
        "--incoming",
        "alice@example.com",
    ]);
    let a = alice(&server, "uac-invite-screened-expect-403.xml", "bob");
    a.assert_ok("screened caller");
    assert_eq!(a.ladder(), ["> INVITE", "< 403", "> ACK"]);
    let resp = &a.find(false, "SIP/2.0 403")[0];
    assert_eq!(
        header(resp, "Error-Info"),
        Some("<sip:announcement@127.0.0.1>")
    );
    // Another caller's calls are not screened: carol reaches bob's 404-free path (480:
    // no phone registered).
    server.cli(&[
        "screen",
        "del",
        "bob@example.com",
        "--incoming",
        "alice@example.com",
    ]);
    let a = alice(&server, "uac-invite-expect-480.xml", "bob");
    a.assert_ok("caller after the rule is removed");
}

/// RFC 5359 §2.14 Outgoing Call Screening: Alice may not call +1900 numbers.
///
/// ```text
/// Alice            Switchboard
///   | INVITE +19005551234 |
///   |-------------------->|
///   | 403 Forbidden       |
///   | Error-Info          |
///   |<--------------------|
///   | ACK                 |
///   |-------------------->|
/// ```
#[test]
fn rfc5359_2_14_outgoing_call_screening() {
    let server = server();
    server.cli(&["screen", "add", "alice@example.com", "--outgoing", "+1900*"]);
    let a = alice(
        &server,
        "uac-invite-screened-expect-403.xml",
        "+19005551234",
    );
    a.assert_ok("screened caller");
    assert_eq!(a.ladder(), ["> INVITE", "< 403", "> ACK"]);
}

/// RFC 3428 MESSAGE (the page mode of RFC 5359 §2.6's instant messages): delivered to
/// both of Bob's registered devices; Alice gets one 200.
///
/// ```text
/// Alice            Switchboard            Bob #1        Bob #2
///   | MESSAGE bob       | MESSAGE             |             |
///   |------------------>|-------------------->|             |
///   |                   | MESSAGE                           |
///   |                   |---------------------------------->|
///   |                   | 200 OK              |   200 OK    |
///   | 200 OK            |<--------------------|<------------|
///   |<------------------|                     |             |
/// ```
#[test]
fn rfc3428_message_to_both_devices() {
    let server = server();
    let one = phone(&server, "bob", "uas-message-200.xml");
    let two = phone(&server, "bob", "uas-message-200.xml");
    let a = alice(&server, "uac-message-expect-200.xml", "bob");
    a.assert_ok("sender");
    one.wait().assert_ok("first device");
    two.wait().assert_ok("second device");
    assert_eq!(a.ladder(), ["> MESSAGE", "< 200"]);
}

/// A forwarding loop: Bob forwards everything to Carol, Carol to Bob. The proxy ends
/// the call at once with 482 and sends no INVITE at all.
///
/// ```text
/// Alice            Switchboard
///   | INVITE bob        |  bob -> carol -> bob: loop
///   |------------------>|
///   | 482 Loop Detected |
///   |<------------------|
///   | ACK               |
///   |------------------>|
/// ```
#[test]
fn forwarding_loop_ends_in_482() {
    let server = server();
    server.cli(&[
        "forward",
        "set",
        "bob@example.com",
        "always",
        "carol@example.com",
    ]);
    server.cli(&[
        "forward",
        "set",
        "carol@example.com",
        "always",
        "bob@example.com",
    ]);
    let before = server.status();
    let a = alice(&server, "uac-invite-loop-expect-482.xml", "bob");
    a.assert_ok("caller");
    assert_eq!(a.ladder(), ["> INVITE", "< 482", "> ACK"]);
    let after = server.status();
    let sent = after["udp_tx"].as_u64().unwrap() - before["udp_tx"].as_u64().unwrap();
    // The 482 (and perhaps a retransmission of it): nothing forwarded.
    assert!(
        sent <= 3,
        "the server sent {sent} datagrams for a forwarding loop"
    );
}

/// An in-dialog REFER (the transfer request of RFC 5359 §2.4-§2.6) and its NOTIFY follow
/// the route set the dialog learnt from Record-Route: both cross the proxy.
///
/// ```text
/// Alice            Switchboard            Bob
///   | INVITE / 180 / 200 (Record-Route) / ACK |
///   |<-------------------------------------->|
///   | REFER (Route)     | REFER              |
///   |------------------>|------------------->|
///   | 202 Accepted      | 202 Accepted       |
///   |<------------------|<-------------------|
///   | NOTIFY (refer)    | NOTIFY (Route)     |
///   |<------------------|<-------------------|
///   | 200 OK            | 200 OK             |
///   |------------------>|------------------->|
///   | BYE / 200 through the proxy            |
/// ```
#[test]
fn refer_in_dialog_follows_record_route() {
    let server = server();
    let bob = phone(&server, "bob", "uas-answer-200-refer-202.xml");
    let a = alice(&server, "uac-invite-refer-expect-202.xml", "bob");
    a.assert_ok("transferor");
    let bob = bob.wait();
    bob.assert_ok("transferee");
    assert_eq!(
        a.ladder(),
        [
            "> INVITE", "< 100", "< 180", "< 200", "> ACK", "> REFER", "< 202", "< NOTIFY",
            "> 200", "> BYE", "< 200"
        ]
    );
    let refer = &bob.find(false, "REFER")[0];
    assert!(
        headers(refer, "Via")[0].contains(&server.addr()),
        "REFER did not come through the proxy:\n{refer}"
    );
    let notify = &a.find(false, "NOTIFY")[0];
    assert!(
        headers(notify, "Via")[0].contains(&server.addr()),
        "NOTIFY did not come through the proxy:\n{notify}"
    );
}
