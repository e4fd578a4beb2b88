//! The call events of whole calls through the sans-IO proxy on a virtual clock: one stream
//! per call attempt, from `Started` to `Answered`/`Failed`, then `Ended`.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use proxy::events::{CallEvent, CallEventKind, Hangup};
use testkit::proxy_net::{answer, invite, udp, Net};

const S: Duration = Duration::from_secs(1);

fn events(net: &mut Net) -> Vec<CallEvent> {
    std::iter::from_fn(|| net.proxy.poll_call_event()).collect()
}

fn bye(from_tag: &str, to_tag: &str) -> String {
    format!(
        "BYE sip:bob@203.0.113.5:5062 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKbye1;rport
Max-Forwards: 70
From: <sip:alice@example.com>;tag={from_tag}
To: <sip:bob@example.com>;tag={to_tag}
Call-ID: call-1
CSeq: 2 BYE
Content-Length: 0

"
    )
}

/// Alice calls bob: 180 after 1 s, 200 after 3 s, alice hangs up 10 s later.
///
/// ```text
/// Alice          Proxy            Bob      events
///   | INVITE      |                 |       Started (t=0)
///   |------------>| INVITE          |
///   |             |---------------->|
///   |   180       |   180           |       Ringing (t=1)
///   |<------------|<----------------|
///   |   200       |   200           |       Answered (t=3)
///   |<------------|<----------------|
///   | BYE         |                 |       Ended by caller (t=13)
///   |------------>|---------------->|
/// ```
#[test]
fn an_answered_call_starts_rings_answers_and_ends_once() {
    let mut net = Net::new(60 * S);
    net.register("bob", "203.0.113.5:5062", udp("203.0.113.5:5062"));
    let bob = udp("203.0.113.5:5062");
    net.send(udp("198.51.100.1:5060"), &invite("z9hG4bKa1"));
    let out = net.out();
    let fwd = out[1].1.clone();
    net.now += S;
    net.send(bob, &answer(&fwd, 180));
    net.now += 2 * S;
    net.send(bob, &answer(&fwd, 200));
    net.out();
    net.now += 10 * S;
    net.send(udp("198.51.100.1:5060"), &bye("a1", "b200"));
    let ev = events(&mut net);
    let kinds: Vec<_> = ev.iter().map(|e| &e.kind).collect();
    assert_eq!(ev.len(), 4, "{kinds:?}");
    assert!(ev.iter().all(|e| e.call == ev[0].call));
    let CallEventKind::Started(start) = &ev[0].kind else {
        panic!("{kinds:?}")
    };
    assert_eq!(start.call_id, "call-1");
    assert_eq!(start.from, "sip:alice@example.com");
    assert_eq!(start.dialled, "sip:bob@example.com");
    assert_eq!(start.source, "udp:198.51.100.1:5060");
    assert!(start.routed);
    assert_eq!(ev[1].kind, CallEventKind::Ringing);
    assert_eq!(ev[1].at, S);
    assert_eq!(ev[2].kind, CallEventKind::Answered { status: 200 });
    assert_eq!(ev[2].at, 3 * S);
    assert_eq!(ev[3].kind, CallEventKind::Ended { by: Hangup::Caller });
    assert_eq!(ev[3].at, 13 * S);
}

/// Bob is not registered: the call starts and fails with 480, in two events.
#[test]
fn a_call_to_nobody_starts_and_fails() {
    let mut net = Net::new(60 * S);
    net.send(udp("198.51.100.1:5060"), &invite("z9hG4bKa2"));
    let ev = events(&mut net);
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert!(matches!(&ev[0].kind, CallEventKind::Started(s) if s.routed));
    assert_eq!(
        ev[1].kind,
        CallEventKind::Failed {
            status: 480,
            reason: "Temporarily Unavailable".into()
        }
    );
}

/// Bob does not answer within the no-answer time: the proxy CANCELs, bob's 487 comes back
/// and the caller gets 408; the call fails then.
#[test]
fn an_unanswered_call_fails_when_the_no_answer_timer_fires() {
    let mut net = Net::new(5 * S);
    net.register("bob", "203.0.113.5:5062", udp("203.0.113.5:5062"));
    net.send(udp("198.51.100.1:5060"), &invite("z9hG4bKa3"));
    let out = net.out();
    net.send(udp("203.0.113.5:5062"), &answer(&out[1].1, 180));
    net.advance(5 * S);
    net.now += S;
    net.send(udp("203.0.113.5:5062"), &answer(&out[1].1, 487));
    let ev = events(&mut net);
    let last = ev.last().unwrap();
    assert!(
        matches!(last.kind, CallEventKind::Failed { status: 408, .. }),
        "{ev:?}"
    );
    assert_eq!(last.at, 6 * S);
}

/// RFC 5359 §2.9 then §2.8: bob does not answer within 3 s (forwarded to carol), carol is
/// busy (forwarded to voicemail), voicemail answers. One call, two retargets with their
/// causes, in order.
#[test]
fn forwarding_retargets_carry_their_cause_and_target() {
    use model::{AddressOfRecord, UserSettings};
    use proxy::events::RetargetCause;
    use proxy::ProxyConfig;

    let dir = testkit::proxy_net::directory(&["alice", "bob", "carol"]);
    dir.replace_settings(UserSettings::group(
        [
            ("bob", "forward.no-answer", "3 carol@example.com"),
            ("carol", "forward.busy", "sip:vm@192.0.2.99:5080"),
        ]
        .map(|(u, n, v)| {
            (
                AddressOfRecord::new(u, "example.com"),
                n.to_string(),
                v.to_string(),
            )
        }),
    ));
    let cfg = ProxyConfig {
        advertised_host: Some(testkit::proxy_net::PROXY.into()),
        advertised_port: 5060,
        no_answer_timeout: 60 * S,
        auth: proxy::AuthConfig {
            enabled: false,
            ..proxy::AuthConfig::default()
        },
        ..ProxyConfig::default()
    };
    let mut net = Net::with_directory(cfg, dir);
    let (bob, carol) = (udp("203.0.113.5:5062"), udp("203.0.113.6:5062"));
    net.register("bob", "203.0.113.5:5062", bob);
    net.register("carol", "203.0.113.6:5062", carol);
    net.send(udp("198.51.100.1:5060"), &invite("z9hG4bKf1"));
    let to_bob = net
        .out()
        .into_iter()
        .find(|(_, m)| m.is_request())
        .unwrap()
        .1;
    net.send(bob, &answer(&to_bob, 180));
    net.advance(3 * S);
    let to_carol = net
        .out()
        .into_iter()
        .find(|(d, m)| m.is_request() && m.method_str() == "INVITE" && *d == carol)
        .unwrap()
        .1;
    net.send(bob, &answer(&to_bob, 487));
    net.send(carol, &answer(&to_carol, 486));
    let to_vm = net
        .out()
        .into_iter()
        .find(|(_, m)| m.is_request() && m.method_str() == "INVITE")
        .unwrap()
        .1;
    net.send(udp("192.0.2.99:5080"), &answer(&to_vm, 200));
    let ev = events(&mut net);
    let retargets: Vec<_> = ev
        .iter()
        .filter_map(|e| match &e.kind {
            CallEventKind::Retargeted { cause, target } => Some((e.at, *cause, target.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        retargets,
        [
            (3 * S, RetargetCause::NoAnswer, "sip:carol@example.com"),
            (3 * S, RetargetCause::Busy, "sip:vm@192.0.2.99:5080"),
        ]
    );
    assert!(matches!(ev[0].kind, CallEventKind::Started(_)));
    assert_eq!(ev[1].kind, CallEventKind::Ringing);
    assert_eq!(
        ev.last().unwrap().kind,
        CallEventKind::Answered { status: 200 }
    );
    assert!(ev.iter().all(|e| e.call == ev[0].call));
}
