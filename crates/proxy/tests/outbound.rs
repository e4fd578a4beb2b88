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

/// An in-dialog request from alice (UDP 198.51.100.1:5060) to bob's phone, following the
/// route set `routes` (her view of the Record-Route, top first).
fn alice_in_dialog(method: &str, branch: &str, cseq: u32, routes: &[String]) -> String {
    let routes: String = routes.iter().map(|r| format!("Route: {r}\n")).collect();
    format!(
        "{method} sip:bob@10.9.9.9:5099;transport=tcp SIP/2.0
Via: SIP/2.0/UDP 198.51.100.1:5060;branch={branch};rport
Max-Forwards: 70
{routes}From: <sip:alice@example.com>;tag=b200
To: <sip:bob@example.com>;tag=b1
Call-ID: flow-call-1
CSeq: {cseq} {method}
Content-Length: 0

"
    )
}

#[test]
fn a_call_from_a_flow_carries_a_flow_token_that_the_callees_requests_follow() {
    let mut net = Net::new(Duration::from_secs(60));
    let flow = tcp_on("203.0.113.7:40001", 11);
    assert_eq!(
        register_flow(&mut net, "203.0.113.7:40001", 11, 1).status(),
        200
    );
    net.register("alice", "198.51.100.1:5060", udp("198.51.100.1:5060"));

    // Bob calls alice over his flow. His INVITE's Contact is not the registered one (and
    // names no reachable host): only the flow reaches him.
    net.send(
        flow,
        "INVITE sip:alice@example.com SIP/2.0
Via: SIP/2.0/TCP 192.168.1.2:5011;branch=z9hG4bKbobcall;rport
Max-Forwards: 70
From: <sip:bob@example.com>;tag=b1
To: <sip:alice@example.com>
Call-ID: flow-call-1
CSeq: 1 INVITE
Contact: <sip:bob@10.9.9.9:5099;transport=tcp>
Content-Length: 0

",
    );
    let out = net.out();
    let (dest, to_alice) = out.iter().find(|(_, m)| m.is_request()).unwrap();
    assert_eq!(dest.addr.to_string(), "198.51.100.1:5060");
    let rr: Vec<String> = to_alice
        .header_values(HeaderName::RecordRoute)
        .map(|(_, v)| v.to_string())
        .collect();
    // Double Record-Route (UDP towards alice, TCP towards bob): bob's side names his flow.
    assert_eq!(rr.len(), 2, "{rr:?}");
    assert_eq!(rr[0], "<sip:192.0.2.10:5060;lr>");
    assert!(
        rr[1].starts_with("<sip:flow-") && rr[1].ends_with("@192.0.2.10:5060;transport=tcp;lr;ob>"),
        "{rr:?}"
    );

    // Bob's own in-dialog request comes over the flow: routed as usual, to alice.
    let reversed: Vec<String> = rr.iter().rev().cloned().collect();
    let reversed: String = reversed.iter().map(|r| format!("Route: {r}\n")).collect();
    net.send(
        flow,
        &format!(
            "INFO sip:alice@198.51.100.1:5060 SIP/2.0
Via: SIP/2.0/TCP 192.168.1.2:5011;branch=z9hG4bKbobinfo;rport
Max-Forwards: 70
{reversed}From: <sip:bob@example.com>;tag=b1
To: <sip:alice@example.com>;tag=b200
Call-ID: flow-call-1
CSeq: 2 INFO
Content-Length: 0

"
        ),
    );
    let out = net.out();
    let (dest, _) = out.iter().find(|(_, m)| m.is_request()).unwrap();
    assert_eq!(dest.addr.to_string(), "198.51.100.1:5060");

    // A token altered by anyone: 403, nothing forwarded.
    let token_at = rr[1].find("flow-").unwrap() + 5;
    let mut forged = rr[1].clone().into_bytes();
    forged[token_at] = if forged[token_at] == b'0' { b'1' } else { b'0' };
    let forged = vec![rr[0].clone(), String::from_utf8(forged).unwrap()];
    net.send(
        udp("198.51.100.1:5060"),
        &alice_in_dialog("BYE", "z9hG4bKforged", 5, &forged),
    );
    let out = net.out();
    assert!(out.iter().all(|(_, m)| !m.is_request()), "{out:?}");
    assert_eq!(out[0].1.status(), 403, "{out:?}");
    assert_eq!(out[0].1.reason(), "Invalid Flow Token");

    // Alice hangs up: her BYE goes over bob's flow, whatever its Request-URI says.
    net.send(
        udp("198.51.100.1:5060"),
        &alice_in_dialog("BYE", "z9hG4bKbye", 6, &rr),
    );
    let (dest, bytes) = forwarded(&mut net);
    assert_eq!(dest, flow);
    let bye = sip_message::SipMessage::parse(bytes.clone()).unwrap();
    assert_eq!(bye.request_uri_str(), "sip:bob@10.9.9.9:5099;transport=tcp");

    // The flow's connection is gone: 430 Flow Failed for alice.
    net.transport_error(dest, bytes);
    let out = net.out();
    let answer = out.iter().find(|(_, m)| !m.is_request()).unwrap();
    assert_eq!(answer.1.status(), 430, "{out:?}");
}

#[test]
fn a_udp_call_with_ob_gets_a_token_and_one_from_no_flow_none() {
    let mut net = Net::new(Duration::from_secs(60));
    net.register("bob", "192.168.1.2:5060", udp("203.0.113.7:5060"));
    // Alice over UDP with `;ob` (outbound over UDP): one Record-Route, with the token.
    let ob = invite("z9hG4bKudp").replace(
        "Contact: <sip:alice@198.51.100.1:5060>",
        "Contact: <sip:alice@198.51.100.1:5060;ob>",
    );
    net.send(udp("198.51.100.1:5060"), &ob);
    let out = net.out();
    let (_, req) = out.iter().find(|(_, m)| m.is_request()).unwrap();
    let rr = req.header(HeaderName::RecordRoute).unwrap();
    assert!(
        rr.starts_with("<sip:flow-") && rr.ends_with("@192.0.2.10:5060;lr;ob>"),
        "{rr}"
    );
    // Alice over TCP, not a registered flow and no `;ob`: no token either.
    let tcp_call = invite("z9hG4bKtcp")
        .replace("SIP/2.0/UDP", "SIP/2.0/TCP")
        .replace("call-1", "call-2");
    net.send(tcp_on("198.51.100.1:40000", 4), &tcp_call);
    let out = net.out();
    let (_, req) = out.iter().find(|(_, m)| m.is_request()).unwrap();
    assert!(
        req.header_values(HeaderName::RecordRoute)
            .all(|(_, v)| !v.contains("flow-")),
        "{}",
        req.head()
    );
}
