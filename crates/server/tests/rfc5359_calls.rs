//! RFC 5359 server-side service flows that the proxy carries without any service of its
//! own, those that hold, redial and place calls: hold, automatic redial, click-to-dial
//! (transfers and pickup: rfc5359_transfers.rs). The real binary sits between SIPp phones;
//! each test names its RFC section, draws its ladder, and asserts the message order at
//! each phone (the SIPp `<recv>` order plus the trace) and the headers that matter.
//!
//! A SIPp scenario plays one Call-ID, so a phone taking part in two dialogs (a transferee
//! that also places the new call, a transferor that also consults) is played by two SIPp
//! processes for the same user; the test starts the second one when the first has reached
//! the point the RFC ladder requires (a condition on the first's trace or exit), and where
//! one dialog must wait for the other inside the ladder, the two processes are joined by a
//! SIPp 3PCC twin socket (`sendCmd` / `recvCmd`, the rung `twin` in the ladders below).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::open::{assert_via_proxy, caller, phone};
use testkit::server::Server;
use testkit::sipp::{header, headers, rungs, twin, twin_ladder as ladder, wait_trace, Sipp};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// The proxy's `host:port` as it appears in its Via and Record-Route.
fn me(server: &Server) -> String {
    server.addr()
}

/// RFC 5359 §2.1 Call Hold.
///
/// ```text
/// Alice              Switchboard              Bob
///   | INVITE bob         | INVITE (RR)          |
///   |------------------->|--------------------->|
///   | 100 / 180 / 200    |        180 / 200     |
///   |<-------------------|<---------------------|
///   | ACK (Route)        | ACK                  |
///   |------------------->|--------------------->|
///   | INVITE sendonly    | INVITE sendonly      |   hold
///   |------------------->|--------------------->|
///   | 200 recvonly       | 200 recvonly         |
///   |<-------------------|<---------------------|
///   | ACK                | ACK                  |
///   |------------------->|--------------------->|
///   | INVITE sendrecv    | INVITE sendrecv      |   resume
///   |------------------->|--------------------->|
///   | 200 sendrecv / ACK | 200 sendrecv / ACK   |
///   |<------------------>|<-------------------->|
///   | BYE / 200          | BYE / 200            |
/// ```
///
/// Both re-INVITEs reach Bob with the proxy's Via on top and no Record-Route (the proxy
/// record-routes only dialog-creating requests); their SDP direction attributes pass
/// untouched both ways.
#[test]
fn rfc5359_2_1_call_hold() {
    let server = Server::start(BIN, testkit::server::Options::default());
    let (_, bob) = phone(&server, "bob", "uas-answer-200-hold-200.xml");
    let bob = bob.spawn();
    let a = caller(&server, "alice", "uac-invite-hold-expect-200.xml", "bob").run();
    a.assert_ok("holding party");
    let b = bob.wait();
    b.assert_ok("held party");
    assert_eq!(
        a.ladder(),
        rungs(&[
            "> INVITE", "< 100", "< 180", "< 200", "> ACK", // call
            "> INVITE", "< 100", "< 200", "> ACK", // hold
            "> INVITE", "< 100", "< 200", "> ACK", // resume
            "> BYE", "< 200",
        ])
    );
    assert_eq!(
        b.ladder(),
        rungs(&[
            "< INVITE", "> 180", "> 200", "< ACK", // call
            "< INVITE", "> 200", "< ACK", // hold
            "< INVITE", "> 200", "< ACK", // resume
            "< BYE", "> 200",
        ])
    );
    let reinvites: Vec<String> = b
        .find(false, "INVITE")
        .into_iter()
        .filter(|m| header(m, "To").is_some_and(|t| t.contains("tag=")))
        .collect();
    assert_eq!(reinvites.len(), 2, "{}", b.messages);
    for (re, mode) in reinvites.iter().zip(["a=sendonly", "a=sendrecv"]) {
        assert_via_proxy(&server, re);
        assert!(
            headers(re, "Record-Route").is_empty(),
            "Record-Route on an in-dialog request:\n{re}"
        );
        assert!(re.contains(mode), "{re}");
    }
}

/// RFC 5359 §2.17 Automatic Redial, with the server as the notifier of Bob's dialog state
/// (RFC 4235; phones need not be notifiers).
///
/// ```text
/// Alice              Switchboard              Bob (busy with Carol)
///   |                    |  Carol's call: INVITE, 180, 200, ACK  |
///   |                    |<=====================>|
///   | SUBSCRIBE bob (Event: dialog)              |
///   |------------------->|                       |
///   | 200 OK (its tag)   |                       |
///   |<-------------------|                       |
///   | NOTIFY full v0: Bob's call confirmed       |
///   |<-------------------|                       |
///   | 200 OK             |                       |
///   |------------------->|                       |
///   | (twin: Bob, hang up)                      ->|
///   |                    | BYE / 200 (to Carol)  |
///   |                    |<======================|
///   | NOTIFY partial v1: terminated              |
///   |<-------------------|                       |
///   | 200 OK             |                       |
///   |------------------->|                       |
///   | SUBSCRIBE Expires: 0                       |
///   |------------------->|                       |
///   | 200 / NOTIFY (Subscription-State: terminated) / 200
///   |<------------------>|                       |
///   | INVITE bob (redial), 180, 200, ACK, BYE / 200
///   |<==========================================>|
/// ```
///
/// Nothing of the subscription reaches Bob's phone: the server answers it and NOTIFYs from
/// the call it carries. Alice learns the busy call's Call-ID from the first NOTIFY and tells
/// Bob's process (3PCC twin) to hang up, so the second NOTIFY follows a real BYE. The
/// first INVITE answered 486 of the RFC's ladder is not played (Bob's phone is one SIPp
/// process, busy with Carol's call); the redial is a second Alice process once the
/// subscription has ended, answered by a second Bob process on the same registered port.
#[test]
fn rfc5359_2_17_automatic_redial() {
    let server = Server::start(BIN, testkit::server::Options::default());
    let twin_bob = twin();
    let (bob_port, bob) = phone(&server, "bob", "uas-answer-200-hangup-bye.xml");
    let bob = bob.arg("-3pcc").arg(&twin_bob).spawn();
    let carol = caller(
        &server,
        "carol",
        "uac-invite-answered-expect-bye.xml",
        "bob",
    )
    .key("caller", "carol")
    .run_background();
    wait_trace(&server, &format!("bob-{bob_port}"), "ACK sip:");
    let a = caller(
        &server,
        "alice",
        "uac-subscribe-dialog-expect-notify.xml",
        "bob",
    )
    .arg("-3pcc")
    .arg(&twin_bob)
    .run();
    a.assert_ok("subscriber");
    let b = bob.wait();
    b.assert_ok("busy callee");
    carol.wait().assert_ok("busy callee's caller");
    assert_eq!(
        ladder(&a),
        rungs(&[
            "> SUBSCRIBE",
            "< 200",
            "< NOTIFY",
            "> 200",
            "> twin",
            "< NOTIFY",
            "> 200",
            "> SUBSCRIBE",
            "< 200",
            "< NOTIFY",
            "> 200"
        ])
    );
    assert_eq!(
        ladder(&b),
        rungs(&["< INVITE", "> 180", "> 200", "< ACK", "< twin", "> BYE", "< 200"])
    );
    let ok = &a.find(false, "SIP/2.0 200")[0];
    assert!(headers(ok, "Record-Route").is_empty(), "{ok}");
    let busy_call = header(&b.find(false, "INVITE")[0], "Call-ID")
        .unwrap()
        .to_string();
    let notifies = a.find(false, "NOTIFY");
    for notify in &notifies {
        assert_eq!(header(notify, "Event"), Some("dialog"), "{notify}");
        assert!(
            header(notify, "Via").is_some_and(|v| v.contains(&me(&server))),
            "NOTIFY not from the server:\n{notify}"
        );
    }
    for n in &notifies[..2] {
        assert!(n.contains(&format!("call-id=\"{busy_call}\"")), "{n}");
    }

    // Bob is free: Alice redials.
    let bob = Sipp::new(&server, "bob-redial", "uas-answer-200.xml", bob_port)
        .service("bob")
        .spawn();
    let a = caller(&server, "alice-redial", "uac-invite-expect-200.xml", "bob").run();
    a.assert_ok("redial");
    bob.wait().assert_ok("callee of the redial");
    assert_eq!(
        a.ladder(),
        rungs(&["> INVITE", "< 100", "< 180", "< 200", "> ACK", "> BYE", "< 200"])
    );
}

/// RFC 5359 §2.18 Click-to-Dial (the controller's REFER form).
///
/// ```text
/// Controller          Switchboard            Alice                 Bob
///   | REFER alice (Refer-To bob)  |                     |
///   |------------------->|------------>|                     |
///   | 202 Accepted (RR)  | 202         |                     |
///   |<-------------------|<------------|                     |
///   | NOTIFY (refer)     | NOTIFY (Route)                    |
///   |<-------------------|<------------|                     |
///   | 200 OK             | 200         |                     |
///   |------------------->|------------>|                     |
///   |                    | INVITE bob (Referred-By controller) |
///   |                    |<------------|-------------------->|
///   |                    | 180, 200 / ACK, BYE / 200           |
///   |                    |<===========>|<==================>|
/// ```
///
/// The out-of-dialog REFER to a local user reaches Alice's registered contact,
/// record-routed; her NOTIFY goes back along that route set; her INVITE to Bob carries the
/// controller's Referred-By. Left out: a final NOTIFY reporting Bob's answer (Alice's
/// INVITE is another SIPp process, so her single NOTIFY reports 100 Trying and ends the
/// implicit subscription, reason=noresource).
#[test]
fn rfc5359_2_18_click_to_dial() {
    let server = Server::start(BIN, testkit::server::Options::default());
    let (_, bob) = phone(&server, "bob", "uas-answer-200-referred.xml");
    let bob = bob.spawn();
    let (_, alice) = phone(&server, "alice", "uas-refer-202-notify.xml");
    let alice = alice.spawn();
    let ctl = caller(
        &server,
        "controller",
        "uac-refer-clicktodial-expect-202.xml",
        "alice",
    )
    .key("target", "bob")
    .run();
    ctl.assert_ok("controller");
    let a = alice.wait();
    a.assert_ok("alice (REFER)");
    assert_eq!(
        ctl.ladder(),
        rungs(&["> REFER", "< 202", "< NOTIFY", "> 200"])
    );
    assert_eq!(
        a.ladder(),
        rungs(&["< REFER", "> 202", "> NOTIFY", "< 200"])
    );
    let refer = &a.find(false, "REFER")[0];
    assert_via_proxy(&server, refer);
    assert!(refer.starts_with("REFER sip:alice@127.0.0.1:"), "{refer}");
    assert!(
        header(refer, "Record-Route").is_some_and(|rr| rr.contains(&me(&server))),
        "{refer}"
    );
    assert_via_proxy(&server, &ctl.find(false, "NOTIFY")[0]);
    let referred_by = header(refer, "Referred-By").unwrap().to_string();

    let a2 = caller(
        &server,
        "alice-to-bob",
        "uac-invite-referred-expect-200.xml",
        "bob",
    )
    .key("referredby", &referred_by)
    .run();
    a2.assert_ok("alice's call");
    let b = bob.wait();
    b.assert_ok("bob");
    assert_eq!(
        b.ladder(),
        rungs(&["< INVITE", "> 180", "> 200", "< ACK", "< BYE", "> 200"])
    );
    let invite = &b.find(false, "INVITE")[0];
    assert_via_proxy(&server, invite);
    assert_eq!(
        header(invite, "Referred-By"),
        Some("<sip:controller@example.com>"),
        "{invite}"
    );
}
