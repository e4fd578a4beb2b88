//! Subscriptions survive a restart (issue 17): a busy-lamp field key's dialog
//! subscription (RFC 4235 over RFC 6665) is kept in the store, so after the server
//! restarts the key's refresh in the same dialog gets 200 (not 481) and a call placed
//! after the restart still reaches it as NOTIFYs. End to end on the real binary with SIPp
//! phones and digest authentication.
//!
//! ```text
//! Carol (BLF)               Switchboard                  Alice          Bob
//!   | SUBSCRIBE bob / 407 / SUBSCRIBE / 200 / NOTIFY full / 200 |           |
//!   |<------------------------>|                          |               |
//!   |                 (restart: stop, start)              |               |
//!   | SUBSCRIBE (same dialog, refresh) / 200 / NOTIFY full / 200          |
//!   |<------------------------>|  INVITE bob (407, credentials)           |
//!   | NOTIFY trying, early,    |<-------------------------|-------------->|
//!   |  confirmed, terminated   |  200 / ACK / BYE                         |
//!   |<------------------------>|                                          |
//!   | SUBSCRIBE Expires: 0 / 200 / NOTIFY terminated / 200                |
//! ```
#![allow(clippy::unwrap_used)]

use testkit::digest;
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::sipp::{header, rungs, tag, wait_trace, BLF_ONE_CALL_RUNGS};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

#[test]
fn a_dialog_subscription_outlives_a_restart() {
    let mut server = Server::start(BIN, Options::digest());
    let bob_port = free_port();
    digest::register(&server, "bob", bob_port);
    let first =
        digest::carol_watches_bob(&server, "carol-subscribes", "uac-subscribe-dialog-once.xml")
            .run();
    first.assert_ok("carol's first SUBSCRIBE");
    let sent = first.find(true, "SUBSCRIBE").pop().unwrap();
    let call_id = header(&sent, "Call-ID").unwrap().to_string();
    let from_tag = tag(header(&sent, "From").unwrap());
    let ok = first.find(false, "SIP/2.0 200").pop().unwrap();
    let to_tag = tag(header(&ok, "To").unwrap());

    server.restart();
    let log = server.log_text();
    assert!(log.contains("subscriptions restored count=1"), "{log}");

    let bob = server
        .sipp("bob-uas", "uas-invite-answer-expect-bye.xml", bob_port)
        .uas()
        .spawn();
    let watcher = server
        .sipp(
            "carol-refreshes",
            "uac-subscribe-dialog-refresh-expect-notify.xml",
            free_port(),
        )
        .service("bob")
        .key("caller", "carol")
        .key("from_tag", &from_tag)
        .key("to_tag", &to_tag)
        .arg("-cid_str")
        .arg(&call_id)
        .run_background();
    // The refresh was answered and the full state is in before alice dials.
    wait_trace(&server, "carol-refreshes", "state=\"full\"");
    digest::call_bob(&server, "alice");
    bob.wait().assert_ok("bob's phone");
    let carol = watcher.wait();
    carol.assert_ok("carol's BLF key after the restart");
    assert_eq!(
        carol.ladder(),
        rungs(
            &[
                &[
                    "> SUBSCRIBE",
                    "< 200", // the refresh, in the dialog from before the restart
                    "< NOTIFY",
                    "> 200", // full state
                ],
                BLF_ONE_CALL_RUNGS,
            ]
            .concat()
        )
    );
    // The same dialog: our NOTIFYs carry carol's Call-ID and tags, CSeqs counting on.
    let notifies = carol.find(false, "NOTIFY");
    for n in &notifies {
        assert_eq!(header(n, "Call-ID"), Some(call_id.as_str()), "{n}");
        assert_eq!(tag(header(n, "From").unwrap()), to_tag, "{n}");
    }
    let first_cseq: u32 = header(&notifies[0], "CSeq")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        first_cseq > 1,
        "CSeq went back after the restart: {first_cseq}"
    );
}
