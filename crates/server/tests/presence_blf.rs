//! The dialog event package served by the server (RFC 4235 over RFC 6665, issue 17), end
//! to end on the real binary with SIPp phones and digest authentication: carol's phone
//! watches bob's line (a busy-lamp field key) while alice calls bob.
//!
//! ```text
//! Carol (BLF)            Switchboard              Alice            Bob
//!   | SUBSCRIBE bob (Event: dialog) |                 |                |
//!   |---------------------->|                         |                |
//!   | 407 / SUBSCRIBE with credentials / 200          |                |
//!   |<--------------------->|                         |                |
//!   | NOTIFY full v0 (idle) |                         |                |
//!   |<----------------------|  INVITE, 407, ACK, INVITE (credentials) |
//!   |                       |<------------------------|                |
//!   | NOTIFY v1 trying      |  INVITE                                  |
//!   |<----------------------|----------------------------------------->|
//!   | NOTIFY v2 early       |  180 (bob's tag)                         |
//!   |<----------------------|<-----------------------------------------|
//!   | NOTIFY v3 confirmed   |  200 / ACK                               |
//!   |<----------------------|<---------------------------------------->|
//!   | NOTIFY v4 terminated  |  BYE / 200                               |
//!   |<----------------------|<---------------------------------------->|
//!   | SUBSCRIBE Expires: 0 / 200 / NOTIFY terminated (full v5)         |
//!   |<--------------------->|                                          |
//! ```
//!
//! Each NOTIFY is answered 200 by carol's SIPp, which checks state, version and package
//! (the scenario's `<ereg>`s); this test checks the dialog ids against what alice and bob
//! really sent: the Call-ID, bob's tag of the 180 (early) and of the 200 (confirmed) as
//! local-tag, alice's From tag as remote-tag.
#![allow(clippy::unwrap_used)]

use testkit::digest;
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::sipp::{header, rungs, tag, wait_trace, BLF_ONE_CALL_RUNGS};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

#[test]
fn a_blf_watcher_sees_early_confirmed_terminated_while_two_phones_call() {
    let server = Server::start(BIN, Options::digest());
    let bob_port = free_port();
    digest::register(&server, "bob", bob_port);
    let bob = server
        .sipp("bob-uas", "uas-invite-answer-expect-bye.xml", bob_port)
        .uas()
        .spawn();
    let watcher =
        digest::carol_watches_bob(&server, "carol-blf", "uac-subscribe-blf-expect-notify.xml")
            .run_background();
    // The first NOTIFY (idle) is in before alice dials.
    wait_trace(&server, "carol-blf", "state=\"full\"");
    let alice = digest::call_bob(&server, "alice");
    let bob = bob.wait();
    bob.assert_ok("bob's phone");
    let carol = watcher.wait();
    carol.assert_ok("carol's BLF key");
    assert_eq!(
        carol.ladder(),
        rungs(
            &[
                &[
                    "> SUBSCRIBE",
                    "< 407",
                    "> SUBSCRIBE",
                    "< 200", // authenticated
                    "< NOTIFY",
                    "> 200", // full state: idle
                ],
                BLF_ONE_CALL_RUNGS,
            ]
            .concat()
        )
    );

    let invite = alice.find(true, "INVITE").pop().unwrap();
    let call_id = header(&invite, "Call-ID").unwrap().to_string();
    let alice_tag = tag(header(&invite, "From").unwrap());
    let ringing = &bob.find(true, "SIP/2.0 180")[0];
    let bob_tag = tag(header(ringing, "To").unwrap());
    assert!(
        !bob_tag.is_empty() && !alice_tag.is_empty(),
        "{invite}\n{ringing}"
    );
    let notifies = carol.find(false, "NOTIFY");
    let ids = format!("call-id=\"{call_id}\" local-tag=\"{bob_tag}\" remote-tag=\"{alice_tag}\" direction=\"recipient\"");
    for (n, state) in [(2, "<state>early</state>"), (3, "<state>confirmed</state>")] {
        assert!(
            notifies[n].contains(&ids),
            "NOTIFY {n} lacks {ids}:\n{}",
            notifies[n]
        );
        assert!(notifies[n].contains(state), "{}", notifies[n]);
    }
    assert!(
        notifies[4].contains("<state event=\"remote-bye\">terminated</state>")
            || notifies[4].contains("<state event=\"local-bye\">terminated</state>"),
        "{}",
        notifies[4]
    );
    assert!(
        notifies[1].contains(&format!("call-id=\"{call_id}\"")),
        "{}",
        notifies[1]
    );
    assert!(
        notifies[0].contains("entity=\"sip:bob@example.com\"") && !notifies[0].contains("<dialog "),
        "{}",
        notifies[0]
    );
}
