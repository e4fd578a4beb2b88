//! In-process call flows through the sans-IO proxy on a virtual clock: fast checks of the
//! pipeline and the fork manager. The same flows run with real SIPp phones in
//! crates/server/tests.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use proxy::{Destination, Transport};
use sip_message::{HeaderName, SipMessage};
use testkit::proxy_net::{answer, invite, tcp, udp, Net, PROXY};

#[test]
fn rfc3665_3_1_call_through_the_proxy() {
    let mut net = Net::new(Duration::from_secs(60));
    net.register("bob", "203.0.113.5:5062", udp("203.0.113.5:5062"));
    net.send(udp("198.51.100.1:5060"), &invite("z9hG4bKa1"));
    let out = net.out();
    // 100 Trying to alice, INVITE to bob.
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].1.status(), 100);
    let (dest, fwd) = &out[1];
    assert_eq!(dest.addr.to_string(), "203.0.113.5:5062");
    assert_eq!(fwd.request_uri_str(), "sip:bob@203.0.113.5:5062");
    assert_eq!(fwd.max_forwards(), Some(69));
    assert_eq!(fwd.via_count(), 2);
    assert_eq!(fwd.top_via().unwrap().host, PROXY);
    assert_eq!(
        fwd.header(HeaderName::RecordRoute),
        Some("<sip:192.0.2.10:5060;lr>")
    );
    // The received Via got rport and received filled in; Vias stay together, on top.
    assert_eq!(fwd.fields()[0].name, HeaderName::Via);
    assert_eq!(
        fwd.value(1),
        "SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKa1;rport=5060;received=198.51.100.1"
    );
    assert_eq!(fwd.fields()[2].name, HeaderName::RecordRoute);

    // 180 then 200 from bob go upstream without our Via.
    net.send(udp("203.0.113.5:5062"), &answer(fwd, 180));
    net.send(udp("203.0.113.5:5062"), &answer(fwd, 200));
    let out = net.out();
    let statuses: Vec<u16> = out.iter().map(|(_, m)| m.status()).collect();
    assert_eq!(statuses, vec![180, 200]);
    for (d, m) in &out {
        assert_eq!(d.addr.to_string(), "198.51.100.1:5060");
        assert_eq!(m.via_count(), 1);
        assert_eq!(
            m.header(HeaderName::RecordRoute),
            Some("<sip:192.0.2.10:5060;lr>")
        );
    }
    assert_eq!(net.proxy.stats().calls_answered, 1);

    // ACK with the route set is forwarded statelessly to bob, minus our Route.
    net.send(
        udp("198.51.100.1:5060"),
        "ACK sip:bob@203.0.113.5:5062 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKack1
Max-Forwards: 70
Route: <sip:192.0.2.10:5060;lr>
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag=b200
Call-ID: call-1
CSeq: 1 ACK
Content-Length: 0

",
    );
    let out = net.out();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.addr.to_string(), "203.0.113.5:5062");
    assert_eq!(out[0].1.header(HeaderName::Route), None);
    assert_eq!(out[0].1.via_count(), 2);
}

#[test]
fn two_devices_ring_one_answers_the_other_is_cancelled() {
    let mut net = Net::new(Duration::from_secs(60));
    net.register("bob", "203.0.113.5:5062", udp("203.0.113.5:5062"));
    net.register("bob", "203.0.113.6:5062", udp("203.0.113.6:5062"));
    net.send(udp("198.51.100.1:5060"), &invite("z9hG4bKa2"));
    let out = net.out();
    let invites: Vec<SipMessage> = out
        .iter()
        .filter(|(_, m)| m.is_request())
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(invites.len(), 2);
    net.send(udp("203.0.113.5:5062"), &answer(&invites[0], 180));
    net.send(udp("203.0.113.6:5062"), &answer(&invites[1], 180));
    net.send(udp("203.0.113.5:5062"), &answer(&invites[0], 200));
    let out = net.out();
    let cancels: Vec<&(Destination, SipMessage)> =
        out.iter().filter(|(_, m)| m.is_request()).collect();
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].1.method_str(), "CANCEL");
    assert_eq!(cancels[0].0.addr.to_string(), "203.0.113.6:5062");
    assert_eq!(cancels[0].1.branch(), invites[1].branch());
    let ups: Vec<u16> = out
        .iter()
        .filter(|(_, m)| !m.is_request())
        .map(|(_, m)| m.status())
        .collect();
    assert_eq!(ups, vec![180, 180, 200]);
    // The cancelled device answers 487: absorbed (ACKed), never relayed after the 200.
    net.send(udp("203.0.113.6:5062"), &answer(&invites[1], 487));
    let out = net.out();
    assert!(
        out.iter()
            .all(|(_, m)| m.is_request() && m.method_str() == "ACK"),
        "{out:?}"
    );
}

#[test]
fn busy_and_no_answer() {
    let mut net = Net::new(Duration::from_secs(5));
    net.register("bob", "203.0.113.5:5062", udp("203.0.113.5:5062"));
    net.send(udp("198.51.100.1:5060"), &invite("z9hG4bKa3"));
    let fwd = net.out().pop().unwrap().1;
    net.send(udp("203.0.113.5:5062"), &answer(&fwd, 486));
    let out = net.out();
    let statuses: Vec<(bool, u16)> = out
        .iter()
        .map(|(_, m)| (m.is_request(), m.status()))
        .collect();
    // ACK to bob, 486 to alice.
    assert!(
        statuses.contains(&(true, 0)) && statuses.contains(&(false, 486)),
        "{statuses:?}"
    );

    // No answer: ringing past the timer gets CANCELled and the caller a 408.
    let mut inv = invite("z9hG4bKa4");
    inv = inv.replace("call-1", "call-2");
    net.send(udp("198.51.100.1:5060"), &inv);
    let fwd = net.out().pop().unwrap().1;
    net.send(udp("203.0.113.5:5062"), &answer(&fwd, 180));
    net.out();
    net.advance(Duration::from_secs(6));
    // (Alice never ACKed the 486 of the first call: its retransmission goes out too.)
    let out: Vec<_> = net
        .out()
        .into_iter()
        .filter(|(_, m)| m.is_request())
        .collect();
    assert_eq!(
        out.len(),
        1,
        "{:?}",
        out.iter()
            .map(|o| o.1.head().to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(out[0].1.method_str(), "CANCEL");
    net.send(udp("203.0.113.5:5062"), &answer(&fwd, 487));
    let out = net.out();
    let up: Vec<u16> = out
        .iter()
        .filter(|(_, m)| !m.is_request())
        .map(|(_, m)| m.status())
        .collect();
    assert_eq!(up, vec![408]);
}

#[test]
fn mixed_transports_are_double_record_routed() {
    let mut net = Net::new(Duration::from_secs(60));
    net.register("bob", "203.0.113.5:5062", udp("203.0.113.5:5062"));
    net.send(
        tcp("198.51.100.1:40000"),
        &invite("z9hG4bKa5").replace("SIP/2.0/UDP", "SIP/2.0/TCP"),
    );
    let fwd = net.out().pop().unwrap().1;
    let rr: Vec<&str> = fwd
        .header_values(HeaderName::RecordRoute)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        rr,
        vec![
            "<sip:192.0.2.10:5060;lr>",
            "<sip:192.0.2.10:5060;transport=tcp;lr>"
        ]
    );
}

#[test]
fn loops_and_unknowns() {
    let mut net = Net::new(Duration::from_secs(60));
    // Unknown user: 404; known but not registered: 480.
    net.send(
        udp("198.51.100.1:5060"),
        &invite("z9hG4bKa6").replace("bob@example.com", "zed@example.com"),
    );
    assert_eq!(net.out()[0].1.status(), 404);
    net.send(
        udp("198.51.100.1:5060"),
        &invite("z9hG4bKa7").replace("call-1", "call-7"),
    );
    assert_eq!(net.out()[0].1.status(), 480);
    // Max-Forwards 0: 483.
    net.send(
        udp("198.51.100.1:5060"),
        &invite("z9hG4bKa8")
            .replace("Max-Forwards: 70", "Max-Forwards: 0")
            .replace("call-1", "call-8"),
    );
    assert_eq!(net.out()[0].1.status(), 483);
    // A request coming back with our own Via and the same hash: 482.
    net.register("bob", "203.0.113.5:5062", udp("203.0.113.5:5062"));
    net.send(
        udp("198.51.100.1:5060"),
        &invite("z9hG4bKa9").replace("call-1", "call-9"),
    );
    let fwd = net.out().pop().unwrap().1;
    let looped = String::from_utf8(fwd.to_vec())
        .unwrap()
        .replace("sip:bob@203.0.113.5:5062", "sip:bob@example.com");
    let looped = looped.replace("\r\n", "\n").replacen(
        "Via: ",
        "Via: SIP/2.0/UDP 203.0.113.99;branch=z9hG4bKx\nVia: ",
        1,
    );
    net.send(udp("203.0.113.99:5060"), &looped);
    let out = net.out();
    assert_eq!(
        out.last().unwrap().1.status(),
        482,
        "{:?}",
        out.iter().map(|o| o.1.status()).collect::<Vec<_>>()
    );
}

#[test]
fn contact_headers_stay_out_of_the_request_uri() {
    // RFC 4475 §3.3.14 registers a contact carrying an escaped Route header; calling that
    // user must not put `?Route=...` into the Request-URI (RFC 3261 §19.1.5).
    let mut net = Net::new(Duration::from_secs(60));
    net.send(
        udp("203.0.113.5:5062"),
        "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 203.0.113.5:5062;branch=z9hG4bKregesc
From: <sip:bob@example.com>;tag=r1
To: <sip:bob@example.com>
Call-ID: reg-esc
CSeq: 1 REGISTER
Contact: <sip:bob@203.0.113.5:5062?Route=%3Csip:sip.example.com%3E>
Content-Length: 0

",
    );
    assert_eq!(net.out()[0].1.status(), 200);
    net.send(udp("198.51.100.1:5060"), &invite("z9hG4bKesc"));
    let out = net.out();
    let fwd = out
        .iter()
        .find(|(_, m)| m.is_request())
        .expect("INVITE forwarded");
    assert_eq!(fwd.1.request_uri_str(), "sip:bob@203.0.113.5:5062");
}

#[test]
fn rfc3261_18_1_1_large_requests_leave_udp() {
    let mut net = Net::new(Duration::from_secs(60));
    net.register("bob", "203.0.113.5:5062", udp("203.0.113.5:5062"));
    // An INVITE with a 1400-byte body: forwarded over TCP, with a TCP Via.
    let body = "v=0\r\n".to_string()
        + &"a=x-filler:0123456789abcdef0123456789abcdef0123456789\r\n".repeat(26);
    let inv = invite("z9hG4bKbig").replace(
        "Content-Length: 0",
        &format!(
            "Content-Type: application/sdp\nContent-Length: {}",
            body.len()
        ),
    ) + &body.replace("\r\n", "\n");
    net.send(udp("198.51.100.1:5060"), &inv);
    let out = net.out();
    let (dest, fwd) = out.iter().find(|(_, m)| m.is_request()).unwrap();
    assert!(fwd.to_vec().len() > 1300);
    assert_eq!(dest.transport, Transport::Tcp);
    assert_eq!(dest.addr.to_string(), "203.0.113.5:5062");
    assert_eq!(fwd.top_via().unwrap().transport, "TCP");
    // A small one stays on UDP.
    net.send(
        udp("198.51.100.1:5060"),
        &invite("z9hG4bKsmall").replace("call-1", "call-small"),
    );
    let out = net.out();
    let (dest, fwd) = out.iter().find(|(_, m)| m.is_request()).unwrap();
    assert_eq!(dest.transport, Transport::Udp);
    assert_eq!(fwd.top_via().unwrap().transport, "UDP");
}

#[test]
fn challenges_are_stateless_and_their_ack_is_absorbed() {
    let mut net = Net::with_auth(Duration::from_secs(60), true);
    net.send(udp("198.51.100.1:5060"), &invite("z9hG4bKch"));
    let out = net.out();
    assert_eq!(out.len(), 1);
    let challenge = &out[0].1;
    assert_eq!(challenge.status(), 407);
    assert!(challenge.header(HeaderName::ProxyAuthenticate).is_some());
    // No transaction is kept for the challenge (no Timer H/J entry).
    assert_eq!(net.proxy.transactions(), 0);
    // Its ACK goes nowhere.
    let tag = challenge.to_tag().unwrap().to_string();
    net.send(
        udp("198.51.100.1:5060"),
        &format!(
            "ACK sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKch
Max-Forwards: 70
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag={tag}
Call-ID: call-1
CSeq: 1 ACK
Content-Length: 0

"
        ),
    );
    assert!(net.out().is_empty());
    assert_eq!(net.proxy.transactions(), 0);
}
