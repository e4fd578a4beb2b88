//! The UAS ladders of RFC 3261 on a virtual clock: each test plays the phone's side with
//! hand-written messages and checks what the agent sends and tells its caller.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_dialog::{EndReason, OfferKind, OutOfDialogRequest, UaConfig, UaEvent, UserAgent};
use sip_message::SipMessage;

const PHONE: &str = "192.0.2.1:5062";
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

fn phone() -> SocketAddr {
    PHONE.parse().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn invite(cseq: u32, to_tag: Option<&str>, branch: &str, body: &str) -> Bytes {
    let to = match to_tag {
        Some(t) => format!("<sip:voicemail@example.com>;tag={t}"),
        None => "<sip:voicemail@example.com>".into(),
    };
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    Bytes::from(format!(
        "INVITE sip:voicemail@example.com;mode=deposit;mailbox=alice SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PHONE};branch={branch}\r\nFrom: <sip:bob@example.com>;tag=b1\r\n\
         To: {to}\r\nCall-ID: call-1\r\nCSeq: {cseq} INVITE\r\nContact: <sip:bob@{PHONE}>\r\n\
         Max-Forwards: 70\r\n{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

fn in_dialog(method: &str, cseq: u32, tag: &str, branch: &str, extra: &str, body: &str) -> Bytes {
    Bytes::from(format!(
        "{method} sip:voicemail@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP {PHONE};branch={branch}\r\n\
         From: <sip:bob@example.com>;tag=b1\r\nTo: <sip:voicemail@example.com>;tag={tag}\r\n\
         Call-ID: call-1\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n{extra}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

fn sent(ua: &mut UserAgent) -> Vec<SipMessage> {
    let mut v = Vec::new();
    while let Some((dest, b)) = ua.poll_transmit() {
        assert_eq!(dest, phone());
        v.push(SipMessage::parse(b).unwrap());
    }
    v
}

fn statuses(ua: &mut UserAgent) -> Vec<u16> {
    sent(ua).iter().map(|m| m.status()).collect()
}

fn events(ua: &mut UserAgent) -> Vec<UaEvent> {
    std::iter::from_fn(|| ua.poll_event()).collect()
}

/// INVITE → 100, 180, 200 with SDP; returns the agent, the call and our To tag.
fn answered() -> (UserAgent, sip_dialog::CallHandle, String) {
    let mut ua = UserAgent::new(UaConfig::default(), 42);
    ua.handle_datagram(ms(0), invite(1, None, "z9hG4bK1", SDP), phone());
    assert_eq!(statuses(&mut ua), vec![100]);
    let ev = events(&mut ua);
    let UaEvent::Incoming {
        call,
        request_uri,
        offer,
        ..
    } = &ev[0]
    else {
        panic!("{ev:?}")
    };
    assert!(request_uri.contains("mode=deposit"));
    assert_eq!(offer.as_deref(), Some(SDP.as_bytes()));
    let call = *call;
    ua.ringing(call, ms(1));
    ua.accept(call, ms(2), b"v=0\r\n");
    let out = sent(&mut ua);
    assert_eq!(
        out.iter().map(|m| m.status()).collect::<Vec<_>>(),
        vec![180, 200]
    );
    let tag = out[1].to_tag().unwrap().to_string();
    assert_eq!(
        out[0].to_tag(),
        Some(tag.as_str()),
        "one tag for the dialog"
    );
    assert_eq!(out[1].body().as_ref(), b"v=0\r\n");
    (ua, call, tag)
}

#[test]
fn invite_200_retransmitted_until_ack_then_info_reinvite_bye() {
    let (mut ua, call, tag) = answered();
    // No ACK yet: the 200 is re-sent at T1, then 2*T1.
    assert_eq!(ua.poll_timeout(), Some(ms(502)));
    ua.handle_timeout(ms(502));
    assert_eq!(statuses(&mut ua), vec![200]);
    ua.handle_timeout(ms(1502));
    assert_eq!(statuses(&mut ua), vec![200]);
    ua.handle_datagram(
        ms(1600),
        in_dialog("ACK", 1, &tag, "z9hG4bK2", "", ""),
        phone(),
    );
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Confirmed { call, answer: None }]
    );
    ua.handle_timeout(ms(10_000));
    assert!(
        statuses(&mut ua).is_empty(),
        "no retransmission after the ACK"
    );

    let info = in_dialog(
        "INFO",
        2,
        &tag,
        "z9hG4bK3",
        "Content-Type: application/dtmf-relay\r\n",
        "Signal=#\r\nDuration=160\r\n",
    );
    ua.handle_datagram(ms(11_000), info, phone());
    assert_eq!(statuses(&mut ua), vec![200]);
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Dtmf {
            call,
            digit: '#',
            duration_ms: 160
        }]
    );

    // Hold: a re-INVITE with a sendonly offer.
    let hold = format!("{SDP}a=sendonly\r\n");
    let reinvite = in_dialog(
        "INVITE",
        3,
        &tag,
        "z9hG4bK4",
        "Contact: <sip:bob@192.0.2.1:5062>\r\nContent-Type: application/sdp\r\n",
        &hold,
    );
    ua.handle_datagram(ms(12_000), reinvite, phone());
    assert_eq!(statuses(&mut ua), vec![100]);
    let ev = events(&mut ua);
    assert!(
        matches!(&ev[..], [UaEvent::Offer { kind: OfferKind::ReInvite, sdp, .. }] if sdp.as_ref() == hold.as_bytes())
    );
    ua.answer_offer(call, ms(12_001), Ok(b"v=0\r\na=recvonly\r\n"));
    assert_eq!(statuses(&mut ua), vec![200]);
    ua.handle_datagram(
        ms(12_100),
        in_dialog("ACK", 3, &tag, "z9hG4bK5", "", ""),
        phone(),
    );
    ua.handle_timeout(ms(20_000));
    assert!(statuses(&mut ua).is_empty());

    // A stale CSeq is refused (RFC 3261 §12.2.2).
    ua.handle_datagram(
        ms(20_001),
        in_dialog("INFO", 2, &tag, "z9hG4bK6", "", ""),
        phone(),
    );
    assert_eq!(statuses(&mut ua), vec![500]);

    ua.handle_datagram(
        ms(21_000),
        in_dialog("BYE", 4, &tag, "z9hG4bK7", "", ""),
        phone(),
    );
    assert_eq!(statuses(&mut ua), vec![200]);
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::RemoteBye
        }]
    );
    assert_eq!(ua.calls(), 0);
    // A BYE for a dialog that is gone: 481.
    ua.handle_datagram(
        ms(21_001),
        in_dialog("BYE", 5, &tag, "z9hG4bK8", "", ""),
        phone(),
    );
    assert_eq!(statuses(&mut ua), vec![481]);
}

#[test]
fn cancel_before_answer_gives_487() {
    let mut ua = UserAgent::new(UaConfig::default(), 7);
    ua.handle_datagram(ms(0), invite(1, None, "z9hG4bKc", SDP), phone());
    let _ = sent(&mut ua);
    let call = match events(&mut ua).remove(0) {
        UaEvent::Incoming { call, .. } => call,
        e => panic!("{e:?}"),
    };
    let cancel = String::from_utf8(invite(1, None, "z9hG4bKc", "").to_vec())
        .unwrap()
        .replace("INVITE", "CANCEL");
    ua.handle_datagram(ms(100), Bytes::from(cancel), phone());
    let out = sent(&mut ua);
    let mut got: Vec<(u16, String)> = out
        .iter()
        .map(|m| (m.status(), m.cseq().method_str.to_string()))
        .collect();
    got.sort();
    assert_eq!(got, vec![(200, "CANCEL".into()), (487, "INVITE".into())]);
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::Cancelled
        }]
    );
}

#[test]
fn hangup_sends_bye_to_the_remote_target() {
    let (mut ua, call, tag) = answered();
    ua.handle_datagram(
        ms(10),
        in_dialog("ACK", 1, &tag, "z9hG4bK2", "", ""),
        phone(),
    );
    let _ = events(&mut ua);
    ua.hangup(call, ms(20));
    let bye = sent(&mut ua).remove(0);
    assert_eq!(bye.method_str(), "BYE");
    assert_eq!(bye.request_uri_str(), format!("sip:bob@{PHONE}"));
    assert_eq!(bye.from_tag(), Some(tag.as_str()));
    assert_eq!(bye.to_tag(), Some("b1"));
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {}\r\nCall-ID: call-1\r\nCSeq: {} BYE\r\nContent-Length: 0\r\n\r\n",
        bye.value(bye.top_via_index()),
        bye.value(bye.from_index()),
        bye.value(bye.to_index()),
        bye.cseq().seq
    );
    ua.handle_datagram(ms(30), Bytes::from(ok), phone());
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
fn no_ack_ends_the_call_with_bye_after_64_t1() {
    let (mut ua, call, _) = answered();
    let mut now = ms(2);
    while let Some(t) = ua.poll_timeout() {
        if t > ms(40_000) {
            break;
        }
        now = t;
        ua.handle_timeout(now);
        if ua.calls() == 0 || events_peek_ended(&mut ua, call) {
            break;
        }
    }
    assert!(now >= ms(32_002), "gave up at {now:?}");
    let out = sent(&mut ua);
    assert_eq!(
        out.last().map(|m| m.method_str().to_string()),
        Some("BYE".into())
    );
}

fn events_peek_ended(ua: &mut UserAgent, call: sip_dialog::CallHandle) -> bool {
    let ev = events(ua);
    assert!(ev.iter().all(|e| *e
        == UaEvent::Ended {
            call,
            reason: EndReason::AckTimeout
        }));
    !ev.is_empty()
}

#[test]
fn reject_and_out_of_dialog_notify() {
    let mut ua = UserAgent::new(UaConfig::default(), 9);
    ua.handle_datagram(ms(0), invite(1, None, "z9hG4bKr", SDP), phone());
    let _ = sent(&mut ua);
    let UaEvent::Incoming { call, .. } = events(&mut ua).remove(0) else {
        panic!()
    };
    ua.reject(
        call,
        ms(1),
        488,
        "Warning: 305 switchboard \"Incompatible media format\"\r\n",
    );
    let r = sent(&mut ua).remove(0);
    assert_eq!(r.status(), 488);
    assert!(r.head().contains("Warning: 305"));
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Ended {
            call,
            reason: EndReason::Rejected
        }]
    );

    let req = ua
        .send_request(
            ms(2),
            &OutOfDialogRequest {
                method: "NOTIFY".into(),
                uri: format!("sip:alice@{PHONE}"),
                from: "<sip:alice@example.com>".into(),
                to: "<sip:alice@example.com>".into(),
                headers: "Event: message-summary\r\nSubscription-State: active\r\n".into(),
                content_type: Some("application/simple-message-summary".into()),
                body: b"Messages-Waiting: yes\r\n".to_vec(),
                dest: phone(),
            },
        )
        .unwrap();
    let notify = sent(&mut ua).remove(0);
    assert_eq!(notify.method_str(), "NOTIFY");
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=p\r\nCall-ID: {}\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n",
        notify.value(notify.top_via_index()),
        notify.value(notify.from_index()),
        notify.value(notify.to_index()),
        notify.call_id()
    );
    ua.handle_datagram(ms(3), Bytes::from(ok), phone());
    assert_eq!(
        events(&mut ua),
        vec![UaEvent::Response {
            request: req,
            status: 200
        }]
    );
}

#[test]
fn the_answer_copies_the_record_route_of_the_invite() {
    let mut ua = UserAgent::new(UaConfig::default(), 42);
    let with_rr = String::from_utf8(invite(1, None, "z9hG4bK1", SDP).to_vec())
        .unwrap()
        .replacen(
            "Max-Forwards: 70\r\n",
            "Max-Forwards: 70\r\nRecord-Route: <sip:192.0.2.9;lr>\r\nRecord-Route: <sip:192.0.2.8;lr>\r\n",
            1,
        );
    ua.handle_datagram(ms(0), Bytes::from(with_rr), phone());
    let _ = sent(&mut ua);
    let Some(UaEvent::Incoming { call, .. }) = events(&mut ua).into_iter().next() else {
        panic!("no incoming call")
    };
    ua.accept(call, ms(1), b"v=0\r\n");
    let ok = sent(&mut ua).remove(0);
    assert_eq!(ok.status(), 200);
    let rr: Vec<&str> = ok
        .header_values(sip_message::HeaderName::RecordRoute)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(rr, ["<sip:192.0.2.9;lr>", "<sip:192.0.2.8;lr>"]);
}
