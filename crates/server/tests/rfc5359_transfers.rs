//! RFC 5359 server-side service flows that the proxy carries without any service of its
//! own, those that move a call to another phone: unattended and attended transfer (hold,
//! redial, click-to-dial: rfc5359_calls.rs; call pickup, done by the proxy from the dialog
//! state it serves: presence_pickup.rs). The real binary sits between
//! SIPp phones; each test names its RFC section, draws its ladder, and asserts the message
//! order at each phone (the SIPp `<recv>` order plus the trace) and the headers that
//! matter.
//!
//! A SIPp scenario plays one Call-ID, so a phone taking part in two dialogs (a transferee
//! that also places the new call, a transferor that also consults) is played by two SIPp
//! processes for the same user; the test starts the second one when the first has reached
//! the point the RFC ladder requires (a condition on the first's trace or exit), and where
//! one dialog must wait for the other inside the ladder, the two processes are joined by a
//! SIPp 3PCC twin socket (`sendCmd` / `recvCmd`, the rung `twin` in the ladders below).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::open::{assert_via_proxy, caller, move_binding, phone};
use testkit::server::Server;
use testkit::sipp::{header, headers, rungs, twin, twin_ladder as ladder, wait_trace, Sipp};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// RFC 5359 §2.4 Unattended (blind) Transfer.
///
/// ```text
/// Alice (transferee)     Switchboard      Bob (transferor)      Carol (target)
///   | INVITE bob, 180, 200, ACK (RR)        |                     |
///   |<=====================================>|                     |
///   | REFER (Refer-To carol) | REFER (Route)|                     |
///   |<-----------------------|<-------------|                     |
///   | 202 Accepted           | 202          |                     |
///   |----------------------->|------------->|                     |
///   | NOTIFY (100 Trying)    | NOTIFY       |                     |
///   |----------------------->|------------->|                     |
///   | 200 OK                 | 200          |                     |
///   |<-----------------------|<-------------|                     |
///   | BYE                    | BYE          |                     |
///   |<-----------------------|<-------------|                     |
///   | 200 OK                 | 200          |                     |
///   |----------------------->|------------->|                     |
///   | INVITE carol (Referred-By bob)        |                     |
///   |----------------------->|----------------------------------->|
///   | 180, 200               |              |           180, 200  |
///   |<-----------------------|<-----------------------------------|
///   | ACK, BYE / 200 along the route set                          |
/// ```
///
/// Carol receives, through the proxy, the INVITE with the Referred-By that Alice took from
/// Bob's REFER. Left out: the final NOTIFY (sipfrag 200 OK) from Alice to Bob after Carol
/// answers; Alice's new call is another SIPp process (another Call-ID), and Bob's phone has
/// hung up by then.
/// The transferee's ladder (alice, whom bob transfers): her call, the REFER, the NOTIFY of
/// the new call's progress, and bob's BYE.
const TRANSFEREE: &[&str] = &[
    "> INVITE", "< 100", "< 180", "< 200", "> ACK", "< REFER", "> 202", "> NOTIFY", "< 200",
    "< BYE", "> 200",
];

#[test]
fn rfc5359_2_4_unattended_transfer() {
    let server = Server::start(BIN, testkit::server::Options::default());
    let (_, carol) = phone(&server, "carol", "uas-answer-200-referred.xml");
    let carol = carol.spawn();
    let (_, bob) = phone(&server, "bob", "uas-answer-200-transferor-refer-202.xml");
    let bob = bob.spawn();
    let a = caller(
        &server,
        "alice",
        "uac-invite-transferee-expect-bye.xml",
        "bob",
    )
    .run();
    a.assert_ok("transferee");
    let b = bob.wait();
    b.assert_ok("transferor");
    assert_eq!(a.ladder(), rungs(TRANSFEREE));
    assert_eq!(
        b.ladder(),
        rungs(&[
            "< INVITE", "> 180", "> 200", "< ACK", "> REFER", "< 202", "< NOTIFY", "> 200",
            "> BYE", "< 200",
        ])
    );
    let refer = &a.find(false, "REFER")[0];
    assert_via_proxy(&server, refer);
    assert!(headers(refer, "Record-Route").is_empty(), "{refer}");
    let referred_by = header(refer, "Referred-By").unwrap().to_string();

    // Alice calls the Refer-To target.
    let a2 = caller(
        &server,
        "alice-to-carol",
        "uac-invite-referred-expect-200.xml",
        "carol",
    )
    .key("referredby", &referred_by)
    .run();
    a2.assert_ok("transferee's new call");
    let c = carol.wait();
    c.assert_ok("transfer target");
    assert_eq!(
        c.ladder(),
        rungs(&["< INVITE", "> 180", "> 200", "< ACK", "< BYE", "> 200"])
    );
    let invite = &c.find(false, "INVITE")[0];
    assert_via_proxy(&server, invite);
    assert_eq!(
        header(invite, "Referred-By"),
        Some("<sip:bob@example.com>"),
        "{invite}"
    );
    assert!(
        invite.starts_with("INVITE sip:carol@127.0.0.1:"),
        "{invite}"
    );
}

/// RFC 5359 §2.5 Attended Transfer.
///
/// ```text
/// Alice (transferee)   Switchboard     Bob (transferor)          Carol (target)
///   | INVITE bob, 180, 200, ACK (RR)   |                          |
///   |<================================>|                          |
///   |                  | INVITE carol (consultation), 180, 200, ACK |
///   |                  |<================================>|<=======>|
///   | REFER (Refer-To carol?Replaces=bc-callid%3Bto-tag%3D..%3Bfrom-tag%3D..)
///   |<-----------------|<-----------------|                        |
///   | 202, NOTIFY (100 Trying) / 200      |                        |
///   |----------------->|----------------->|                        |
///   | BYE / 200        | (Bob hangs up)   |                        |
///   |<-----------------|<-----------------|                        |
///   | INVITE carol  Replaces: bc-callid;to-tag=..;from-tag=..       |
///   |----------------->|------------------------------------------->|
///   | 180, 200, ACK    |                  |             180, 200, ACK
///   |<================>|<=========================================>|
///   |                  | BYE (replaced consultation dialog)         |
///   |                  |----------------->|<-----------------------|
///   |                  | 200              |                        |
///   | BYE / 200 along the route set (Alice-Carol)                   |
/// ```
///
/// Carol receives, through the proxy, the INVITE with the Replaces header intact (the
/// Refer-To's escaped `?Replaces=` unescaped by Alice), and her BYE of the replaced
/// dialog reaches Bob along that dialog's route set.
///
/// How SIPp plays it: one SIPp process per dialog. Bob's two processes (first call,
/// consultation) and Carol's two (consultation, replacing call) are each joined by a
/// 3PCC twin socket: Bob's consultation tells his first call it is up (with its dialog id,
/// escaped), Carol's replacing call tells her consultation to hang up. Carol's binding moves
/// to her second process's port before Alice's INVITE. Departures from the RFC ladder: the
/// holds (re-INVITEs) before the consultation and the REFER are left out (§2.1 covers
/// them); Bob hangs up after the 100 Trying NOTIFY instead of after a final 200 OK NOTIFY,
/// which is not played (Alice's new call is another process).
#[test]
fn rfc5359_2_5_attended_transfer() {
    let server = Server::start(BIN, testkit::server::Options::default());
    let (twin_bob, twin_carol) = (twin(), twin());
    let (carol_port, consulted) = phone(&server, "carol", "uas-answer-200-consulted-bye.xml");
    let consulted = consulted.arg("-3pcc").arg(&twin_carol).spawn();
    let (bob_port, transferor) = phone(
        &server,
        "bob",
        "uas-answer-200-transferor-attended-refer-202.xml",
    );
    let transferor = transferor.arg("-3pcc").arg(&twin_bob).spawn();
    let a = caller(
        &server,
        "alice",
        "uac-invite-transferee-replaces-expect-bye.xml",
        "bob",
    )
    .arg("-cid_str")
    .arg("attended-ab")
    .run_background();
    wait_trace(&server, &format!("bob-{bob_port}"), "ACK sip:bob@");

    // Bob's consultation call.
    let consult = caller(
        &server,
        "bob-consult",
        "uac-invite-consult-expect-bye.xml",
        "carol",
    )
    .key("firstcallid", "attended-ab")
    .arg("-cid_str")
    .arg("attended-bc")
    .arg("-3pcc")
    .arg(&twin_bob)
    .run_background();
    let a = a.wait();
    a.assert_ok("transferee");
    let b = transferor.wait();
    b.assert_ok("transferor");
    assert_eq!(a.ladder(), rungs(TRANSFEREE));
    assert_eq!(
        ladder(&b),
        rungs(&[
            "< INVITE", "> 180", "> 200", "< ACK", "< twin", "> REFER", "< 202", "< NOTIFY",
            "> 200", "> BYE", "< 200",
        ])
    );
    let refer = &a.find(false, "REFER")[0];
    assert_via_proxy(&server, refer);
    let refer_to = header(refer, "Refer-To").unwrap();
    let escaped = refer_to
        .strip_prefix("<sip:carol@example.com?Replaces=")
        .and_then(|r| r.strip_suffix('>'))
        .unwrap_or_else(|| panic!("{refer}"));
    let replaces = escaped
        .replace("%3B", ";")
        .replace("%3D", "=")
        .replace("%40", "@");
    assert!(
        replaces.starts_with("attended-bc;to-tag=") && replaces.contains(";from-tag="),
        "{replaces}"
    );

    // Alice calls Carol, replacing the consultation dialog.
    let new_port = move_binding(&server, "carol", carol_port);
    let replacing = Sipp::new(
        &server,
        "carol-replacing",
        "uas-answer-200-replaces.xml",
        new_port,
    )
    .service("carol")
    .arg("-3pcc")
    .arg(&twin_carol)
    .spawn();
    let a2 = caller(
        &server,
        "alice-to-carol",
        "uac-invite-replaces-expect-200.xml",
        "carol",
    )
    .key("from", "alice")
    .key("replaces", &replaces)
    .run();
    a2.assert_ok("transferee's INVITE with Replaces");
    let c2 = replacing.wait();
    c2.assert_ok("target, replacing dialog");
    let c1 = consulted.wait();
    c1.assert_ok("target, consultation dialog");
    let b2 = consult.wait();
    b2.assert_ok("transferor, consultation dialog");
    assert_eq!(
        ladder(&b2),
        rungs(&["> INVITE", "< 100", "< 180", "< 200", "> ACK", "> twin", "< BYE", "> 200"])
    );
    assert_eq!(
        ladder(&c1),
        rungs(&["< INVITE", "> 180", "> 200", "< ACK", "< twin", "> BYE", "< 200"])
    );
    assert_eq!(
        ladder(&c2),
        rungs(&["< INVITE", "> 180", "> 200", "< ACK", "> twin", "< BYE", "> 200"])
    );
    let invite = &c2.find(false, "INVITE")[0];
    assert_via_proxy(&server, invite);
    assert!(
        invite.starts_with(&format!("INVITE sip:carol@127.0.0.1:{new_port}")),
        "{invite}"
    );
    assert_eq!(
        header(invite, "Replaces"),
        Some(replaces.as_str()),
        "{invite}"
    );
    assert_via_proxy(&server, &b2.find(false, "BYE")[0]);
}
