//! RFC 5626 outbound on the sans-IO proxy (issue 19): a phone registering a flow over TCP
//! gets `Require: outbound`, a re-registration of the same flow over a new connection
//! replaces the old binding, calls go over the flow's connection, and a flow whose
//! connection is gone answers 430 and is no longer used.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use model::AddressOfRecord;
use proxy::Transport;
use sip_message::HeaderName;
use testkit::proxy_net::{invite, tcp_on, udp, Net};

const INSTANCE: &str = "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"";

/// Bob registers flow `reg-id` 1 from `addr` (TCP connection `conn`); the 200.
fn register_flow(net: &mut Net, addr: &str, conn: u64, cseq: u32) -> sip_message::SipMessage {
    net.send(
        tcp_on(addr, conn),
        &format!(
            "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP 192.168.1.2:5060;branch=z9hG4bKob{conn}x{cseq}
From: <sip:bob@example.com>;tag=r1
To: <sip:bob@example.com>
Call-ID: ob-{conn}
CSeq: {cseq} REGISTER
Supported: path, outbound
Contact: <sip:bob@192.168.1.2:50{conn};transport=tcp;ob>;+sip.instance={INSTANCE};reg-id=1
Expires: 600
Content-Length: 0

"
        ),
    );
    let mut out = net.out();
    assert_eq!(out.len(), 1, "{out:?}");
    out.remove(0).1
}

fn bob_bindings(net: &Net) -> Vec<model::Binding> {
    net.proxy
        .registrar()
        .location()
        .lookup(&AddressOfRecord::new("bob", "example.com"), net.wall)
}

/// The request the proxy forwarded, as sent.
fn forwarded(net: &mut Net) -> (proxy::Destination, bytes::Bytes) {
    net.out_raw()
        .into_iter()
        .find(|(_, b)| {
            sip_message::SipMessage::parse(b.clone())
                .unwrap()
                .is_request()
        })
        .unwrap()
}

#[test]
fn a_flow_is_replaced_by_its_reregistration_and_fails_with_its_connection() {
    let mut net = Net::new(Duration::from_secs(60));
    let ok = register_flow(&mut net, "203.0.113.7:40001", 11, 1);
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.header(HeaderName::Require), Some("outbound"));
    assert!(
        ok.header(HeaderName::Contact)
            .unwrap()
            .contains(&format!("+sip.instance={INSTANCE};reg-id=1")),
        "{}",
        ok.head()
    );

    // The phone's connection broke; it connects again (a new port) and registers the
    // same flow from a new local port: one binding, on the new connection.
    let ok = register_flow(&mut net, "203.0.113.7:40002", 12, 1);
    assert_eq!(ok.status(), 200);
    let bound = bob_bindings(&net);
    assert_eq!(bound.len(), 1, "{bound:?}");
    assert_eq!(bound[0].source, "tcp:203.0.113.7:40002");
    assert_eq!(
        bound[0].contact,
        "sip:bob@192.168.1.2:5012;transport=tcp;ob"
    );

    // A call goes over the flow's connection.
    net.send(udp("198.51.100.1:5060"), &invite("z9hG4bKcall1"));
    let (dest, bytes) = forwarded(&mut net);
    assert_eq!(dest.transport, Transport::Tcp);
    assert_eq!(dest.addr.to_string(), "203.0.113.7:40002");

    // That connection is gone too (the send fails): 430 Flow Failed, binding removed.
    net.transport_error(dest, bytes);
    let out = net.out();
    let answer = out.iter().find(|(_, m)| !m.is_request()).unwrap();
    assert_eq!(answer.1.status(), 430, "{out:?}");
    assert!(bob_bindings(&net).is_empty());

    // Later calls no longer try it.
    let second = invite("z9hG4bKcall2").replace("call-1", "call-2");
    net.send(udp("198.51.100.1:5060"), &second);
    let out = net.out();
    assert!(out.iter().all(|(_, m)| !m.is_request()), "{out:?}");
    assert!(out.iter().any(|(_, m)| m.status() == 480), "{out:?}");
}

#[test]
fn without_outbound_a_failed_connection_is_a_503_and_the_binding_stays() {
    let mut net = Net::new(Duration::from_secs(60));
    net.register(
        "bob",
        "192.168.1.2:5060;transport=tcp",
        tcp_on("203.0.113.7:40001", 3),
    );
    net.send(udp("198.51.100.1:5060"), &invite("z9hG4bKcall3"));
    let (dest, bytes) = forwarded(&mut net);
    net.transport_error(dest, bytes);
    let out = net.out();
    let answer = out.iter().find(|(_, m)| !m.is_request()).unwrap();
    assert_eq!(answer.1.status(), 500, "503 upstream as 500: {out:?}");
    assert_eq!(bob_bindings(&net).len(), 1);
}
