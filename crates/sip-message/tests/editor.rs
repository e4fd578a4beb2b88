//! The editor and the response builders used the way a proxy uses them on one hop.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use sip_message::{
    build_ack_for_failure, build_cancel, Editor, HeaderName, NameAddr, ResponseBuilder, SipMessage,
};

fn parse(s: &str) -> SipMessage {
    SipMessage::parse(Bytes::copy_from_slice(s.as_bytes())).unwrap()
}

fn text(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap()
}

const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKc1;rport\r\n\
Max-Forwards: 70\r\n\
Route: <sip:proxy.example.com;lr>, <sip:next.example.net;lr>\r\n\
From: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: <sip:bob@biloxi.example.com>\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@192.0.2.101:5060>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

/// What a proxy does to a request it forwards (RFC 3261 §16.6).
fn forward(req: &SipMessage, me: &str) -> Vec<u8> {
    let mut ed = Editor::new(req);
    ed.push_front(
        HeaderName::Via,
        format_args!("SIP/2.0/UDP {me};branch=z9hG4bKp1"),
    );
    ed.set_max_forwards(req.max_forwards().unwrap_or(70) - 1);
    if let Some((i, v)) = req.header_values(HeaderName::Route).next() {
        if NameAddr::parse(v).unwrap().uri.host == me {
            ed.remove(i);
        }
    }
    ed.push_front(HeaderName::RecordRoute, format_args!("<sip:{me};lr>"));
    let mut out = Vec::new();
    ed.write_to(&mut out);
    out
}

#[test]
fn proxy_forwards_an_invite() {
    // Both new lines go where the topmost line was (the request has no Record-Route),
    // in the order the edits were made.
    let req = parse(INVITE);
    let out = text(forward(&req, "proxy.example.com"));
    assert_eq!(
        out,
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1\r\n\
Record-Route: <sip:proxy.example.com;lr>\r\n\
Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKc1;rport\r\n\
Max-Forwards: 69\r\n\
Route: <sip:next.example.net;lr>\r\n\
From: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: <sip:bob@biloxi.example.com>\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@192.0.2.101:5060>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n"
    );
    let fwd = parse(&out);
    assert_eq!(fwd.via_count(), 2);
    assert_eq!(fwd.branch(), Some("z9hG4bKp1"));
    assert_eq!(fwd.max_forwards(), Some(69));
    assert_eq!(
        fwd.header(HeaderName::Route),
        Some("<sip:next.example.net;lr>")
    );
    assert_eq!(fwd.body().as_ref(), b"v=0\n");
}

#[test]
fn a_route_that_is_not_ours_stays() {
    let req = parse(INVITE);
    let out = text(forward(&req, "other.example.org"));
    assert!(out.contains("\r\nRoute: <sip:proxy.example.com;lr>, <sip:next.example.net;lr>\r\n"));
    assert!(out.contains("\r\nRecord-Route: <sip:other.example.org;lr>\r\n"));
}

#[test]
fn record_route_goes_above_existing_ones_and_request_uri_changes() {
    let req = parse(
        "OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
f: <sip:c@d>;tag=1\r\nt: <sip:a@b>\r\ni: x\r\nCSeq: 2 OPTIONS\r\n\
Record-Route: <sip:rr1.example.com;lr>\r\nl: 0\r\n\r\n",
    );
    let mut ed = Editor::new(&req);
    ed.push_front(HeaderName::RecordRoute, format_args!("<sip:p;lr>"));
    ed.set_request_uri(format_args!("sip:a@192.0.2.7:5070"));
    ed.set_max_forwards(69);
    ed.set_body(Some("text/plain"), b"hello");
    assert_eq!(
        text(ed.to_vec()),
        "OPTIONS sip:a@192.0.2.7:5070 SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
f: <sip:c@d>;tag=1\r\nt: <sip:a@b>\r\ni: x\r\nCSeq: 2 OPTIONS\r\n\
Record-Route: <sip:p;lr>\r\nRecord-Route: <sip:rr1.example.com;lr>\r\nl: 5\r\n\
Max-Forwards: 69\r\nContent-Type: text/plain\r\n\r\nhello"
    );
}

const RINGING: &str = "SIP/2.0 180 Ringing\r\n\
Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1 , SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKc1;rport=5060;received=198.51.100.7\r\n\
Record-Route: <sip:proxy.example.com;lr>\r\n\
From: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: <sip:bob@biloxi.example.com>;tag=314159\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\
\r\n";

#[test]
fn proxy_removes_its_via_from_a_response() {
    let resp = parse(RINGING);
    assert_eq!(resp.via_count(), 2);
    assert_eq!(resp.branch(), Some("z9hG4bKp1"));
    let mut ed = Editor::new(&resp);
    ed.remove(resp.top_via_index());
    let out = text(ed.to_vec());
    assert_eq!(
        out,
        RINGING.replace("SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1 , ", "")
    );
    let up = parse(&out);
    assert_eq!(up.via_count(), 1);
    let v = up.top_via().unwrap();
    assert_eq!(v.branch(), Some("z9hG4bKc1"));
    assert_eq!(v.received(), Some("198.51.100.7"));
    assert_eq!(v.rport(), Some(Some("5060")));
}

#[test]
fn removing_values_from_a_three_value_line() {
    let m = parse(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1,SIP/2.0/UDP b;branch=z9hG4bK2,\r\n SIP/2.0/UDP c;branch=z9hG4bK3\r\n\
From: <sip:x@y>;tag=1\r\nTo: <sip:x@y>;tag=2\r\nCall-ID: c\r\nCSeq: 1 BYE\r\n\r\n",
    );
    let vias: Vec<usize> = m.header_values(HeaderName::Via).map(|(i, _)| i).collect();
    assert_eq!(vias.len(), 3);
    let line = |ed: &mut Editor<'_>| {
        let out = text(ed.to_vec());
        out.lines().nth(1).unwrap().to_string()
    };
    // The middle one.
    let mut ed = Editor::new(&m);
    ed.remove(vias[1]);
    assert_eq!(
        line(&mut ed),
        "Via: SIP/2.0/UDP a;branch=z9hG4bK1,SIP/2.0/UDP c;branch=z9hG4bK3"
    );
    // The last one.
    let mut ed = Editor::new(&m);
    ed.remove(vias[2]);
    assert!(text(ed.to_vec()).starts_with(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1,SIP/2.0/UDP b;branch=z9hG4bK2\r\nFrom:"
    ));
    // Two of three: the line is rewritten.
    let mut ed = Editor::new(&m);
    ed.remove(vias[0]);
    ed.remove(vias[2]);
    ed.remove(vias[0]); // twice is once
    assert_eq!(line(&mut ed), "Via: SIP/2.0/UDP b;branch=z9hG4bK2");
    // All three: the line goes.
    let mut ed = Editor::new(&m);
    for &i in &vias {
        ed.remove(i);
    }
    assert!(text(ed.to_vec()).starts_with("SIP/2.0 200 OK\r\nFrom:"));
}

#[test]
fn replace_value_and_append_and_insert_before() {
    let m = parse(INVITE);
    let mut ed = Editor::new(&m);
    ed.replace_value(
        m.to_index(),
        format_args!("<sip:carol@chicago.example.com>"),
    );
    ed.append_header("X-Trace", format_args!("{}", 42));
    ed.insert_before(
        m.from_index(),
        "P-Asserted-Identity",
        format_args!("<sip:a@b>"),
    );
    ed.prepend_header("X-First", format_args!("1"));
    let e = parse(&text(ed.to_vec()));
    assert_eq!(e.name_of(0), "X-First");
    assert_eq!(
        e.header(HeaderName::To),
        Some("<sip:carol@chicago.example.com>")
    );
    assert_eq!(e.header_by_name("x-trace"), Some("42"));
    let pai = e
        .header_values(HeaderName::PAssertedIdentity)
        .next()
        .unwrap()
        .0;
    assert_eq!(e.fields()[pai + 1].name, HeaderName::From);
    assert_eq!(e.fields().last().unwrap().name, HeaderName::Other);
}

#[test]
fn error_response_built_from_a_request() {
    let req = parse(
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
v: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKc1;rport, SIP/2.0/UDP p.example.com;branch=z9hG4bKx\r\n\
Via: SIP/2.0/TCP q.example.com;branch=z9hG4bKy\r\n\
Max-Forwards: 70\r\n\
f: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: <sip:bob@biloxi.example.com>\r\n\
Call-ID: abc@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@192.0.2.101:5060>\r\n\
Content-Length: 0\r\n\r\n",
    );
    let via = "SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKc1;rport=5061;received=198.51.100.7";
    let out = text(
        ResponseBuilder::new(&req, 486)
            .to_tag("as83kd9bs")
            .top_via(via)
            .header("Retry-After", format_args!("{}", 30))
            .to_vec(),
    );
    let lines: Vec<&str> = out.split("\r\n").collect();
    assert_eq!(
        lines,
        vec![
            "SIP/2.0 486 Busy Here",
            "Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKc1;rport=5061;received=198.51.100.7",
            "Via: SIP/2.0/UDP p.example.com;branch=z9hG4bKx",
            "Via: SIP/2.0/TCP q.example.com;branch=z9hG4bKy",
            "f: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl",
            "To: <sip:bob@biloxi.example.com>;tag=as83kd9bs",
            "Call-ID: abc@atlanta.example.com",
            "CSeq: 1 INVITE",
            "Retry-After: 30",
            "Content-Length: 0",
            "",
            "",
        ]
    );
    let r = parse(&out);
    assert_eq!((r.status(), r.reason()), (486, "Busy Here"));
    assert_eq!(r.to_tag(), Some("as83kd9bs"));
    assert_eq!(r.from_tag(), req.from_tag());
    assert_eq!(r.cseq(), req.cseq());
    assert_eq!(r.via_count(), 3);
    let top = r.top_via().unwrap();
    assert_eq!(top.received(), Some("198.51.100.7"));
    assert_eq!(top.rport(), Some(Some("5061")));

    // A To tag already present is kept; the reason can be overridden; a body is framed.
    let ringing = parse(RINGING);
    let out = text(
        ResponseBuilder::new(&ringing, 400)
            .to_tag("other")
            .reason("Bad Thing")
            .header("Content-Type", format_args!("text/plain"))
            .body(b"oops")
            .to_vec(),
    );
    let r = parse(&out);
    assert_eq!(r.reason(), "Bad Thing");
    assert_eq!(r.to_tag(), Some("314159"));
    assert_eq!(r.body().as_ref(), b"oops");
    assert_eq!(r.via_count(), 2);
    assert!(out.contains("\r\nVia: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1\r\nVia: SIP/2.0/UDP 192.0.2.101:5060;"));
}

#[test]
fn cancel_for_a_forwarded_invite() {
    let req = parse(INVITE);
    let fwd = parse(&text(forward(&req, "proxy.example.com")));
    let mut out = Vec::new();
    build_cancel(&fwd, &mut out);
    let out = text(out);
    let lines: Vec<&str> = out.split("\r\n").collect();
    assert_eq!(
        lines,
        vec![
            "CANCEL sip:bob@biloxi.example.com SIP/2.0",
            "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1",
            "Route: <sip:next.example.net;lr>",
            "From: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl",
            "To: <sip:bob@biloxi.example.com>",
            "Call-ID: 3848276298220188511@atlanta.example.com",
            "CSeq: 1 CANCEL",
            "Max-Forwards: 70",
            "Content-Length: 0",
            "",
            "",
        ]
    );
    let c = parse(&out);
    assert_eq!(c.method_str(), "CANCEL");
    assert_eq!(c.branch(), fwd.branch());
    assert_eq!(c.cseq().seq, fwd.cseq().seq);
    assert_eq!(c.request_uri_str(), fwd.request_uri_str());
}

#[test]
fn ack_for_a_failure_response() {
    // The request as this element sent it, with a two-value Route line.
    let req = parse(INVITE);
    let resp = parse(
        "SIP/2.0 486 Busy Here\r\n\
Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKc1;rport=5060;received=198.51.100.7\r\n\
From: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
t: <sip:bob@biloxi.example.com> ;tag=8321234356\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n",
    );
    let mut out = Vec::new();
    build_ack_for_failure(&req, &resp, &mut out);
    let out = text(out);
    let lines: Vec<&str> = out.split("\r\n").collect();
    assert_eq!(
        lines,
        vec![
            "ACK sip:bob@biloxi.example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKc1;rport",
            "Route: <sip:proxy.example.com;lr>",
            "Route: <sip:next.example.net;lr>",
            "From: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl",
            "To: <sip:bob@biloxi.example.com> ;tag=8321234356",
            "Call-ID: 3848276298220188511@atlanta.example.com",
            "CSeq: 1 ACK",
            "Max-Forwards: 70",
            "Content-Length: 0",
            "",
            "",
        ]
    );
    let a = parse(&out);
    assert_eq!(a.to_tag(), Some("8321234356"));
    assert_eq!(a.branch(), req.branch());
    assert_eq!(a.cseq().seq, 1);
    assert_eq!(a.via_count(), 1);
}
