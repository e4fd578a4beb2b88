//! Names in forwarding targets, find-me lists and Route headers (RFC 3263) through the
//! sans-IO proxy on a virtual clock: the proxy asks `Query::Resolve` for the name (the
//! request, or the retarget after a failed leg, waits), and the answer's next hops are
//! tried one after the other (a 503 moves on). End to end with dnsmasq and SIPp:
//! crates/server/tests/dns.rs.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use proxy::{Destination, ProxyConfig, Query, QueryAnswer};
use sip_message::SipMessage;
use testkit::proxy_net::{self, answer, invite, requests, statuses, udp};

const ALICE: &str = "198.51.100.1:5060";
const BOB: &str = "203.0.113.5:5062";
const PEER_1: &str = "203.0.113.21:5060";
const PEER_2: &str = "203.0.113.22:5060";

/// A resolving proxy (`[dns]` on) with users alice, bob and these settings of bob's; bob
/// is registered at `BOB`.
fn net(settings: &[(&str, &str)]) -> proxy_net::Net {
    let dir = proxy_net::directory(&["alice", "bob"]);
    let rows: Vec<_> = settings.iter().map(|(n, v)| ("bob", *n, *v)).collect();
    proxy_net::set_settings(&dir, &rows);
    let cfg = ProxyConfig {
        dns: true,
        ..proxy_net::config(Duration::from_secs(60), false)
    };
    let mut net = proxy_net::Net::with_directory(cfg, dir);
    net.register("bob", BOB, udp(BOB));
    net
}

/// The one query the proxy asks: the URI to resolve, and its token.
fn asked(net: &mut proxy_net::Net) -> (u64, String) {
    let q = net.proxy.poll_query().expect("a query");
    assert!(net.proxy.poll_query().is_none(), "more than one query");
    match q.query {
        Query::Resolve(uri) => (q.token, uri),
        other => panic!("unexpected query {other:?}"),
    }
}

/// Answers query `token` with next hops `PEER_1` then `PEER_2`.
fn two_hops(net: &mut proxy_net::Net, token: u64) {
    let hops = [PEER_1, PEER_2].map(udp).to_vec();
    net.proxy
        .handle_query(net.now, net.wall, token, QueryAnswer::Targets(hops));
}

fn request_to(out: &[(Destination, SipMessage)], addr: &str) -> SipMessage {
    out.iter()
        .find(|(d, m)| m.is_request() && d.addr.to_string() == addr)
        .unwrap()
        .1
        .clone()
}

/// RFC 5359 §2.8 to a name: bob's 486 makes the retarget wait for the DNS answer of
/// `sip:carol@peer.test`; its first next hop answers 503, the second 200.
#[test]
fn busy_forwarding_to_a_name_waits_for_dns_and_fails_over() {
    let mut net = net(&[("forward.busy", "sip:carol@peer.test")]);
    net.send(udp(ALICE), &invite("z9hG4bKd1"));
    let out = net.out();
    assert!(net.proxy.poll_query().is_none(), "bob is local: no lookup");
    let to_bob = request_to(&out, BOB);
    net.send(udp(BOB), &answer(&to_bob, 486));
    assert!(statuses(&net.out()).is_empty(), "the 486 went upstream");
    let (token, uri) = asked(&mut net);
    assert_eq!(uri, "sip:carol@peer.test");
    two_hops(&mut net, token);
    let out = net.out();
    assert_eq!(statuses(&out), [181]);
    assert_eq!(requests(&out), [("INVITE".to_string(), PEER_1.to_string())]);
    let first = request_to(&out, PEER_1);
    assert!(first.request_uri_str().starts_with("sip:carol@peer.test"));
    net.send(udp(PEER_1), &answer(&first, 503));
    let out = net.out();
    let second = request_to(&out, PEER_2);
    assert!(second.request_uri_str().starts_with("sip:carol@peer.test"));
    assert!(statuses(&out).is_empty(), "the 503 went upstream");
    net.send(udp(PEER_2), &answer(&second, 200));
    assert_eq!(statuses(&net.out()), [200]);
}

/// Unconditional forwarding to a name: the INVITE itself waits for the lookup.
#[test]
fn unconditional_forwarding_to_a_name_waits_for_dns() {
    let mut net = net(&[("forward.always", "sip:carol@peer.test")]);
    net.send(udp(ALICE), &invite("z9hG4bKd2"));
    assert!(
        requests(&net.out()).is_empty(),
        "forwarded before the lookup"
    );
    let (token, uri) = asked(&mut net);
    assert_eq!(uri, "sip:carol@peer.test");
    two_hops(&mut net, token);
    let out = net.out();
    assert_eq!(requests(&out), [("INVITE".to_string(), PEER_1.to_string())]);
    assert!(request_to(&out, PEER_1)
        .request_uri_str()
        .starts_with("sip:carol@peer.test"));
}

/// A name DNS knows nothing of ends a forwarded call with 404; a failed lookup with 503.
#[test]
fn a_forwarding_name_without_sip_server_answers_404() {
    for (answer, status) in [
        (QueryAnswer::Targets(Vec::new()), 404),
        (QueryAnswer::Failed, 503),
    ] {
        let mut net = net(&[("forward.always", "sip:carol@nowhere.test")]);
        net.send(udp(ALICE), &invite("z9hG4bKd3"));
        net.out();
        let (token, _) = asked(&mut net);
        net.proxy.handle_query(net.now, net.wall, token, answer);
        let out = net.out();
        assert_eq!(statuses(&out), [status]);
        assert!(requests(&out).is_empty());
    }
}

/// Find-me (RFC 5359 §2.12): after bob's own phone, the list entry by name waits for DNS
/// and its next hops are tried in turn.
#[test]
fn a_findme_entry_by_name_is_resolved() {
    let mut net = net(&[("findme", "sip:carol@branch.test:10")]);
    net.send(udp(ALICE), &invite("z9hG4bKd4"));
    // Resolving the steps needs the name before bob's phone rings.
    let (token, uri) = asked(&mut net);
    assert_eq!(uri, "sip:carol@branch.test");
    two_hops(&mut net, token);
    let out = net.out();
    let to_bob = request_to(&out, BOB);
    net.send(udp(BOB), &answer(&to_bob, 486));
    let out = net.out();
    let first = request_to(&out, PEER_1);
    assert!(first.request_uri_str().starts_with("sip:carol@branch.test"));
    net.send(udp(PEER_1), &answer(&first, 503));
    let second = request_to(&net.out(), PEER_2);
    net.send(udp(PEER_2), &answer(&second, 200));
    assert_eq!(statuses(&net.out()), [200]);
}

/// A pre-loaded Route by name (a loose router `sip:edge.peer.test;lr`): RFC 3263 on the
/// Route's URI; the request keeps its Route and Request-URI.
#[test]
fn a_route_by_name_is_resolved() {
    let mut net = net(&[]);
    net.send(
        udp(ALICE),
        "INVITE sip:dave@far.test SIP/2.0
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKd5;rport
Max-Forwards: 70
Route: <sip:192.0.2.10;lr>, <sip:edge.peer.test;lr>
From: <sip:alice@example.com>;tag=a1
To: <sip:dave@far.test>
Call-ID: call-route
CSeq: 1 INVITE
Contact: <sip:alice@198.51.100.1:5060>
Content-Length: 0

",
    );
    let (token, uri) = asked(&mut net);
    assert_eq!(uri, "sip:edge.peer.test;lr");
    two_hops(&mut net, token);
    let out = net.out();
    assert_eq!(requests(&out), [("INVITE".to_string(), PEER_1.to_string())]);
    let sent = request_to(&out, PEER_1);
    assert!(sent.request_uri_str().starts_with("sip:dave@far.test"));
    assert!(
        sent.head().contains("Route: <sip:edge.peer.test;lr>"),
        "{}",
        sent.head()
    );
    net.send(udp(PEER_1), &answer(&sent, 503));
    assert!(request_to(&net.out(), PEER_2)
        .request_uri_str()
        .starts_with("sip:dave@far.test"));
}

/// An ACK for a 2xx (stateless, RFC 3261 §16.11) whose next Route is a name waits for DNS
/// too, then goes to the first next hop (an ACK has no answer to fail over on).
#[test]
fn an_ack_to_a_route_by_name_waits_for_dns() {
    let mut net = net(&[]);
    net.send(
        udp(ALICE),
        "ACK sip:dave@203.0.113.30 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKd6;rport
Max-Forwards: 70
Route: <sip:192.0.2.10;lr>, <sip:edge.peer.test;lr>
From: <sip:alice@example.com>;tag=a1
To: <sip:dave@far.test>;tag=d1
Call-ID: call-ack
CSeq: 1 ACK
Content-Length: 0

",
    );
    assert!(net.out().is_empty(), "sent before the lookup");
    let (token, uri) = asked(&mut net);
    assert_eq!(uri, "sip:edge.peer.test;lr");
    two_hops(&mut net, token);
    let out = net.out();
    assert_eq!(requests(&out), [("ACK".to_string(), PEER_1.to_string())]);
    let ack = request_to(&out, PEER_1);
    assert!(
        ack.head().contains("Route: <sip:edge.peer.test;lr>"),
        "{}",
        ack.head()
    );
}
