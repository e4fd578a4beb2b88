//! The dialog event package served by the proxy (RFC 4235 over RFC 6665), on a virtual
//! clock: carol watches bob; alice calls bob, and carol's NOTIFYs go trying -> early ->
//! confirmed -> terminated with the call's Call-ID and tags and versions 0, 1, 2, ...;
//! refresh and `Expires: 0`; who may watch; the bounds; 489 for other packages. The same
//! flow with SIPp phones against the real server: crates/server/tests/presence_blf.rs.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use model::AddressOfRecord;
use proxy::{Destination, PresenceConfig};
use sip_message::SipMessage;
use testkit::proxy_net::{
    self, answer, body_text as body, first_request, first_response as response, invite, notifies,
    udp, Subscribe, PROXY,
};

const ALICE: &str = "198.51.100.1:5060";
const BOB: &str = "203.0.113.5:5062";
const CAROL: &str = "192.0.2.30:5060";

fn net(max: usize, per_user: usize) -> proxy_net::Net {
    let cfg = proxy_net::config_with_presence(PresenceConfig {
        max_subscriptions: max,
        max_per_user: per_user,
        ..PresenceConfig::default()
    });
    proxy_net::Net::with_directory(cfg, proxy_net::directory(&["alice", "bob", "carol"]))
}

/// `watcher`'s SUBSCRIBE (from `addr`, Call-ID `cid`) to `target` for `event`: 600 s, out of
/// a dialog, From tag `w<watcher>`.
fn subscription<'a>(
    watcher: &'a str,
    addr: &'a str,
    target: &'a str,
    cid: &'a str,
    event: &'a str,
) -> Subscribe<'a> {
    Subscribe {
        watcher,
        addr,
        target,
        from_tag: format!("w{watcher}"),
        call_id: cid,
        event,
        accept: "application/dialog-info+xml",
        expires: 600,
        to_tag: None,
        cseq: 1,
    }
}

/// The one NOTIFY in `out` (to carol), answered 200; its body.
fn one_notify(net: &mut proxy_net::Net, out: &[(Destination, SipMessage)]) -> String {
    let n = notifies(out);
    assert_eq!(n.len(), 1, "{out:?}");
    assert_eq!(first_request(out, "NOTIFY").0, udp(CAROL));
    assert_eq!(n[0].header_by_name("Event"), Some("dialog"));
    net.send(udp(CAROL), &answer(&n[0], 200));
    body(&n[0])
}

#[test]
fn a_watcher_sees_a_call_ring_be_answered_and_end() {
    let mut net = net(10, 5);
    net.register("bob", BOB, udp(BOB));
    let out = subscription("carol", CAROL, "bob", "blf-1", "dialog").send(&mut net);
    let ok = response(&out);
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.expires(), Some(600));
    let tag = ok.to_tag().unwrap().to_string();
    let n = &notifies(&out)[0];
    assert_eq!(n.request_uri_str(), format!("sip:carol@{CAROL}"));
    assert_eq!(
        n.header_by_name("Subscription-State"),
        Some("active;expires=600")
    );
    assert_eq!(
        n.header_by_name("Content-Type"),
        Some("application/dialog-info+xml")
    );
    assert_eq!(
        (n.from_tag(), n.to_tag()),
        (Some(tag.as_str()), Some("wcarol"))
    );
    let b = one_notify(&mut net, &out);
    assert!(
        b.contains("version=\"0\" state=\"full\" entity=\"sip:bob@example.com\""),
        "{b}"
    );
    assert!(!b.contains("<dialog "), "{b}");

    // Alice calls bob: trying, then early with bob's tag.
    net.send(udp(ALICE), &invite("z9hG4bKblf1"));
    let out = net.out();
    let b = one_notify(&mut net, &out);
    assert!(b.contains("version=\"1\" state=\"partial\""), "{b}");
    assert!(b.contains("<state>trying</state>"), "{b}");
    assert!(b.contains("call-id=\"call-1\""), "{b}");
    let to_bob = first_request(&out, "INVITE").1.clone();
    net.send(udp(BOB), &answer(&to_bob, 180));
    let out = net.out();
    let b = one_notify(&mut net, &out);
    assert!(b.contains("version=\"2\""), "{b}");
    assert!(
        b.contains(
            "call-id=\"call-1\" local-tag=\"b180\" remote-tag=\"a1\" direction=\"recipient\""
        ),
        "{b}"
    );
    assert!(b.contains("<state>early</state>"), "{b}");
    assert!(
        b.contains("<remote><identity>sip:alice@example.com</identity></remote>"),
        "{b}"
    );

    // Answered: confirmed with the 2xx's tag.
    net.send(udp(BOB), &answer(&to_bob, 200));
    let out = net.out();
    let b = one_notify(&mut net, &out);
    assert!(b.contains("version=\"3\""), "{b}");
    assert!(b.contains("local-tag=\"b200\""), "{b}");
    assert!(b.contains("<state>confirmed</state>"), "{b}");

    // A refresh in the dialog: 200, and the full state (the call is up).
    let out = subscription("carol", CAROL, "bob", "blf-1", "dialog")
        .refresh(&tag, 2)
        .send(&mut net);
    assert_eq!(response(&out).status(), 200);
    let b = one_notify(&mut net, &out);
    assert!(b.contains("version=\"4\" state=\"full\""), "{b}");
    assert!(b.contains("<state>confirmed</state>"), "{b}");

    // Alice hangs up: terminated, remote-bye from bob's side.
    net.send(
        udp(ALICE),
        "BYE sip:bob@203.0.113.5:5062 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKbye1;rport
Max-Forwards: 70
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag=b200
Call-ID: call-1
CSeq: 2 BYE
Content-Length: 0

",
    );
    let out = net.out();
    let b = one_notify(&mut net, &out);
    assert!(b.contains("version=\"5\""), "{b}");
    assert!(
        b.contains("<state event=\"remote-bye\">terminated</state>"),
        "{b}"
    );

    // Expires: 0 ends the subscription with a last NOTIFY.
    let out = subscription("carol", CAROL, "bob", "blf-1", "dialog")
        .expires(0)
        .refresh(&tag, 3)
        .send(&mut net);
    assert_eq!(response(&out).status(), 200);
    let n = &notifies(&out)[0];
    assert_eq!(
        n.header_by_name("Subscription-State"),
        Some("terminated;reason=timeout")
    );
    assert!(body(n).contains("version=\"6\" state=\"full\""));
    net.send(udp(CAROL), &answer(n, 200));
    assert_eq!(net.proxy.dialog_subscriptions(), 0);
    let out = subscription("carol", CAROL, "bob", "blf-1", "dialog")
        .refresh(&tag, 4)
        .send(&mut net);
    assert_eq!(response(&out).status(), 481);
}

#[test]
fn a_cancelled_call_and_an_expired_subscription() {
    let mut net = net(10, 5);
    net.register("bob", BOB, udp(BOB));
    let out = subscription("carol", CAROL, "bob", "blf-2", "dialog")
        .expires(60)
        .send(&mut net);
    one_notify(&mut net, &out);
    net.send(udp(ALICE), &invite("z9hG4bKblf2"));
    let out = net.out();
    one_notify(&mut net, &out);
    let to_bob = first_request(&out, "INVITE").1.clone();
    net.send(udp(BOB), &answer(&to_bob, 486));
    let out = net.out();
    let b = one_notify(&mut net, &out);
    assert!(
        b.contains("<state event=\"rejected\">terminated</state>"),
        "{b}"
    );
    // After 60 s the subscription ends by the timer, with a final NOTIFY (RFC 6665
    // §4.1.2.4); a new call then tells carol nothing.
    net.advance(Duration::from_secs(61));
    let out = net.out();
    let n = notifies(&out);
    assert_eq!(n.len(), 1, "{out:?}");
    assert_eq!(
        n[0].header_by_name("Subscription-State"),
        Some("terminated;reason=timeout")
    );
    assert!(body(&n[0]).contains("state=\"full\""), "{}", body(&n[0]));
    net.send(udp(CAROL), &answer(&n[0], 200));
    net.out();
    net.send(
        udp(ALICE),
        &invite("z9hG4bKblf3").replace("call-1", "call-3"),
    );
    assert!(notifies(&net.out()).is_empty());
    assert_eq!(net.proxy.dialog_subscriptions(), 0);
}

#[test]
fn who_may_watch_the_bounds_and_other_packages() {
    let mut net = net(3, 2);
    // Another package: 489 with the packages served.
    let out = subscription("carol", CAROL, "bob", "p-1", "conference").send(&mut net);
    let r = response(&out);
    assert_eq!(r.status(), 489);
    assert_eq!(
        r.header_by_name("Allow-Events"),
        Some("dialog, presence, message-summary")
    );
    // A stranger is refused; a name nobody has is 404 for a local watcher.
    net.send(
        udp("192.0.2.66:5060"),
        "SUBSCRIBE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.66:5060;branch=z9hG4bKx1
Max-Forwards: 70
From: <sip:mallory@evil.example>;tag=m
To: <sip:bob@example.com>
Call-ID: x
CSeq: 1 SUBSCRIBE
Contact: <sip:mallory@192.0.2.66>
Event: dialog
Content-Length: 0

",
    );
    assert_eq!(response(&net.out()).status(), 403);
    let out = subscription("carol", CAROL, "nobody", "n-1", "dialog").send(&mut net);
    assert_eq!(response(&out).status(), 404);
    // Two per watcher, three in all.
    for (i, target) in ["alice", "bob"].iter().enumerate() {
        let out = subscription("carol", CAROL, target, &format!("c-{i}"), "dialog").send(&mut net);
        assert_eq!(response(&out).status(), 200);
    }
    let out = subscription("carol", CAROL, "carol", "c-9", "dialog").send(&mut net);
    assert_eq!(response(&out).status(), 403);
    let out = subscription("alice", ALICE, "bob", "a-1", "dialog").send(&mut net);
    assert_eq!(response(&out).status(), 200);
    let out = subscription("bob", BOB, "alice", "b-1", "dialog").send(&mut net);
    let r = response(&out);
    assert_eq!(r.status(), 503);
    assert_eq!(r.header_by_name("Retry-After"), Some("60"));
    let _ = PROXY;
}

/// Alice calls bob, bob's phone rings (180); returns the INVITE bob got.
fn bob_rings(net: &mut proxy_net::Net) -> SipMessage {
    net.register("bob", BOB, udp(BOB));
    net.send(udp(ALICE), &invite("z9hG4bKpick1"));
    let out = net.out();
    let to_bob = first_request(&out, "INVITE").1.clone();
    net.send(udp(BOB), &answer(&to_bob, 180));
    net.out();
    to_bob
}

/// Carol's INVITE to `ruri` (with `replaces`, if any).
fn carol_invites(
    net: &mut proxy_net::Net,
    n: u32,
    ruri: &str,
    replaces: Option<&str>,
) -> Vec<(Destination, SipMessage)> {
    let replaces = replaces.map_or_else(String::new, |r| format!("Replaces: {r}\n"));
    net.send(
        udp(CAROL),
        &format!(
            "INVITE {ruri} SIP/2.0
Via: SIP/2.0/UDP {CAROL};branch=z9hG4bKpickc{n};rport
Max-Forwards: 70
From: <sip:carol@example.com>;tag=c1
To: <{ruri}>
Call-ID: pick-{n}
CSeq: 1 INVITE
Contact: <sip:carol@{CAROL}>
{replaces}Content-Length: 0

"
        ),
    );
    net.out()
}

/// The picking INVITE went to alice (her Contact, where her INVITE came from) with
/// Replaces for her early dialog; once alice answers it, bob's ringing branch is CANCELled.
fn picked_up(net: &mut proxy_net::Net, out: &[(Destination, SipMessage)]) {
    let (dest, to_alice) = first_request(out, "INVITE");
    assert_eq!(*dest, udp(ALICE));
    assert_eq!(to_alice.request_uri_str(), format!("sip:alice@{ALICE}"));
    assert_eq!(
        to_alice.header_by_name("Replaces"),
        Some("call-1;to-tag=b180;from-tag=a1;early-only")
    );
    net.send(udp(ALICE), &answer(to_alice, 200));
    let out = net.out();
    let cancel = first_request(&out, "CANCEL");
    assert_eq!(cancel.0, udp(BOB));
}

#[test]
fn an_invite_with_replaces_for_a_ringing_call_goes_to_its_caller() {
    let mut net = net(10, 5);
    bob_rings(&mut net);
    let out = carol_invites(
        &mut net,
        1,
        "sip:bob@example.com",
        Some("call-1;to-tag=b180;from-tag=a1;early-only"),
    );
    picked_up(&mut net, &out);
}

#[test]
fn star_8_and_an_extension_picks_up_the_call_ringing_there() {
    let mut net = net(10, 5);
    // Nothing rings: 480.
    let out = carol_invites(&mut net, 1, "sip:*8bob@example.com", None);
    assert_eq!(response(&out).status(), 480);
    bob_rings(&mut net);
    let out = carol_invites(&mut net, 2, "sip:*8bob@example.com", None);
    picked_up(&mut net, &out);
}

#[test]
fn star_8_picks_up_a_call_ringing_in_the_callers_pickup_group() {
    let mut net = net(10, 5);
    let out = carol_invites(&mut net, 1, "sip:*8@example.com", None);
    assert_eq!(response(&out).status(), 404);
    let group = |u: &str| {
        (
            AddressOfRecord::new(u, "example.com"),
            "pickup_group".to_string(),
            "desk".to_string(),
        )
    };
    let dir = proxy_net::directory(&["alice", "bob", "carol"]);
    dir.replace_settings(model::UserSettings::group([group("bob"), group("carol")]));
    let mut net =
        proxy_net::Net::with_directory(proxy_net::config(Duration::from_secs(60), false), dir);
    bob_rings(&mut net);
    let out = carol_invites(&mut net, 2, "sip:*8@example.com", None);
    picked_up(&mut net, &out);
}
