//! The UAC ladders of RFC 3261 §13.2 (and RFC 3891 `Replaces`), and a REFER received
//! outside a dialog (RFC 3515: 202, sipfrag NOTIFYs), on a virtual clock: the
//! agent places a call, each test plays the proxy's and the phone's side with
//! hand-written responses and checks what the agent sends and tells its caller. Also the
//! UAS side of a delayed offer (our offer in the 2xx, the answer in the ACK).
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_dialog::{replaces_header, EndReason, OutgoingCall, UaConfig, UaEvent, UserAgent};
use sip_message::SipMessage;

const PROXY: &str = "192.0.2.9:5060";
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

fn proxy() -> SocketAddr {
    PROXY.parse().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn sent(ua: &mut UserAgent) -> Vec<(SocketAddr, SipMessage)> {
    std::iter::from_fn(|| ua.poll_transmit())
        .map(|(d, b)| (d, SipMessage::parse(b).unwrap()))
        .collect()
}

fn events(ua: &mut UserAgent) -> Vec<UaEvent> {
    std::iter::from_fn(|| ua.poll_event()).collect()
}

fn call_to_bob(headers: &str) -> OutgoingCall {
    OutgoingCall {
        uri: "sip:bob@example.com".into(),
        from: "\"Park 701\" <sip:park@example.com>".into(),
        to: "<sip:bob@example.com>".into(),
        headers: headers.into(),
        sdp: SDP.as_bytes().to_vec(),
        dest: proxy(),
    }
}

/// A response to `req` (its Via, From, To, Call-ID, CSeq), with a To tag when given and
/// extra header lines.
fn response(req: &SipMessage, status: u16, tag: Option<&str>, extra: &str, body: &str) -> Bytes {
    let to = req.header_by_name("To").unwrap();
    let to = match tag {
        Some(t) => format!("{to};tag={t}"),
        None => to.to_string(),
    };
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    Bytes::from(format!(
        "SIP/2.0 {status} X\r\nVia: {}\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\n\
         {extra}{ct}Content-Length: {}\r\n\r\n{body}",
        req.header_by_name("Via").unwrap(),
        req.header_by_name("From").unwrap(),
        req.call_id(),
        req.header_by_name("CSeq").unwrap(),
        body.len()
    ))
}

/// Places the call; returns the agent, its handle and the INVITE as sent.
fn placed(headers: &str) -> (UserAgent, sip_dialog::CallHandle, SipMessage) {
    let mut ua = UserAgent::new(UaConfig::default(), 7);
    let call = ua.place_call(ms(0), &call_to_bob(headers)).unwrap();
    let out = sent(&mut ua);
    assert_eq!(out.len(), 1);
    let (dest, invite) = out.into_iter().next().unwrap();
    assert_eq!(dest, proxy());
    assert_eq!(invite.method_str(), "INVITE");
    assert_eq!(invite.body().as_ref(), SDP.as_bytes());
    assert!(invite.from_tag().is_some());
    assert!(invite.to_tag().is_none());
    (ua, call, invite)
}

#[test]
fn invite_ringing_answered_acked_each_2xx_then_bye_along_the_route_set() {
    let (mut ua, call, invite) = placed("");
    ua.handle_datagram(ms(10), response(&invite, 100, None, "", ""), proxy());
    ua.handle_datagram(
        ms(20),
        response(&invite, 180, Some("bob1"), "", ""),
        proxy(),
    );
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Progress {
            call,
            status: 180,
            sdp: None
        }]
    );
    assert!(sent(&mut ua).is_empty(), "no retransmission after a 1xx");
    // The 2xx: Record-Route of two proxies (reversed into the route set), bob's Contact.
    let ok = response(
        &invite,
        200,
        Some("bob1"),
        "Record-Route: <sip:192.0.2.8;lr>, <sip:192.0.2.9;lr>\r\nContact: <sip:bob@192.0.2.50:5062>\r\n",
        "v=0\r\n",
    );
    ua.handle_datagram(ms(30), ok.clone(), proxy());
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Answered {
            call,
            sdp: Some(Bytes::from_static(b"v=0\r\n"))
        }]
    );
    let out = sent(&mut ua);
    assert_eq!(out.len(), 1);
    let (dest, ack) = &out[0];
    assert_eq!(ack.method_str(), "ACK");
    assert_eq!(*dest, "192.0.2.9:5060".parse().unwrap(), "first route");
    assert_eq!(ack.request_uri_str(), "sip:bob@192.0.2.50:5062");
    assert_eq!(ack.cseq().seq, invite.cseq().seq);
    assert_eq!(ack.to_tag(), Some("bob1"));
    assert_ne!(
        ack.branch(),
        invite.branch(),
        "the 2xx's ACK is a new transaction"
    );
    // A retransmitted 2xx is ACKed again, with the same ACK.
    ua.handle_datagram(ms(530), ok, proxy());
    let again = sent(&mut ua);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1.to_vec(), ack.to_vec());
    assert!(events(&mut ua).is_empty());
    // Our BYE: the next CSeq, the route set in order, to bob's Contact.
    ua.hangup(call, ms(1000));
    let out = sent(&mut ua);
    let (dest, bye) = &out[0];
    assert_eq!(bye.method_str(), "BYE");
    assert_eq!(*dest, "192.0.2.9:5060".parse().unwrap());
    assert_eq!(bye.cseq().seq, invite.cseq().seq + 1);
    let routes: Vec<_> = bye
        .header_values(sip_message::HeaderName::Route)
        .map(|(_, v)| v.to_string())
        .collect();
    assert_eq!(routes, vec!["<sip:192.0.2.9;lr>", "<sip:192.0.2.8;lr>"]);
    ua.handle_datagram(ms(1010), response(bye, 200, Some("bob1"), "", ""), proxy());
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::LocalBye
        }]
    );
    assert_eq!(ua.calls(), 0);
}

#[test]
fn unanswered_invite_is_retransmitted_on_timer_a_and_ends_on_timer_b() {
    let (mut ua, call, invite) = placed("");
    assert_eq!(ua.poll_timeout(), Some(ms(500)));
    ua.handle_timeout(ms(500));
    let out = sent(&mut ua);
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].1.to_vec(),
        invite.to_vec(),
        "Timer A: the same INVITE"
    );
    ua.handle_timeout(ms(1500));
    assert_eq!(sent(&mut ua).len(), 1, "then after 2*T1");
    ua.handle_timeout(ms(32_000));
    let ev = events(&mut ua);
    assert_eq!(
        ev,
        vec![UaEvent::Ended {
            call,
            reason: EndReason::Failed(408)
        }]
    );
    assert_eq!(ua.calls(), 0);
}

#[test]
fn a_failure_is_acked_by_the_transaction_and_ends_the_call() {
    let (mut ua, call, invite) = placed("");
    ua.handle_datagram(
        ms(10),
        response(&invite, 486, Some("bob1"), "", ""),
        proxy(),
    );
    let out = sent(&mut ua);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.method_str(), "ACK");
    assert_eq!(
        out[0].1.branch(),
        invite.branch(),
        "a non-2xx ACK is the INVITE's transaction"
    );
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::Failed(486)
        }]
    );
}

#[test]
fn a_redirect_tells_the_contacts() {
    let (mut ua, call, invite) = placed("");
    ua.handle_datagram(
        ms(10),
        response(
            &invite,
            302,
            Some("r1"),
            "Contact: <sip:bob@192.0.2.60>\r\nContact: <sip:bob@192.0.2.61>\r\n",
            "",
        ),
        proxy(),
    );
    assert_eq!(
        events(&mut ua),
        vec![
            UaEvent::Redirected {
                call,
                contacts: vec!["sip:bob@192.0.2.60".into(), "sip:bob@192.0.2.61".into()]
            },
            UaEvent::Ended {
                call,
                reason: EndReason::Failed(302)
            }
        ]
    );
}

#[test]
fn cancel_waits_for_a_provisional_response_then_487_ends_the_call() {
    let (mut ua, call, invite) = placed("");
    ua.hangup(call, ms(5));
    assert!(
        sent(&mut ua).is_empty(),
        "no CANCEL before a provisional (§9.1)"
    );
    ua.handle_datagram(
        ms(10),
        response(&invite, 180, Some("bob1"), "", ""),
        proxy(),
    );
    let out = sent(&mut ua);
    assert_eq!(out.len(), 1);
    let cancel = &out[0].1;
    assert_eq!(cancel.method_str(), "CANCEL");
    assert_eq!(cancel.branch(), invite.branch());
    assert_eq!(cancel.cseq().seq, invite.cseq().seq);
    assert_eq!(cancel.request_uri_str(), invite.request_uri_str());
    ua.handle_datagram(ms(20), response(cancel, 200, None, "", ""), proxy());
    ua.handle_datagram(
        ms(21),
        response(&invite, 487, Some("bob1"), "", ""),
        proxy(),
    );
    let ev = events(&mut ua);
    assert_eq!(
        ev,
        vec![UaEvent::Ended {
            call,
            reason: EndReason::Failed(487)
        }]
    );
}

#[test]
fn a_2xx_crossing_the_cancel_is_acked_then_ended_with_bye() {
    let (mut ua, call, invite) = placed("");
    ua.handle_datagram(
        ms(10),
        response(&invite, 180, Some("bob1"), "", ""),
        proxy(),
    );
    let _ = events(&mut ua);
    ua.hangup(call, ms(11));
    assert_eq!(sent(&mut ua)[0].1.method_str(), "CANCEL");
    ua.handle_datagram(
        ms(12),
        response(
            &invite,
            200,
            Some("bob1"),
            "Contact: <sip:bob@192.0.2.50>\r\n",
            "v=0\r\n",
        ),
        proxy(),
    );
    let methods: Vec<_> = sent(&mut ua)
        .iter()
        .map(|(_, m)| m.method_str().to_string())
        .collect();
    assert_eq!(methods, vec!["ACK", "BYE"]);
    assert!(events(&mut ua).is_empty(), "never reported answered");
}

#[test]
fn invite_with_replaces_and_the_peer_hanging_up() {
    let replaces = replaces_header("dlg@host", "alice-tag", "bob-tag");
    assert_eq!(
        replaces,
        "Replaces: dlg@host;to-tag=alice-tag;from-tag=bob-tag\r\n"
    );
    let (mut ua, call, invite) = placed(&replaces);
    assert_eq!(
        invite.header_by_name("Replaces"),
        Some("dlg@host;to-tag=alice-tag;from-tag=bob-tag")
    );
    assert!(invite
        .header_by_name("Supported")
        .is_some_and(|s| s.contains("replaces")));
    ua.handle_datagram(
        ms(10),
        response(
            &invite,
            200,
            Some("al1"),
            "Contact: <sip:alice@192.0.2.70>\r\n",
            "v=0\r\n",
        ),
        proxy(),
    );
    let _ = events(&mut ua);
    let _ = sent(&mut ua);
    // Alice hangs up: her BYE finds our dialog (her From tag is our To tag).
    let bye = format!(
        "BYE sip:service@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.70;branch=z9hG4bKb1\r\n\
         From: <sip:bob@example.com>;tag=al1\r\nTo: {};tag={}\r\nCall-ID: {}\r\nCSeq: 1 BYE\r\n\
         Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        "\"Park 701\" <sip:park@example.com>",
        invite.from_tag().unwrap(),
        invite.call_id()
    );
    ua.handle_datagram(ms(20), Bytes::from(bye), proxy());
    let out = sent(&mut ua);
    assert_eq!(out[0].1.status(), 200);
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::RemoteBye
        }]
    );
}

#[test]
fn delayed_offer_our_offer_in_the_2xx_the_answer_in_the_ack() {
    let mut ua = UserAgent::new(UaConfig::default(), 9);
    let phone: SocketAddr = "192.0.2.1:5062".parse().unwrap();
    let invite = "INVITE sip:moh@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKd1\r\n\
        From: <sip:bob@example.com>;tag=b1\r\nTo: <sip:moh@example.com>\r\nCall-ID: d1\r\n\
        CSeq: 1 INVITE\r\nContact: <sip:bob@192.0.2.1:5062>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    ua.handle_datagram(ms(0), Bytes::from_static(invite.as_bytes()), phone);
    let ev = events(&mut ua);
    let UaEvent::Incoming {
        call, offer: None, ..
    } = ev[0]
    else {
        panic!("{ev:?}")
    };
    ua.accept(call, ms(1), SDP.as_bytes());
    let out = sent(&mut ua);
    let ok = &out.last().unwrap().1;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.body().as_ref(), SDP.as_bytes(), "our offer in the 2xx");
    let ack = format!(
        "ACK sip:service@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKd2\r\n\
         From: <sip:bob@example.com>;tag=b1\r\nTo: <sip:moh@example.com>;tag={}\r\nCall-ID: d1\r\n\
         CSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n",
        ok.to_tag().unwrap()
    );
    ua.handle_datagram(ms(2), Bytes::from(ack), phone);
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Confirmed {
            call,
            answer: Some(Bytes::from_static(b"v=0\r\n"))
        }]
    );
}

#[test]
fn an_out_of_dialog_refer_gets_202_and_sipfrag_notifies_then_its_dialog_is_forgotten() {
    let mut ua = UserAgent::new(UaConfig::default(), 11);
    let bob: SocketAddr = "192.0.2.2:5060".parse().unwrap();
    let refer =
        "REFER sip:park@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKr1\r\n\
        From: <sip:bob@example.com>;tag=bt\r\nTo: <sip:park@example.com>\r\nCall-ID: r1\r\n\
        CSeq: 1 REFER\r\nContact: <sip:bob@192.0.2.2>\r\nMax-Forwards: 70\r\n\
        Refer-To: <sip:alice@example.com?Replaces=ab%3Bto-tag%3Dx%3Bfrom-tag%3Dy>\r\n\
        Referred-By: <sip:bob@example.com>\r\nContent-Length: 0\r\n\r\n";
    ua.handle_datagram(ms(0), Bytes::from_static(refer.as_bytes()), bob);
    let out = sent(&mut ua);
    let accepted = &out[0].1;
    assert_eq!(accepted.status(), 202);
    assert!(accepted.to_tag().is_some(), "the REFER makes a dialog");
    let ev = events(&mut ua);
    let UaEvent::Refer {
        call,
        refer_to,
        referred_by,
        ..
    } = &ev[0]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(
        refer_to,
        "<sip:alice@example.com?Replaces=ab%3Bto-tag%3Dx%3Bfrom-tag%3Dy>"
    );
    assert_eq!(referred_by.as_deref(), Some("<sip:bob@example.com>"));
    let call = *call;
    assert!(ua.notify_refer(call, ms(1), "SIP/2.0 100 Trying", false));
    let out = sent(&mut ua);
    let (dest, notify) = &out[0];
    assert_eq!(*dest, bob);
    assert_eq!(notify.method_str(), "NOTIFY");
    assert_eq!(notify.request_uri_str(), "sip:bob@192.0.2.2");
    assert_eq!(notify.header_by_name("Event"), Some("refer"));
    assert!(notify
        .header_by_name("Subscription-State")
        .is_some_and(|s| s.starts_with("active")));
    assert_eq!(notify.body().as_ref(), b"SIP/2.0 100 Trying\r\n");
    assert_eq!(notify.to_tag(), Some("bt"));
    assert_eq!(notify.from_tag(), accepted.to_tag());
    assert!(ua.notify_refer(call, ms(2), "SIP/2.0 200 OK", true));
    let out = sent(&mut ua);
    assert!(out[0]
        .1
        .header_by_name("Subscription-State")
        .is_some_and(|s| s.starts_with("terminated")));
    assert_eq!(ua.calls(), 0, "the REFER's dialog is forgotten");
    assert!(events(&mut ua).is_empty());
}

#[test]
fn a_subscribe_outside_a_dialog_is_a_fetch_one_notify_then_forgotten() {
    let mut ua = UserAgent::new(UaConfig::default(), 12);
    let carol: SocketAddr = "192.0.2.3:5060".parse().unwrap();
    let sub =
        "SUBSCRIBE sip:park@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.3;branch=z9hG4bKs1\r\n\
        From: <sip:carol@example.com>;tag=ct\r\nTo: <sip:park@example.com>\r\nCall-ID: s1\r\n\
        CSeq: 1 SUBSCRIBE\r\nContact: <sip:carol@192.0.2.3>\r\nMax-Forwards: 70\r\n\
        Event: dialog\r\nAccept: application/dialog-info+xml\r\nContent-Length: 0\r\n\r\n";
    ua.handle_datagram(ms(0), Bytes::from_static(sub.as_bytes()), carol);
    let out = sent(&mut ua);
    assert_eq!(out[0].1.status(), 200);
    assert_eq!(out[0].1.header_by_name("Expires"), Some("0"));
    let ev = events(&mut ua);
    let UaEvent::Subscribe { call, event, .. } = &ev[0] else {
        panic!("{ev:?}")
    };
    assert_eq!(event, "dialog");
    assert!(ua.notify(
        *call,
        ms(1),
        "dialog",
        "application/dialog-info+xml",
        b"<dialog-info/>",
        true
    ));
    let out = sent(&mut ua);
    let n = &out[0].1;
    assert_eq!(n.method_str(), "NOTIFY");
    assert_eq!(n.header_by_name("Event"), Some("dialog"));
    assert_eq!(
        n.header_by_name("Subscription-State"),
        Some("terminated;reason=timeout")
    );
    assert_eq!(n.body().as_ref(), b"<dialog-info/>");
    assert_eq!(ua.calls(), 0);
    // No Event header: 400.
    let bad = sub
        .replace("Event: dialog\r\n", "")
        .replace("z9hG4bKs1", "z9hG4bKs2");
    ua.handle_datagram(ms(2), Bytes::from(bad), carol);
    assert_eq!(sent(&mut ua)[0].1.status(), 400);
}
