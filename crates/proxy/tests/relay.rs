//! The relay stage through the sans-IO proxy on a virtual clock (issue 19): a call to a
//! phone registered from behind NAT parks its offer for the relay, goes on with the
//! relay's SDP, parks the callee's answer the same way, reaches the NATed phone's private
//! Contact through its registration's source, and asks for the relay's delete when the
//! call ends. End to end with real phones behind real NAT: crates/server/tests/nat_relay.rs.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use proxy::{ProxyConfig, Query, QueryAnswer, RelayMode, RelayOp};
use sip_message::SipMessage;
use testkit::proxy_net::{self, answer, requests, statuses, udp};

const ALICE: &str = "198.51.100.1:5060";
/// Bob's router: where his packets come from.
const BOB_PUBLIC: &str = "203.0.113.5:61000";
/// What bob writes in his Contact and SDP.
const BOB_PRIVATE: &str = "192.168.1.2:5062";

fn net(mode: RelayMode) -> proxy_net::Net {
    let cfg = ProxyConfig {
        relay: mode,
        ..proxy_net::config(Duration::from_secs(60), false)
    };
    let dir = proxy_net::directory(&["alice", "bob", "carol"]);
    let mut net = proxy_net::Net::with_directory(cfg, dir);
    net.register("bob", BOB_PRIVATE, udp(BOB_PUBLIC));
    net
}

fn sdp(ip: &str, port: u16) -> String {
    format!("v=0\no=- 1 1 IN IP4 {ip}\ns=-\nc=IN IP4 {ip}\nt=0 0\nm=audio {port} RTP/AVP 0\n")
}

/// `head` (ending in `Content-Length: 0\n\n`) with `body` as SDP.
fn with_sdp(head: &str, body: &str) -> String {
    let len = body.replace('\n', "\r\n").len();
    head.replace(
        "Content-Length: 0\n\n",
        &format!("Content-Type: application/sdp\nContent-Length: {len}\n\n{body}"),
    )
}

fn invite() -> String {
    with_sdp(&proxy_net::invite("z9hG4bKr1"), &sdp("198.51.100.1", 4000))
}

/// The one relay query the proxy asks.
fn relay_query(net: &mut proxy_net::Net) -> (u64, proxy::RelayQuery) {
    let q = net.proxy.poll_query().expect("a relay query");
    match q.query {
        Query::Relay(r) => (q.token, *r),
        other => panic!("unexpected query {other:?}"),
    }
}

fn body(m: &SipMessage) -> String {
    String::from_utf8_lossy(m.body()).into_owned()
}

#[test]
fn a_call_to_a_phone_behind_nat_goes_through_the_relay() {
    let mut net = net(RelayMode::Nat);
    net.send(udp(ALICE), &invite());
    // Nothing yet: the INVITE waits for the relay.
    assert!(net.out().is_empty());
    let (token, q) = relay_query(&mut net);
    assert_eq!(q.op, RelayOp::Offer);
    assert_eq!((q.call_id.as_str(), q.from_tag.as_str()), ("call-1", "a1"));
    assert_eq!(q.signalled_from.to_string(), ALICE);
    assert!(q.sdp.contains("c=IN IP4 198.51.100.1"));
    let relayed_offer = sdp("192.0.2.10", 30000);
    net.proxy.handle_query(
        net.now,
        net.wall,
        token,
        QueryAnswer::Sdp(relayed_offer.clone()),
    );
    let out = net.out();
    // To bob's router, not to his private Contact; with the relay's SDP.
    assert_eq!(requests(&out), [("INVITE".into(), BOB_PUBLIC.into())]);
    assert_eq!(statuses(&out), [100]);
    let to_bob = out.iter().find(|(_, m)| m.is_request()).unwrap().1.clone();
    assert_eq!(body(&to_bob), relayed_offer);

    // Bob's 200 with his private SDP waits for the relay's answer.
    let ok = answer(&to_bob, 200).replace(
        "Content-Length: 0\n",
        &format!("Contact: <sip:bob@{BOB_PRIVATE}>\nContent-Length: 0\n"),
    );
    net.send(udp(BOB_PUBLIC), &with_sdp(&ok, &sdp("192.168.1.2", 5000)));
    assert!(net.out().is_empty(), "the 200 went up unrelayed");
    let (token, q) = relay_query(&mut net);
    assert_eq!(q.op, RelayOp::Answer);
    assert_eq!(q.to_tag.as_deref(), Some("b200"));
    assert_eq!(q.signalled_from.to_string(), BOB_PUBLIC);
    let relayed_answer = sdp("192.0.2.10", 30004);
    net.proxy.handle_query(
        net.now,
        net.wall,
        token,
        QueryAnswer::Sdp(relayed_answer.clone()),
    );
    let out = net.out();
    assert_eq!(statuses(&out), [200]);
    assert_eq!(body(&out[0].1), relayed_answer);
    assert_eq!(net.proxy.relayed_calls(), 1);

    let rr = out[0]
        .1
        .header(sip_message::HeaderName::RecordRoute)
        .map(|r| format!("Route: {r}\n"))
        .unwrap_or_default();

    // Bob re-INVITEs (hold, a new address): his offer goes through the relay too, with
    // his tag as the offerer's; alice's answer comes back through it.
    let reinvite = format!(
        "INVITE sip:alice@198.51.100.1:5060 SIP/2.0
Via: SIP/2.0/UDP {BOB_PRIVATE};branch=z9hG4bKre1;rport
Max-Forwards: 70
{rr}From: <sip:bob@example.com>;tag=b200
To: <sip:alice@example.com>;tag=a1
Call-ID: call-1
CSeq: 7 INVITE
Contact: <sip:bob@{BOB_PRIVATE}>
Content-Length: 0

"
    );
    net.send(
        udp(BOB_PUBLIC),
        &with_sdp(&reinvite, &sdp("192.168.1.2", 5002)),
    );
    let _ = net.out();
    let (token, q) = relay_query(&mut net);
    assert_eq!(q.op, RelayOp::Offer);
    assert_eq!(
        (q.from_tag.as_str(), q.to_tag.as_deref()),
        ("b200", Some("a1"))
    );
    let reoffer = sdp("192.0.2.10", 30000);
    net.proxy
        .handle_query(net.now, net.wall, token, QueryAnswer::Sdp(reoffer.clone()));
    let out = net.out();
    assert_eq!(requests(&out), [("INVITE".into(), ALICE.into())]);
    let to_alice = out.iter().find(|(_, m)| m.is_request()).unwrap().1.clone();
    assert_eq!(body(&to_alice), reoffer);
    let ok = answer(&to_alice, 200).replace("tag=a1;tag=b200", "tag=a1");
    net.send(udp(ALICE), &with_sdp(&ok, &sdp("198.51.100.1", 4000)));
    let _ = net.out();
    let (token, q) = relay_query(&mut net);
    assert_eq!((q.op, q.from_tag.as_str()), (RelayOp::Answer, "b200"));
    net.proxy.handle_query(
        net.now,
        net.wall,
        token,
        QueryAnswer::Sdp(sdp("192.0.2.10", 30004)),
    );
    assert_eq!(statuses(&net.out()), [200]);

    // Alice's BYE to bob's private Contact reaches him through his router.
    net.send(
        udp(ALICE),
        &format!(
            "BYE sip:bob@{BOB_PRIVATE} SIP/2.0
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKbye1;rport
Max-Forwards: 70
{rr}From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag=b200
Call-ID: call-1
CSeq: 2 BYE
Content-Length: 0

"
        ),
    );
    let out = net.out();
    assert_eq!(requests(&out), [("BYE".into(), BOB_PUBLIC.into())]);
    net.send(udp(BOB_PUBLIC), &answer(&out[0].1, 200));
    let _ = net.out();
    let d = net
        .proxy
        .poll_relay_delete()
        .expect("the relayed call's delete");
    assert_eq!((d.call_id.as_str(), d.from_tag.as_str()), ("call-1", "a1"));
    assert_eq!(net.proxy.relayed_calls(), 0);
}

#[test]
fn calls_without_nat_go_direct_unless_always() {
    let mut net = net(RelayMode::Nat);
    net.register("carol", "203.0.113.6:5062", udp("203.0.113.6:5062"));
    net.send(
        udp(ALICE),
        &invite().replace("sip:bob@example.com", "sip:carol@example.com"),
    );
    let out = net.out();
    assert!(net.proxy.poll_query().is_none(), "relayed without NAT");
    assert_eq!(
        requests(&out),
        [("INVITE".into(), "203.0.113.6:5062".into())]
    );

    let mut net = net_always();
    net.send(udp(ALICE), &invite());
    let (_, q) = relay_query(&mut net);
    assert_eq!(q.op, RelayOp::Offer);
}

fn net_always() -> proxy_net::Net {
    let cfg = ProxyConfig {
        relay: RelayMode::Always,
        ..proxy_net::config(Duration::from_secs(60), false)
    };
    let mut net = proxy_net::Net::with_config(cfg);
    net.register("bob", "203.0.113.5:5062", udp("203.0.113.5:5062"));
    net
}

#[test]
fn an_offer_the_relay_refuses_ends_the_call_with_its_status() {
    let mut net = net(RelayMode::Nat);
    net.send(udp(ALICE), &invite());
    let _ = net.out();
    let (token, _) = relay_query(&mut net);
    net.proxy.handle_query(
        net.now,
        net.wall,
        token,
        QueryAnswer::Refused {
            status: 503,
            reason: "no relay ports free".into(),
        },
    );
    let out = net.out();
    assert_eq!(statuses(&out), [503]);
    assert!(requests(&out).is_empty());
    assert_eq!(net.proxy.relayed_calls(), 0);
}

#[test]
fn without_a_relay_nothing_changes() {
    let mut net = net(RelayMode::Never);
    net.send(udp(ALICE), &invite());
    let out = net.out();
    assert!(net.proxy.poll_query().is_none());
    assert_eq!(requests(&out), [("INVITE".into(), BOB_PUBLIC.into())]);
    assert!(body(&out.iter().find(|(_, m)| m.is_request()).unwrap().1).contains("198.51.100.1"));
}
