//! What the proxy shows and does for strangers (issue 12) and for phones on other hosts
//! (issue 11): no user enumeration, no relay by pre-loaded Route, and the address each
//! peer reaches in Via and Record-Route.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::time::Duration;

use proxy::ProxyConfig;
use sip_message::{HeaderName, SipMessage};
use testkit::proxy_net::{udp, Net};

const STRANGER: &str = "198.51.100.66:5060";

fn probe(method: &str, user: &str, n: u32) -> String {
    let event = if method == "SUBSCRIBE" {
        "Event: dialog\nExpires: 60\n"
    } else {
        ""
    };
    format!(
        "{method} sip:{user}@example.com SIP/2.0
Via: SIP/2.0/UDP 198.51.100.66:5060;branch=z9hG4bKenum{n};rport
Max-Forwards: 70
From: <sip:anonymous@foreign.invalid>;tag=e{n}
To: <sip:{user}@example.com>
Call-ID: enum-{n}
CSeq: 1 {method}
Contact: <sip:anonymous@198.51.100.66:5060>
{event}Content-Length: 0

"
    )
}

/// Status, reason and header names of the one final answer (values such as tags and
/// Call-ID differ by nature).
fn shape(net: &mut Net) -> (u16, String, Vec<String>) {
    let out = net.out();
    let finals: Vec<&SipMessage> = out
        .iter()
        .map(|(_, m)| m)
        .filter(|m| m.status() >= 200)
        .collect();
    assert_eq!(finals.len(), 1, "{out:?}");
    let m = finals[0];
    let names = (0..m.fields().len())
        .map(|i| m.name_of(i).to_ascii_lowercase())
        .collect();
    let reason = m.head().lines().next().unwrap().to_string();
    (m.status(), reason, names)
}

#[test]
fn strangers_get_the_same_answer_for_users_that_exist_and_names_that_do_not() {
    for auth in [false, true] {
        let mut net = Net::with_auth(Duration::from_secs(60), auth);
        let mut n = 0;
        for method in ["INVITE", "OPTIONS", "MESSAGE", "SUBSCRIBE"] {
            n += 1;
            net.send(udp(STRANGER), &probe(method, "alice", n));
            let existing = shape(&mut net);
            n += 1;
            net.send(udp(STRANGER), &probe(method, "nobody", n));
            let absent = shape(&mut net);
            assert_eq!(existing, absent, "{method}, auth {auth}");
            // The server answers dialog SUBSCRIBEs itself: a stranger may not watch.
            let refused = if method == "SUBSCRIBE" { 403 } else { 480 };
            assert_eq!(existing.0, refused, "{method}");
        }
    }
}

#[test]
fn a_local_caller_still_learns_that_a_name_does_not_exist() {
    let mut net = Net::new(Duration::from_secs(60));
    let invite = probe("INVITE", "nobody", 1).replace(
        "From: <sip:anonymous@foreign.invalid>",
        "From: <sip:alice@example.com>",
    );
    net.send(udp(STRANGER), &invite);
    assert_eq!(shape(&mut net).0, 404);
}

fn preloaded(from: &str, routes: &str, to_tag: &str) -> String {
    format!(
        "INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 198.51.100.66:5060;branch=z9hG4bKrelay;rport
Max-Forwards: 70
Route: {routes}
From: <sip:{from}>;tag=r1
To: <sip:bob@example.com>{to_tag}
Call-ID: relay-1
CSeq: 1 INVITE
Contact: <sip:x@198.51.100.66:5060>
Content-Length: 0

"
    )
}

#[test]
fn a_stranger_cannot_relay_through_a_preloaded_route() {
    // Out of dialog, through us; and a "dialog" whose route set does not include us.
    for (routes, to_tag) in [
        ("<sip:192.0.2.10:5060;lr>, <sip:203.0.113.99:5060;lr>", ""),
        ("<sip:203.0.113.99:5060;lr>", ";tag=fake"),
    ] {
        let mut net = Net::new(Duration::from_secs(60));
        net.send(
            udp(STRANGER),
            &preloaded("anonymous@foreign.invalid", routes, to_tag),
        );
        let out = net.out();
        assert!(
            out.iter().all(|(d, _)| d.addr.to_string() == STRANGER),
            "sent elsewhere: {out:?}"
        );
        let finals: Vec<_> = out.iter().filter(|(_, m)| m.status() >= 200).collect();
        assert_eq!(finals.len(), 1);
        assert_eq!(finals[0].1.status(), 403);
        assert!(finals[0]
            .1
            .head()
            .starts_with("SIP/2.0 403 Relaying Denied"));
    }
}

#[test]
fn a_local_caller_may_use_a_preloaded_route() {
    let mut net = Net::new(Duration::from_secs(60));
    net.send(
        udp(STRANGER),
        &preloaded(
            "alice@example.com",
            "<sip:192.0.2.10:5060;lr>, <sip:203.0.113.99:5060;lr>",
            "",
        ),
    );
    let out = net.out();
    assert!(
        out.iter()
            .any(|(d, m)| d.addr.to_string() == "203.0.113.99:5060" && m.is_request()),
        "{out:?}"
    );
}

/// Issue 11: a server on a wildcard address, a phone on the LAN (10.99.0.2) and one on
/// loopback. Each sees the address it reaches; the LAN phone's outbound-proxy Route
/// (`sip:10.99.0.1`) is recognised as this server.
#[test]
fn each_phone_sees_the_address_it_reaches() {
    let lan: IpAddr = "10.99.0.1".parse().unwrap();
    let mut net = Net::with_config(ProxyConfig {
        advertised_host: None,
        local_addrs: vec!["127.0.0.1".parse().unwrap(), lan],
        listen_ports: vec![5060],
        auth: proxy::AuthConfig {
            enabled: false,
            ..proxy::AuthConfig::default()
        },
        ..ProxyConfig::default()
    });
    net.proxy.set_route_probe(Box::new(move |peer: IpAddr| {
        Some(if peer.is_loopback() { peer } else { lan })
    }));
    net.register("bob", "127.0.0.1:5070", udp("127.0.0.1:5070"));
    let register = "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 10.99.0.2:5060;branch=z9hG4bKlan1;rport
Max-Forwards: 70
Route: <sip:10.99.0.1:5060;lr>
From: <sip:alice@example.com>;tag=l1
To: <sip:alice@example.com>
Call-ID: lan-reg
CSeq: 1 REGISTER
Contact: <sip:alice@10.99.0.2:5060>
Content-Length: 0

";
    net.send(udp("10.99.0.2:5060"), register);
    let out = net.out();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.status(), 200, "{}", out[0].1.head());

    let invite = "INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 10.99.0.2:5060;branch=z9hG4bKlan2;rport
Max-Forwards: 70
Route: <sip:10.99.0.1:5060;lr>
From: <sip:alice@example.com>;tag=l2
To: <sip:bob@example.com>
Call-ID: lan-call
CSeq: 1 INVITE
Contact: <sip:alice@10.99.0.2:5060>
Content-Length: 0

";
    net.send(udp("10.99.0.2:5060"), invite);
    let out = net.out();
    let (_, fwd) = out
        .iter()
        .find(|(d, m)| m.is_request() && d.addr.to_string() == "127.0.0.1:5070")
        .expect("INVITE forwarded to bob");
    assert_eq!(fwd.top_via().unwrap().host, "127.0.0.1");
    let rr: Vec<&str> = fwd
        .header_values(HeaderName::RecordRoute)
        .map(|(_, v)| v)
        .collect();
    // Bob (loopback) reaches us at 127.0.0.1, Alice (LAN) at 10.99.0.1: both in the route set.
    assert_eq!(rr, ["<sip:127.0.0.1:5060;lr>", "<sip:10.99.0.1:5060;lr>"]);
}
