//! Parked requests and their queries (shared-database mode) through the sans-IO proxy on a
//! virtual clock: the proxy asks for each user's bindings with `poll_query`, waits, and
//! resumes with `handle_query`; a retarget after a failed leg waits the same way; a CANCEL
//! or a failed lookup ends a waiting call. End to end on two nodes over PostgreSQL:
//! crates/server/tests/services_shared.rs.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use model::{AddressOfRecord, Binding};
use proxy::{Destination, ProxyConfig, Query, QueryAnswer};
use sip_message::SipMessage;
use testkit::proxy_net::{self, answer, invite, requests, statuses, udp};

const ALICE: &str = "198.51.100.1:5060";
const BOB: &str = "203.0.113.5:5062";
const CAROL: &str = "203.0.113.6:5062";

/// A shared-location proxy (no binding of its own) with users alice, bob, carol and these
/// settings of bob's.
fn net(settings: &[(&str, &str)]) -> proxy_net::Net {
    let dir = proxy_net::directory(&["alice", "bob", "carol"]);
    let rows: Vec<_> = settings.iter().map(|(n, v)| ("bob", *n, *v)).collect();
    proxy_net::set_settings(&dir, &rows);
    let cfg = ProxyConfig {
        shared_location: true,
        ..proxy_net::config(Duration::from_secs(60), false)
    };
    proxy_net::Net::with_directory(cfg, dir)
}

/// The one query the proxy asks: whose bindings, and its token.
fn asked(net: &mut proxy_net::Net) -> (u64, String) {
    let q = net.proxy.poll_query().expect("a query");
    assert!(net.proxy.poll_query().is_none(), "more than one query");
    match q.query {
        Query::Location(aor) => (q.token, aor.to_string()),
        other => panic!("unexpected query {other:?}"),
    }
}

/// The `switchboard_queries_waiting` gauge.
fn waiting(net: &mut proxy_net::Net) -> u64 {
    let mut text = String::new();
    net.proxy.render_metrics(net.now, &mut text);
    let line = text
        .lines()
        .find(|l| l.starts_with("switchboard_queries_waiting "))
        .unwrap();
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Answers query `token` with one binding of `user` at `addr`.
fn found(net: &mut proxy_net::Net, token: u64, user: &str, addr: &str) {
    let b = Binding {
        aor: AddressOfRecord::new(user, "example.com"),
        contact: format!("sip:{user}@{addr}"),
        q: 1000,
        expires_at: net.wall + 600,
        call_id: format!("reg-{user}"),
        cseq: 1,
        source: format!("udp:{addr}"),
        path: Vec::new(),
        user_agent: String::new(),
        node: "node-a".into(),
        flow: None,
    };
    net.proxy
        .handle_query(net.now, net.wall, token, QueryAnswer::Bindings(vec![b]));
}

fn request_to(out: &[(Destination, SipMessage)], addr: &str) -> SipMessage {
    out.iter()
        .find(|(d, m)| m.is_request() && d.addr.to_string() == addr)
        .unwrap()
        .1
        .clone()
}

/// RFC 5359 §2.8 with the location a query away: the INVITE waits (nothing sent) for
/// bob's bindings; bob's 486 makes the retarget wait for carol's.
#[test]
fn busy_forwarding_waits_for_each_lookup() {
    let mut net = net(&[("forward.busy", "carol@example.com")]);
    net.send(udp(ALICE), &invite("z9hG4bKq1"));
    assert!(net.out().is_empty(), "answered before the lookup");
    let (token, aor) = asked(&mut net);
    assert_eq!(aor, "bob@example.com");
    assert_eq!(waiting(&mut net), 1);
    found(&mut net, token, "bob", BOB);
    assert_eq!(waiting(&mut net), 0);
    let out = net.out();
    assert_eq!(statuses(&out), [100]);
    assert_eq!(requests(&out), [("INVITE".to_string(), BOB.to_string())]);
    let to_bob = request_to(&out, BOB);
    net.send(udp(BOB), &answer(&to_bob, 486));
    let out = net.out();
    assert_eq!(requests(&out), [("ACK".to_string(), BOB.to_string())]);
    assert!(statuses(&out).is_empty(), "the 486 went upstream");
    let (token, aor) = asked(&mut net);
    assert_eq!(aor, "carol@example.com");
    found(&mut net, token, "carol", CAROL);
    let out = net.out();
    assert_eq!(statuses(&out), [181]);
    let to_carol = request_to(&out, CAROL);
    assert!(to_carol
        .request_uri_str()
        .starts_with("sip:carol@203.0.113.6"));
}

/// The caller gives up while a no-answer retarget waits for its lookup: the ringing
/// phone is cancelled, the caller gets 487, and the late answer starts nothing.
#[test]
fn cancel_while_a_retarget_waits() {
    let mut net = net(&[("forward.no-answer", "5 carol@example.com")]);
    net.send(udp(ALICE), &invite("z9hG4bKq2"));
    let (token, _) = asked(&mut net);
    found(&mut net, token, "bob", BOB);
    let to_bob = request_to(&net.out(), BOB);
    net.send(udp(BOB), &answer(&to_bob, 180));
    assert_eq!(statuses(&net.out()), [180]);
    net.advance(Duration::from_secs(5));
    assert!(net.out().is_empty(), "retargeted before the lookup");
    let (token, aor) = asked(&mut net);
    assert_eq!(aor, "carol@example.com");
    // No timer fires again while the lookup runs.
    net.advance(Duration::from_secs(5));
    assert!(net.out().is_empty());
    net.send(
        udp(ALICE),
        "CANCEL sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKq2;rport
Max-Forwards: 70
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: call-1
CSeq: 1 CANCEL
Content-Length: 0

",
    );
    let out = net.out();
    assert_eq!(statuses(&out), [200]);
    assert_eq!(requests(&out), [("CANCEL".to_string(), BOB.to_string())]);
    net.send(udp(BOB), &answer(&to_bob, 487));
    let out = net.out();
    assert_eq!(statuses(&out), [487]);
    found(&mut net, token, "carol", CAROL);
    assert!(net.out().is_empty(), "the call went on after the CANCEL");
}

/// A lookup that fails ends the call with 500 (not a 480 that would look like "offline"
/// and trigger unavailable forwarding).
#[test]
fn failed_lookup_answers_500() {
    let mut net = net(&[("forward.unavailable", "carol@example.com")]);
    net.send(udp(ALICE), &invite("z9hG4bKq3"));
    let (token, _) = asked(&mut net);
    net.proxy
        .handle_query(net.now, net.wall, token, QueryAnswer::Failed);
    let out = net.out();
    assert_eq!(statuses(&out), [500]);
    assert_eq!(out[0].1.reason(), "Location Lookup Failed");
    assert!(requests(&out).is_empty());
}
