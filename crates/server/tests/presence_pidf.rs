//! Presence served by the server (RFC 3856 SUBSCRIBE, RFC 3903 PUBLISH, RFC 3863 PIDF;
//! issue 17), end to end on the real binary with SIPp phones and digest authentication:
//! two devices of bob publish, alice's phone watches bob.
//!
//! ```text
//! Alice (watcher)        Switchboard           bob's desk        bob's mobile
//!   | SUBSCRIBE presence / 407 / SUBSCRIBE (credentials) / 200     |
//!   | NOTIFY: closed (nobody published)     |                      |
//!   |                       | PUBLISH open "At my desk" (407, 200 SIP-ETag, Expires 10)
//!   | NOTIFY: the desk's tuple              |                      |
//!   |                       | PUBLISH closed "In a meeting" (407, 200 SIP-ETag)
//!   | NOTIFY: both tuples   |                                      |
//!   |                       | PUBLISH SIP-If-Match, Expires: 0 (407, 200)
//!   | NOTIFY: the desk's tuple only                                |
//!   |        ... 10 s: the desk's publication expires (timer)      |
//!   | NOTIFY: closed        |                                      |
//!   | SUBSCRIBE Expires: 1 / 200 / NOTIFY active                   |
//!   |        ... 1 s: the subscription expires (timer)             |
//!   | NOTIFY terminated;reason=timeout                             |
//! ```
//!
//! Then the bad input a phone may send: a malformed PIDF (400 naming the problem), a
//! dialog-info document with an unknown state to PUBLISH dialog (400), an unknown package
//! (489 with Allow-Events), someone else's presence (403).
#![allow(clippy::unwrap_used)]

use testkit::digest;
use testkit::ports::free_port;
use testkit::server::{password, Options, Server};
use testkit::sipp::{header, rungs, wait_trace};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn options() -> Options {
    Options {
        extra: "[presence]\nmin_expires = 1\n".into(),
        ..Options::digest()
    }
}

/// `user`'s device publishes `basic` and `note` (tuple `tuple`) for `expires` seconds:
/// the 200's SIP-ETag.
fn publish(
    server: &Server,
    name: &str,
    user: &str,
    tuple: &str,
    basic: &str,
    note: &str,
    expires: u32,
) -> String {
    let r = server
        .sipp(name, "uac-publish-pidf-expect-200.xml", free_port())
        .service(user)
        .key("caller", user)
        .key("tuple", tuple)
        .key("basic", basic)
        .key("note", note)
        .key("expires", expires)
        .credentials(user, &password(user))
        .run();
    r.assert_ok(name);
    let ok = r.find(false, "SIP/2.0 200").pop().unwrap();
    assert_eq!(
        header(&ok, "Expires"),
        Some(expires.to_string().as_str()),
        "{ok}"
    );
    header(&ok, "SIP-ETag").unwrap().to_string()
}

#[test]
fn two_devices_publish_and_a_watcher_sees_both_then_removal_and_expiry() {
    let server = Server::start(BIN, options());
    let watcher = server
        .sipp(
            "alice-watch",
            "uac-subscribe-presence-expect-notify.xml",
            free_port(),
        )
        .service("bob")
        .key("caller", "alice")
        .credentials("alice", &password("alice"))
        .run_background();
    wait_trace(&server, "alice-watch", "<basic>closed</basic>");
    publish(&server, "bob-desk", "bob", "desk", "open", "At my desk", 10);
    wait_trace(&server, "alice-watch", "At my desk");
    let mobile = publish(
        &server,
        "bob-mobile",
        "bob",
        "mobile",
        "closed",
        "In a meeting",
        600,
    );
    wait_trace(&server, "alice-watch", "In a meeting");
    server
        .sipp(
            "bob-mobile-off",
            "uac-publish-remove-expect-200.xml",
            free_port(),
        )
        .service("bob")
        .key("caller", "bob")
        .key("etag", &mobile)
        .credentials("bob", &password("bob"))
        .run()
        .assert_ok("the mobile's removal");
    let alice = watcher.wait();
    alice.assert_ok("alice's watcher");
    assert_eq!(
        alice.ladder(),
        rungs(&[
            "> SUBSCRIBE",
            "< 407",
            "> SUBSCRIBE",
            "< 200",
            "< NOTIFY",
            "> 200", // closed
            "< NOTIFY",
            "> 200", // the desk
            "< NOTIFY",
            "> 200", // both
            "< NOTIFY",
            "> 200", // the mobile removed
            "< NOTIFY",
            "> 200", // the desk expired
            "> SUBSCRIBE",
            "< 200",
            "< NOTIFY",
            "> 200", // refreshed for 1 s
            "< NOTIFY",
            "> 200", // expired: terminated
        ])
    );
    let n = alice.find(false, "NOTIFY");
    let tuples = |m: &str| m.matches("<tuple ").count();
    // Both devices' tuples, each with its own status, note and contact.
    assert_eq!(tuples(&n[2]), 2, "{}", n[2]);
    assert!(
        n[2].contains("<tuple id=\"desk\"><status><basic>open</basic></status><contact>sip:bob@"),
        "{}",
        n[2]
    );
    assert!(n[2].contains("<note>At my desk</note>"), "{}", n[2]);
    assert!(
        n[2].contains("<tuple id=\"mobile\"><status><basic>closed</basic></status>"),
        "{}",
        n[2]
    );
    assert!(n[2].contains("<note>In a meeting</note>"), "{}", n[2]);
    assert!(n[2].contains("entity=\"sip:bob@example.com\""), "{}", n[2]);
    // The mobile's removal: the desk's tuple alone.
    assert_eq!(tuples(&n[3]), 1, "{}", n[3]);
    assert!(
        n[3].contains("id=\"desk\"") && !n[3].contains("In a meeting"),
        "{}",
        n[3]
    );
    // The desk's expiry: closed, no device left.
    assert!(
        n[4].contains("<basic>closed</basic>") && !n[4].contains("At my desk"),
        "{}",
        n[4]
    );
    assert_eq!(
        header(&n[6], "Subscription-State"),
        Some("terminated;reason=timeout")
    );
}

#[test]
fn bad_publications_get_clear_answers() {
    let server = Server::start(BIN, options());
    for (name, scenario, user, event, body, status, reason) in [
        ("malformed-pidf", "presence", "bob", "presence",
         "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:bob@example.com\"><tuple id=\"a\"><status><basic>busy</basic></status></tuple></presence>",
         "400", "PIDF Basic Status Not Open Or Closed"),
        ("not-xml", "presence", "bob", "presence", "<presence><tuple", "400", "Malformed XML"),
        ("bad-dialog", "dialog", "bob", "dialog",
         "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" entity=\"sip:bob@example.com\"><dialog id=\"1\"><state>ringing</state></dialog></dialog-info>",
         "400", "Dialog State Unknown"),
        ("unknown-event", "presence", "bob", "conference", "<x/>", "489", "Bad Event"),
        ("not-yours", "presence", "alice", "presence",
         "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:bob@example.com\"/>",
         "403", "Only Your Own Presence"),
    ] {
        let content_type = if scenario == "dialog" { "application/dialog-info+xml" } else { "application/pidf+xml" };
        let r = server
            .sipp(name, "uac-publish-body-expect-error.xml", free_port())
            .service("bob")
            .key("caller", user)
            .key("event", event)
            .key("ctype", content_type)
            .key("body", body)
            .key("status", status)
            .credentials(user, &password(user))
            .run();
        r.assert_ok(name);
        let answer = r.find(false, &format!("SIP/2.0 {status}")).pop().unwrap();
        assert!(answer.starts_with(&format!("SIP/2.0 {status} {reason}")), "{name}: {answer}");
        if status == "489" {
            assert_eq!(header(&answer, "Allow-Events"), Some("presence"), "{answer}");
        }
    }
    let log = server.log_text();
    assert!(log.contains("PUBLISH refused"), "{log}");
}

/// A BLF key's dialog subscription left to expire (2 s) ends with a final NOTIFY from the
/// server's timer (RFC 6665 §4.1.2.4), as the presence one above does.
#[test]
fn an_expired_dialog_subscription_gets_a_final_notify() {
    let server = Server::start(BIN, options());
    let r = digest::carol_watches_bob(
        &server,
        "carol-blf-short",
        "uac-subscribe-short-expect-timeout.xml",
    )
    .key("event", "dialog")
    .key("expires", 2)
    .run();
    r.assert_ok("carol's short BLF subscription");
    let n = r.find(false, "NOTIFY");
    assert_eq!(n.len(), 2, "{n:?}");
    assert_eq!(
        header(&n[0], "Subscription-State"),
        Some("active;expires=2")
    );
    assert_eq!(
        header(&n[1], "Subscription-State"),
        Some("terminated;reason=timeout")
    );
    assert!(n[1].contains("state=\"full\""), "{}", n[1]);
}
