//! Issue 19: browser phones. JsSIP (the npm package's browser build, vendored in
//! `tests/fixtures/webrtc/`) in headless Chromium registers over **WSS** (the listener's
//! self-signed certificate accepted by this test browser only) and calls: a SIPp phone
//! (signalling: the browser sees `confirmed`), is called by SIPp, and two browser phones
//! call each other with real WebRTC media (ICE, DTLS-SRTP, Opus), shown by each side's
//! `getStats()`: inbound-rtp packets received and decoded audio energy.
//!
//! ```text
//! alice (Chromium, JsSIP)     Switchboard (wss:127.0.0.1:W)      bob (SIPp or Chromium)
//!  |== WSS: REGISTER (Contact ...invalid;transport=ws) ==>|               |
//!  |<= 200 ===============================================|               |
//!  |== INVITE (UDP/TLS/RTP/SAVPF) ==>|-- INVITE (UDP, or bob's WSS) ---->|
//!  |<= 180, 200 =====================|<-- 180, 200 ----------------------|
//!  |== ACK ... BYE =================>|-- ACK ... BYE ------------------->|
//!  |<======== SRTP (browser to browser, on 127.0.0.1) ==================>|
//! ```
//!
//! The page is served by the test on loopback (`http://127.0.0.1:P`, a secure context),
//! which is also the Origin `[sip] ws_origins` allows. Each test runs in a network
//! namespace of its own with nothing but loopback (`testkit::netns::LoopbackOnly`), and
//! Chromium is told to use loopback for ICE (it ignores it otherwise), so the media
//! stays on 127.0.0.1.

#![allow(clippy::unwrap_used)] // helpers of the tests below

use std::path::Path;

use testkit::browser_phone::{count, events, wait_event, wss_server};
use testkit::location::contacts;
use testkit::netns::LoopbackOnly;
use testkit::open::{caller, phone};
use testkit::server::{Options, DOMAIN};
use testkit::static_site::StaticSite;

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// The browser-phone page and JsSIP.
fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/webrtc"
    ))
}

/// A browser phone (Chromium's beeping fake microphone) registered as `user`.
fn browser_phone(site: &StaticSite, wss: u16, user: &str) -> testkit::browser::Browser {
    testkit::browser_phone::browser_phone(site, wss, user, None)
}

#[test]
fn a_browser_phone_over_wss_calls_a_sipp_phone_and_is_called_by_one() {
    // Only loopback exists for this test's browsers, server and peers.
    let Some(_loopback) = LoopbackOnly::enter() else {
        return;
    };
    let site = StaticSite::serve(fixtures());
    // The SIPp phones speak WebRTC-shaped SDP over UDP, which the relay stage would take
    // for a plain phone's to bridge: this signalling test runs without a relay.
    let no_relay = Options {
        extra: "[relay]\nmode = \"never\"\n".into(),
        ..Options::default()
    };
    let (node, wss, _certs) = wss_server(BIN, no_relay, &site.origin());
    let alice = browser_phone(&site, wss, "alice");
    let bound = contacts(&node, "alice");
    assert_eq!(bound.len(), 1, "{bound:?}");
    assert!(
        bound[0].contains(".invalid") && bound[0].contains("transport=ws"),
        "{bound:?}"
    );

    // alice calls bob (SIPp over UDP), who answers with a WebRTC-shaped SDP.
    let (_, bob) = phone(&node, "bob", "uas-answer-200-webrtc-sdp.xml");
    let bob = bob.spawn();
    alice.eval(&format!("call('sip:bob@{DOMAIN}'); return true;"));
    wait_event(&alice, "confirmed", 1);
    alice.eval("hangup(); return true;");
    wait_event(&alice, "ended", 1);
    let bob = bob.wait();
    bob.assert_ok("bob answers the browser's call");
    let invite = &bob.find(false, "INVITE")[0];
    assert!(invite.contains("Via: SIP/2.0/UDP"), "{invite}");
    assert!(
        invite.contains("SIP/2.0/WSS"),
        "no WSS Via below the proxy's:\n{invite}"
    );
    assert_eq!(count(&alice, "failed"), 0, "{}", events(&alice));

    // carol (SIPp, UDP) calls alice: the INVITE goes down alice's WSS connection, the
    // page answers, carol hangs up.
    let carol = caller(
        &node,
        "carol-calls",
        "uac-invite-webrtc-sdp-expect-200.xml",
        "alice",
    )
    .key("caller", "carol")
    .key("from_domain", DOMAIN)
    .key("to_domain", DOMAIN)
    .spawn();
    wait_event(&alice, "confirmed", 2);
    let carol = carol.wait();
    carol.assert_ok("carol's call to the browser phone");
    wait_event(&alice, "ended", 2);
    assert_eq!(count(&alice, "failed"), 0, "{}", events(&alice));

    let log = node.log_text();
    for line in ["source=wss:127.0.0.1:", "call answered", "hangup=caller"] {
        assert!(log.contains(line), "no `{line}` in the server log:\n{log}");
    }
    assert_eq!(node.status()["dialogs_active"], 0);
}

#[test]
fn two_browser_phones_call_each_other_with_audio() {
    // Only loopback exists for this test's browsers, server and peers.
    let Some(_loopback) = LoopbackOnly::enter() else {
        return;
    };
    let site = StaticSite::serve(fixtures());
    let (node, wss, _certs) = wss_server(BIN, Options::digest(), &site.origin());
    let alice = browser_phone(&site, wss, "alice");
    let bob = browser_phone(&site, wss, "bob");

    alice.eval(&format!("call('sip:bob@{DOMAIN}'); return true;"));
    wait_event(&alice, "confirmed", 1);
    wait_event(&bob, "confirmed", 1);
    // WebRTC media end to end: each side receives and decodes the other's audio (the
    // fake microphone's beeps).
    for (name, b) in [("alice", &alice), ("bob", &bob)] {
        b.wait_for(
            &format!("{name} to receive RTP"),
            "return sb.inbound > 0 && sb.outbound > 0;",
        );
        b.wait_for(
            &format!("{name} to decode audio that is not silence"),
            "return sb.energy > 0;",
        );
    }
    alice.eval("hangup(); return true;");
    wait_event(&alice, "ended", 1);
    wait_event(&bob, "ended", 1);
    for b in [&alice, &bob] {
        assert_eq!(count(b, "failed"), 0, "{}", events(b));
    }
    let log = node.log_text();
    for line in [
        "registration action=new aor=alice@example.com",
        "registration action=new aor=bob@example.com",
        "call answered",
        "hangup=caller",
    ] {
        assert!(log.contains(line), "no `{line}` in the server log:\n{log}");
    }
}
