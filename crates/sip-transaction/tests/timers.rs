//! Every state machine and timer of the layer, driven on a virtual clock.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::Bytes;
use sip_message::{ResponseBuilder, SipMessage};
use sip_transaction::{
    Config, Error, Event, Reliability, RequestOutcome, ResponseOutcome, State, TransactionId,
    TransactionLayer, Transmit,
};

const UDP: Reliability = Reliability::Unreliable;
const TCP: Reliability = Reliability::Reliable;

type Layer = TransactionLayer<&'static str>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn layer() -> Layer {
    TransactionLayer::new(Config::default())
}

fn layer_without_100() -> Layer {
    TransactionLayer::new(Config {
        auto_100_trying: None,
        ..Config::default()
    })
}

fn parse(s: &str) -> SipMessage {
    SipMessage::parse(Bytes::from(s.replace("\r\n", "\n").replace('\n', "\r\n"))).unwrap()
}

/// A request with the given method, top Via branch, To tag suffix and CSeq method.
fn request_with(method: &str, branch: &str, to: &str, cseq: &str, call_id: &str) -> SipMessage {
    parse(&format!(
        "{method} sip:bob@biloxi.example.com SIP/2.0\n\
         Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch={branch}\n\
         Max-Forwards: 70\n\
         To: Bob <sip:bob@biloxi.example.com>{to}\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n\
         Call-ID: {call_id}\n\
         CSeq: 314159 {cseq}\n\
         Contact: <sip:alice@pc33.atlanta.example.com>\n\
         Content-Length: 0\n\n"
    ))
}

fn request(method: &str, branch: &str) -> SipMessage {
    request_with(method, branch, "", method, "a84b4c76e66710")
}

fn response(status: u16, branch: &str, cseq: &str) -> SipMessage {
    parse(&format!(
        "SIP/2.0 {status} Whatever\n\
         Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch={branch}\n\
         To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n\
         Call-ID: a84b4c76e66710\n\
         CSeq: 314159 {cseq}\n\
         Content-Length: 0\n\n"
    ))
}

fn reply(req: &SipMessage, status: u16) -> Bytes {
    Bytes::from(ResponseBuilder::new(req, status).to_tag("srv").to_vec())
}

fn first_line(t: &Transmit<&'static str>) -> String {
    let s = String::from_utf8_lossy(&t.bytes);
    s.lines().next().unwrap_or("").to_string()
}

fn drain(layer: &mut Layer) -> Vec<String> {
    std::iter::from_fn(|| layer.poll_transmit())
        .map(|t| first_line(&t))
        .collect()
}

fn events(layer: &mut Layer) -> Vec<Event> {
    std::iter::from_fn(|| layer.poll_event()).collect()
}

/// Runs the clock up to `end`; returns (time in ms, first line) of every transmission.
fn run_until(layer: &mut Layer, end: Duration) -> Vec<(u128, String)> {
    let mut out = vec![];
    while let Some(at) = layer.poll_timeout() {
        if at > end {
            break;
        }
        layer.handle_timeout(at);
        while let Some(t) = layer.poll_transmit() {
            out.push((at.as_millis(), first_line(&t)));
        }
    }
    out
}

fn times(sent: &[(u128, String)]) -> Vec<u128> {
    sent.iter().map(|(t, _)| *t).collect()
}

fn intervals(start: u128, sent: &[(u128, String)]) -> Vec<u128> {
    let mut prev = start;
    sent.iter()
        .map(|(t, _)| {
            let d = t - prev;
            prev = *t;
            d
        })
        .collect()
}

fn new_id(outcome: RequestOutcome) -> TransactionId {
    match outcome {
        RequestOutcome::New { id, .. } => id,
        other => panic!("expected New, got {other:?}"),
    }
}

fn matched(outcome: ResponseOutcome) -> TransactionId {
    match outcome {
        ResponseOutcome::Matched { id, .. } => id,
        other => panic!("expected Matched, got {other:?}"),
    }
}

// ---------------------------------------------------------------- client INVITE

#[test]
fn timer_a_doubles_until_timer_b() {
    let mut l = layer();
    let id = l
        .send_request(Duration::ZERO, request("INVITE", "z9hG4bKa"), "peer", UDP)
        .unwrap();
    assert_eq!(l.state(id), Some(State::Calling));
    assert_eq!(drain(&mut l), ["INVITE sip:bob@biloxi.example.com SIP/2.0"]);
    let sent = run_until(&mut l, Duration::from_secs(40));
    assert_eq!(intervals(0, &sent), [500, 1000, 2000, 4000, 8000, 16000]);
    assert!(sent.iter().all(|(_, l)| l.starts_with("INVITE ")));
    // Timer B at 64*T1 = 32 s.
    assert_eq!(
        events(&mut l),
        [Event::Timeout { id }, Event::Terminated { id }]
    );
    assert!(l.is_empty());
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn timer_b_fires_at_32s_exactly() {
    let mut l = layer();
    let id = l
        .send_request(Duration::ZERO, request("INVITE", "z9hG4bKa"), "peer", TCP)
        .unwrap();
    drain(&mut l);
    // Reliable: no Timer A, only B.
    assert_eq!(l.poll_timeout(), Some(Duration::from_secs(32)));
    l.handle_timeout(Duration::from_secs(32) - Duration::from_micros(1));
    assert!(events(&mut l).is_empty());
    l.handle_timeout(Duration::from_secs(32));
    assert_eq!(
        events(&mut l),
        [Event::Timeout { id }, Event::Terminated { id }]
    );
    assert!(drain(&mut l).is_empty());
}

#[test]
fn provisional_stops_timer_a_and_b() {
    let mut l = layer();
    let id = l
        .send_request(Duration::ZERO, request("INVITE", "z9hG4bKa"), "peer", UDP)
        .unwrap();
    drain(&mut l);
    let sent = run_until(&mut l, ms(600));
    assert_eq!(times(&sent), [500]);
    let r = l.handle_response(ms(700), response(180, "z9hG4bKa", "INVITE"));
    assert_eq!(matched(r), id);
    assert_eq!(l.state(id), Some(State::Proceeding));
    assert!(run_until(&mut l, Duration::from_secs(100)).is_empty());
    assert!(events(&mut l).is_empty());
    assert_eq!(l.state(id), Some(State::Proceeding));
}

#[test]
fn failure_is_acked_and_timer_d_absorbs_retransmissions() {
    let mut l = layer();
    let invite = request("INVITE", "z9hG4bKa");
    let id = l.send_request(Duration::ZERO, invite, "peer", UDP).unwrap();
    drain(&mut l);
    let r = l.handle_response(ms(100), response(486, "z9hG4bKa", "INVITE"));
    assert_eq!(matched(r), id);
    assert_eq!(l.state(id), Some(State::Completed));
    let ack = l.poll_transmit().unwrap();
    assert_eq!(ack.dest, "peer");
    let text = String::from_utf8(ack.bytes.to_vec()).unwrap();
    assert!(
        text.starts_with("ACK sip:bob@biloxi.example.com SIP/2.0\r\n"),
        "{text}"
    );
    assert!(text.contains(";tag=a6c85cf"), "{text}");
    assert!(text.contains("CSeq: 314159 ACK"), "{text}");
    assert!(text.contains("branch=z9hG4bKa"), "{text}");
    // A retransmitted final is absorbed and re-ACKed.
    let r = l.handle_response(ms(600), response(486, "z9hG4bKa", "INVITE"));
    assert!(matches!(r, ResponseOutcome::Absorbed));
    assert_eq!(drain(&mut l), ["ACK sip:bob@biloxi.example.com SIP/2.0"]);
    // No INVITE retransmission in Completed; Timer D = 32 s.
    assert!(run_until(&mut l, ms(100) + Duration::from_secs(32) - ms(1)).is_empty());
    assert_eq!(l.state(id), Some(State::Completed));
    l.handle_timeout(ms(100) + Duration::from_secs(32));
    assert_eq!(events(&mut l), [Event::Terminated { id }]);
}

#[test]
fn reliable_timer_d_is_zero() {
    let mut l = layer();
    let id = l
        .send_request(Duration::ZERO, request("INVITE", "z9hG4bKa"), "peer", TCP)
        .unwrap();
    drain(&mut l);
    l.handle_response(ms(100), response(603, "z9hG4bKa", "INVITE"));
    assert_eq!(drain(&mut l).len(), 1); // the ACK
    assert_eq!(l.poll_timeout(), Some(ms(100)));
    l.handle_timeout(ms(100));
    assert_eq!(events(&mut l), [Event::Terminated { id }]);
}

#[test]
fn accepted_passes_every_2xx_up_until_timer_m() {
    let mut l = layer();
    let id = l
        .send_request(Duration::ZERO, request("INVITE", "z9hG4bKa"), "peer", UDP)
        .unwrap();
    drain(&mut l);
    assert_eq!(
        matched(l.handle_response(ms(10), response(180, "z9hG4bKa", "INVITE"))),
        id
    );
    assert_eq!(
        matched(l.handle_response(ms(20), response(200, "z9hG4bKa", "INVITE"))),
        id
    );
    assert_eq!(l.state(id), Some(State::Accepted));
    assert!(
        drain(&mut l).is_empty(),
        "the TU ACKs a 2xx, not the transaction"
    );
    // Retransmitted 2xx: passed up too.
    assert_eq!(
        matched(l.handle_response(ms(520), response(200, "z9hG4bKa", "INVITE"))),
        id
    );
    // Non-2xx in Accepted: absorbed.
    assert!(matches!(
        l.handle_response(ms(530), response(500, "z9hG4bKa", "INVITE")),
        ResponseOutcome::Absorbed
    ));
    // Timer M = 64*T1 from entering Accepted.
    assert_eq!(l.poll_timeout(), Some(ms(20) + Duration::from_secs(32)));
    l.handle_timeout(ms(20) + Duration::from_secs(32));
    assert_eq!(events(&mut l), [Event::Terminated { id }]);
    assert!(matches!(
        l.handle_response(Duration::from_secs(40), response(200, "z9hG4bKa", "INVITE")),
        ResponseOutcome::Stray { .. }
    ));
}

// ---------------------------------------------------------------- client non-INVITE

#[test]
fn timer_e_is_capped_at_t2_and_timer_f_times_out() {
    let mut l = layer();
    let id = l
        .send_request(Duration::ZERO, request("OPTIONS", "z9hG4bKo"), "peer", UDP)
        .unwrap();
    assert_eq!(l.state(id), Some(State::Trying));
    drain(&mut l);
    let sent = run_until(&mut l, Duration::from_secs(40));
    let iv = intervals(0, &sent);
    assert_eq!(&iv[..6], [500, 1000, 2000, 4000, 4000, 4000]);
    assert!(iv[3..].iter().all(|&d| d == 4000));
    assert!(*times(&sent).last().unwrap() < 32_000);
    assert_eq!(
        events(&mut l),
        [Event::Timeout { id }, Event::Terminated { id }]
    );
}

#[test]
fn timer_e_is_t2_in_proceeding_and_timer_k_lingers() {
    let mut l = layer();
    let id = l
        .send_request(Duration::ZERO, request("BYE", "z9hG4bKb"), "peer", UDP)
        .unwrap();
    drain(&mut l);
    assert_eq!(times(&run_until(&mut l, ms(600))), [500]);
    assert_eq!(
        matched(l.handle_response(ms(600), response(100, "z9hG4bKb", "BYE"))),
        id
    );
    assert_eq!(l.state(id), Some(State::Proceeding));
    // The pending E (1000 ms after 500) fires, then every T2.
    assert_eq!(times(&run_until(&mut l, ms(10_000))), [1500, 5500, 9500]);
    assert_eq!(
        matched(l.handle_response(ms(10_000), response(200, "z9hG4bKb", "BYE"))),
        id
    );
    assert_eq!(l.state(id), Some(State::Completed));
    // Completed absorbs retransmitted finals; Timer K = T4 = 5 s; F no longer fires.
    assert!(matches!(
        l.handle_response(ms(10_100), response(200, "z9hG4bKb", "BYE")),
        ResponseOutcome::Absorbed
    ));
    assert_eq!(l.poll_timeout(), Some(ms(15_000)));
    assert!(run_until(&mut l, Duration::from_secs(100)).is_empty());
    assert_eq!(events(&mut l), [Event::Terminated { id }]);
}

#[test]
fn reliable_non_invite_has_no_timer_e_and_zero_timer_k() {
    let mut l = layer();
    let id = l
        .send_request(Duration::ZERO, request("REGISTER", "z9hG4bKr"), "peer", TCP)
        .unwrap();
    drain(&mut l);
    assert_eq!(l.poll_timeout(), Some(Duration::from_secs(32))); // F only
    l.handle_response(ms(50), response(200, "z9hG4bKr", "REGISTER"));
    assert_eq!(l.poll_timeout(), Some(ms(50)));
    l.handle_timeout(ms(50));
    assert_eq!(events(&mut l), [Event::Terminated { id }]);
    assert!(drain(&mut l).is_empty());
}

#[test]
fn cancel_response_does_not_match_the_invite() {
    let mut l = layer();
    let inv = l
        .send_request(Duration::ZERO, request("INVITE", "z9hG4bKc"), "peer", UDP)
        .unwrap();
    let mut cancel = Vec::new();
    sip_message::build_cancel(l.request(inv).unwrap(), &mut cancel);
    let cancel = SipMessage::parse(Bytes::from(cancel)).unwrap();
    let can = l.send_request(ms(1), cancel, "peer", UDP).unwrap();
    assert_ne!(inv, can);
    assert_eq!(
        matched(l.handle_response(ms(5), response(200, "z9hG4bKc", "CANCEL"))),
        can
    );
    assert_eq!(l.state(inv), Some(State::Calling));
    assert_eq!(l.state(can), Some(State::Completed));
    assert_eq!(
        matched(l.handle_response(ms(6), response(487, "z9hG4bKc", "INVITE"))),
        inv
    );
    assert_eq!(l.state(inv), Some(State::Completed));
}

#[test]
fn send_request_errors() {
    let mut l = layer();
    l.send_request(Duration::ZERO, request("INVITE", "z9hG4bKd"), "p", UDP)
        .unwrap();
    assert_eq!(
        l.send_request(Duration::ZERO, request("INVITE", "z9hG4bKd"), "p", UDP),
        Err(Error::DuplicateBranch)
    );
    assert_eq!(
        l.send_request(Duration::ZERO, request("ACK", "z9hG4bKe"), "p", UDP),
        Err(Error::AckIsNotATransaction)
    );
    assert_eq!(
        l.send_request(
            Duration::ZERO,
            response(200, "z9hG4bKf", "INVITE"),
            "p",
            UDP
        ),
        Err(Error::NotARequest)
    );
    let no_branch = parse(&request("OPTIONS", "x").head().replace(";branch=x", ""));
    assert_eq!(
        l.send_request(Duration::ZERO, no_branch, "p", UDP),
        Err(Error::MissingBranch)
    );
}

#[test]
fn transport_error_terminates() {
    let mut l = layer();
    let id = l
        .send_request(Duration::ZERO, request("INVITE", "z9hG4bKt"), "p", UDP)
        .unwrap();
    l.handle_transport_error(ms(1), id);
    assert_eq!(
        events(&mut l),
        [Event::TransportError { id }, Event::Terminated { id }]
    );
    assert!(l.is_empty());
    // Its timers are gone too.
    drain(&mut l);
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn transport_error_reported_with_the_request_ends_its_client_transaction() {
    let mut l = layer();
    // Over TCP with T1 at its default: without the report, Timer B would end it at 32 s.
    let id = l
        .send_request(Duration::ZERO, request("INVITE", "z9hG4bKtcp"), "p", TCP)
        .unwrap();
    let other = l
        .send_request(Duration::ZERO, request("INVITE", "z9hG4bKother"), "q", TCP)
        .unwrap();
    drain(&mut l);
    // A request this layer never sent, and a CANCEL sharing the INVITE's branch: no match.
    assert_eq!(
        l.handle_request_transport_error(ms(1), "z9hG4bKnone", "INVITE"),
        None
    );
    assert_eq!(
        l.handle_request_transport_error(ms(1), "z9hG4bKtcp", "CANCEL"),
        None
    );
    assert!(events(&mut l).is_empty());
    // The connect failed 5 ms after the send: the TU hears of it at once.
    assert_eq!(
        l.handle_request_transport_error(ms(5), "z9hG4bKtcp", "INVITE"),
        Some(id)
    );
    assert_eq!(
        events(&mut l),
        [Event::TransportError { id }, Event::Terminated { id }]
    );
    assert_eq!(l.state(id), None);
    assert_eq!(l.state(other), Some(State::Calling));
    // Reported twice (several queued copies lost): the second finds nothing.
    assert_eq!(
        l.handle_request_transport_error(ms(6), "z9hG4bKtcp", "INVITE"),
        None
    );
}

// ---------------------------------------------------------------- server INVITE

#[test]
fn auto_100_trying_after_200ms_and_retransmission_resends_latest() {
    let mut l = layer();
    let id = new_id(l.handle_request(Duration::ZERO, request("INVITE", "z9hG4bKs"), UDP, "uac"));
    assert_eq!(l.state(id), Some(State::Proceeding));
    assert!(drain(&mut l).is_empty());
    // A retransmission before anything was sent: absorbed, nothing to re-send.
    assert!(matches!(
        l.handle_request(ms(100), request("INVITE", "z9hG4bKs"), UDP, "uac"),
        RequestOutcome::Absorbed
    ));
    assert!(drain(&mut l).is_empty());
    assert_eq!(
        run_until(&mut l, ms(1000)),
        [(200, "SIP/2.0 100 Trying".to_string())]
    );
    assert!(matches!(
        l.handle_request(ms(1000), request("INVITE", "z9hG4bKs"), UDP, "uac"),
        RequestOutcome::Absorbed
    ));
    assert_eq!(drain(&mut l), ["SIP/2.0 100 Trying"]);
    let req = l.request(id).unwrap().clone();
    l.respond(ms(1100), id, reply(&req, 180), 180).unwrap();
    assert_eq!(drain(&mut l), ["SIP/2.0 180 Ringing"]);
    l.handle_request(ms(1200), request("INVITE", "z9hG4bKs"), UDP, "uac");
    assert_eq!(drain(&mut l), ["SIP/2.0 180 Ringing"]);
}

#[test]
fn auto_100_trying_is_optional() {
    // The TU answers first: no 100.
    let mut l = layer();
    let id = new_id(l.handle_request(Duration::ZERO, request("INVITE", "z9hG4bKs"), UDP, "uac"));
    let req = l.request(id).unwrap().clone();
    l.respond(ms(50), id, reply(&req, 180), 180).unwrap();
    assert_eq!(drain(&mut l), ["SIP/2.0 180 Ringing"]);
    assert!(run_until(&mut l, ms(1000)).is_empty());
    // Disabled.
    let mut l = layer_without_100();
    new_id(l.handle_request(Duration::ZERO, request("INVITE", "z9hG4bKs"), UDP, "uac"));
    assert_eq!(l.poll_timeout(), None);
    // Immediate (what a proxy wants).
    let mut l = TransactionLayer::new(Config {
        auto_100_trying: Some(Duration::ZERO),
        ..Config::default()
    });
    new_id(l.handle_request(Duration::ZERO, request("INVITE", "z9hG4bKs"), UDP, "uac"));
    let t: Transmit<&str> = l.poll_transmit().unwrap();
    assert_eq!(t.dest, "uac");
    let text = String::from_utf8(t.bytes.to_vec()).unwrap();
    assert!(text.starts_with("SIP/2.0 100 Trying\r\n"));
    assert!(!text.contains("tag=a6c85cf") && text.contains("CSeq: 314159 INVITE"));
}

#[test]
fn timer_g_is_capped_at_t2_and_timer_h_times_out() {
    let mut l = layer_without_100();
    let id = new_id(l.handle_request(Duration::ZERO, request("INVITE", "z9hG4bKg"), UDP, "uac"));
    let req = l.request(id).unwrap().clone();
    l.respond(ms(1000), id, reply(&req, 486), 486).unwrap();
    assert_eq!(l.state(id), Some(State::Completed));
    assert_eq!(drain(&mut l), ["SIP/2.0 486 Busy Here"]);
    let sent = run_until(&mut l, Duration::from_secs(60));
    let iv = intervals(1000, &sent);
    assert_eq!(&iv[..6], [500, 1000, 2000, 4000, 4000, 4000]);
    assert!(sent.iter().all(|(_, l)| l == "SIP/2.0 486 Busy Here"));
    assert!(*times(&sent).last().unwrap() < 33_000);
    // Timer H = 64*T1 after the final response.
    assert_eq!(
        events(&mut l),
        [Event::Timeout { id }, Event::Terminated { id }]
    );
}

#[test]
fn ack_for_failure_is_absorbed_confirmed_then_timer_i() {
    let mut l = layer_without_100();
    let id = new_id(l.handle_request(Duration::ZERO, request("INVITE", "z9hG4bKi"), UDP, "uac"));
    let req = l.request(id).unwrap().clone();
    l.respond(ms(10), id, reply(&req, 404), 404).unwrap();
    drain(&mut l);
    // A retransmitted INVITE in Completed re-sends the final.
    l.handle_request(ms(20), request("INVITE", "z9hG4bKi"), UDP, "uac");
    assert_eq!(drain(&mut l), ["SIP/2.0 404 Not Found"]);
    assert_eq!(times(&run_until(&mut l, ms(600))), [510]);
    let ack = request_with("ACK", "z9hG4bKi", ";tag=srv", "ACK", "a84b4c76e66710");
    assert!(matches!(
        l.handle_request(ms(700), ack.clone(), UDP, "uac"),
        RequestOutcome::Absorbed
    ));
    assert_eq!(l.state(id), Some(State::Confirmed));
    // Confirmed: ACK and INVITE retransmissions absorbed silently; no more G, no H.
    assert!(matches!(
        l.handle_request(ms(800), ack, UDP, "uac"),
        RequestOutcome::Absorbed
    ));
    l.handle_request(ms(900), request("INVITE", "z9hG4bKi"), UDP, "uac");
    assert!(drain(&mut l).is_empty());
    // Timer I = T4 = 5 s.
    assert_eq!(l.poll_timeout(), Some(ms(5700)));
    assert!(run_until(&mut l, Duration::from_secs(60)).is_empty());
    assert_eq!(events(&mut l), [Event::Terminated { id }]);
}

#[test]
fn reliable_server_invite_has_no_timer_g_and_zero_timer_i() {
    let mut l = layer_without_100();
    let id = new_id(l.handle_request(Duration::ZERO, request("INVITE", "z9hG4bKr"), TCP, "conn"));
    let req = l.request(id).unwrap().clone();
    l.respond(ms(10), id, reply(&req, 480), 480).unwrap();
    drain(&mut l);
    assert_eq!(l.poll_timeout(), Some(ms(10) + Duration::from_secs(32))); // H only
    let ack = request_with("ACK", "z9hG4bKr", ";tag=srv", "ACK", "a84b4c76e66710");
    l.handle_request(ms(20), ack, TCP, "conn");
    assert_eq!(l.state(id), Some(State::Confirmed));
    assert_eq!(l.poll_timeout(), Some(ms(20)));
    l.handle_timeout(ms(20));
    assert_eq!(events(&mut l), [Event::Terminated { id }]);
    assert!(drain(&mut l).is_empty());
}

#[test]
fn accepted_absorbs_invites_until_timer_l() {
    let mut l = layer();
    let id = new_id(l.handle_request(Duration::ZERO, request("INVITE", "z9hG4bKl"), UDP, "uac"));
    let req = l.request(id).unwrap().clone();
    l.respond(ms(10), id, reply(&req, 200), 200).unwrap();
    assert_eq!(l.state(id), Some(State::Accepted));
    assert_eq!(drain(&mut l), ["SIP/2.0 200 OK"]);
    // Retransmitted INVITE: absorbed, the 2xx is not re-sent by the transaction.
    assert!(matches!(
        l.handle_request(ms(500), request("INVITE", "z9hG4bKl"), UDP, "uac"),
        RequestOutcome::Absorbed
    ));
    assert!(drain(&mut l).is_empty());
    // The TU retransmits its 2xx through the transaction.
    l.respond(ms(510), id, reply(&req, 200), 200).unwrap();
    assert_eq!(drain(&mut l), ["SIP/2.0 200 OK"]);
    assert_eq!(
        l.respond(ms(520), id, reply(&req, 486), 486),
        Err(Error::WrongState)
    );
    assert_eq!(
        l.respond(ms(520), id, reply(&req, 180), 180),
        Err(Error::WrongState)
    );
    // No 100 Trying after the final, no retransmissions, Timer L = 64*T1.
    assert_eq!(l.poll_timeout(), Some(ms(10) + Duration::from_secs(32)));
    assert!(run_until(&mut l, Duration::from_secs(60)).is_empty());
    assert_eq!(events(&mut l), [Event::Terminated { id }]);
}

#[test]
fn ack_for_2xx_is_passed_up() {
    let mut l = layer();
    let id = new_id(l.handle_request(Duration::ZERO, request("INVITE", "z9hG4bKx"), UDP, "uac"));
    let req = l.request(id).unwrap().clone();
    l.respond(ms(10), id, reply(&req, 200), 200).unwrap();
    // RFC 3261: the 2xx ACK has a new branch and matches no transaction.
    let ack = request_with("ACK", "z9hG4bKnew", ";tag=srv", "ACK", "a84b4c76e66710");
    match l.handle_request(ms(20), ack, UDP, "uac") {
        RequestOutcome::Ack {
            invite_tx: None,
            ack,
        } => assert_eq!(ack.method_str(), "ACK"),
        other => panic!("{other:?}"),
    }
    // An ACK that does match an Accepted transaction is passed up as well (RFC 6026).
    let ack = request_with("ACK", "z9hG4bKx", ";tag=srv", "ACK", "a84b4c76e66710");
    assert!(matches!(
        l.handle_request(ms(30), ack, UDP, "uac"),
        RequestOutcome::Ack { invite_tx: Some(i), .. } if i == id
    ));
    assert_eq!(l.state(id), Some(State::Accepted));
}

// ---------------------------------------------------------------- server non-INVITE

#[test]
fn server_non_invite_resends_latest_response_and_timer_j() {
    let mut l = layer();
    let id = new_id(l.handle_request(Duration::ZERO, request("REGISTER", "z9hG4bKn"), UDP, "uac"));
    assert_eq!(l.state(id), Some(State::Trying));
    // Trying: absorbed silently (no automatic 100 for non-INVITE).
    assert!(matches!(
        l.handle_request(ms(500), request("REGISTER", "z9hG4bKn"), UDP, "uac"),
        RequestOutcome::Absorbed
    ));
    assert!(drain(&mut l).is_empty());
    let req = l.request(id).unwrap().clone();
    l.respond(ms(600), id, reply(&req, 100), 100).unwrap();
    assert_eq!(l.state(id), Some(State::Proceeding));
    drain(&mut l);
    l.handle_request(ms(1500), request("REGISTER", "z9hG4bKn"), UDP, "uac");
    assert_eq!(drain(&mut l), ["SIP/2.0 100 Trying"]);
    l.respond(ms(2000), id, reply(&req, 200), 200).unwrap();
    assert_eq!(l.state(id), Some(State::Completed));
    assert_eq!(drain(&mut l), ["SIP/2.0 200 OK"]);
    l.handle_request(ms(3500), request("REGISTER", "z9hG4bKn"), UDP, "uac");
    assert_eq!(drain(&mut l), ["SIP/2.0 200 OK"]);
    assert_eq!(
        l.respond(ms(3600), id, reply(&req, 500), 500),
        Err(Error::WrongState)
    );
    // Timer J = 64*T1 after the final, no retransmissions meanwhile.
    assert_eq!(l.poll_timeout(), Some(ms(2000) + Duration::from_secs(32)));
    assert!(run_until(&mut l, Duration::from_secs(60)).is_empty());
    assert_eq!(events(&mut l), [Event::Terminated { id }]);
    // Afterwards the same request is new again.
    new_id(l.handle_request(
        Duration::from_secs(60),
        request("REGISTER", "z9hG4bKn"),
        UDP,
        "uac",
    ));
}

#[test]
fn reliable_timer_j_is_zero() {
    let mut l = layer();
    let id = new_id(l.handle_request(Duration::ZERO, request("OPTIONS", "z9hG4bKj"), TCP, "c"));
    let req = l.request(id).unwrap().clone();
    l.respond(ms(5), id, reply(&req, 200), 200).unwrap();
    assert_eq!(l.poll_timeout(), Some(ms(5)));
    l.handle_timeout(ms(5));
    assert_eq!(events(&mut l), [Event::Terminated { id }]);
}

#[test]
fn respond_on_a_client_transaction_is_refused() {
    let mut l = layer();
    let id = l
        .send_request(Duration::ZERO, request("OPTIONS", "z9hG4bKq"), "p", UDP)
        .unwrap();
    let req = request("OPTIONS", "z9hG4bKq");
    assert_eq!(
        l.respond(ms(1), id, reply(&req, 200), 200),
        Err(Error::WrongState)
    );
}

// ---------------------------------------------------------------- CANCEL, RFC 2543, bound

#[test]
fn cancel_is_matched_to_its_invite() {
    let mut l = layer_without_100();
    let inv = new_id(l.handle_request(Duration::ZERO, request("INVITE", "z9hG4bKc1"), UDP, "uac"));
    let cancel = request("CANCEL", "z9hG4bKc1");
    let cancel_tx = match l.handle_request(ms(100), cancel.clone(), UDP, "uac") {
        RequestOutcome::Cancel {
            cancel_tx,
            invite_tx,
            ..
        } => {
            assert_eq!(invite_tx, Some(inv));
            cancel_tx
        }
        other => panic!("{other:?}"),
    };
    assert_ne!(cancel_tx, inv);
    assert_eq!(l.len(), 2);
    l.respond(ms(110), cancel_tx, reply(&cancel, 200), 200)
        .unwrap();
    drain(&mut l);
    // A retransmitted CANCEL is absorbed and re-answered.
    assert!(matches!(
        l.handle_request(ms(600), cancel, UDP, "uac"),
        RequestOutcome::Absorbed
    ));
    assert_eq!(drain(&mut l), ["SIP/2.0 200 OK"]);
    // A CANCEL for no INVITE.
    assert!(matches!(
        l.handle_request(ms(700), request("CANCEL", "z9hG4bKzz"), UDP, "uac"),
        RequestOutcome::Cancel {
            invite_tx: None,
            ..
        }
    ));
    // Another sender with the same branch is another transaction.
    let other = parse(&request("CANCEL", "z9hG4bKc1").head().replace(
        "pc33.atlanta.example.com:5060",
        "pc34.atlanta.example.com:5060",
    ));
    assert!(matches!(
        l.handle_request(ms(800), other, UDP, "uac"),
        RequestOutcome::Cancel {
            invite_tx: None,
            ..
        }
    ));
}

#[test]
fn rfc2543_fallback_matching() {
    let mut l = layer_without_100();
    // No magic cookie: match on R-URI, tags, Call-ID, CSeq, top Via.
    let invite = request("INVITE", "old1");
    let id = new_id(l.handle_request(Duration::ZERO, invite.clone(), UDP, "uac"));
    assert!(matches!(
        l.handle_request(ms(500), invite.clone(), UDP, "uac"),
        RequestOutcome::Absorbed
    ));
    // Without any branch at all.
    let no_branch = parse(&invite.head().replace(";branch=old1", ""));
    let id2 = new_id(l.handle_request(ms(600), no_branch.clone(), UDP, "uac"));
    assert_ne!(id, id2);
    assert!(matches!(
        l.handle_request(ms(700), no_branch, UDP, "uac"),
        RequestOutcome::Absorbed
    ));
    // A different Call-ID or CSeq is a different transaction.
    let other = request_with("INVITE", "old1", "", "INVITE", "other-call");
    new_id(l.handle_request(ms(800), other, UDP, "uac"));
    let cseq = parse(&invite.head().replace("314159 INVITE", "314160 INVITE"));
    new_id(l.handle_request(ms(800), cseq, UDP, "uac"));
    // CANCEL matches by the same fields with method INVITE.
    assert!(matches!(
        l.handle_request(ms(900), request("CANCEL", "old1"), UDP, "uac"),
        RequestOutcome::Cancel { invite_tx: Some(i), .. } if i == id
    ));
    // The ACK of the failure carries the response's To tag and is still matched.
    l.respond(ms(1000), id, reply(&invite, 486), 486).unwrap();
    let ack = request_with("ACK", "old1", ";tag=srv", "ACK", "a84b4c76e66710");
    assert!(matches!(
        l.handle_request(ms(1100), ack, UDP, "uac"),
        RequestOutcome::Absorbed
    ));
    assert_eq!(l.state(id), Some(State::Confirmed));
}

#[test]
fn max_transactions_bound_gives_overloaded() {
    let mut l: Layer = TransactionLayer::new(Config {
        max_transactions: 2,
        auto_100_trying: None,
        ..Config::default()
    });
    let a = new_id(l.handle_request(Duration::ZERO, request("OPTIONS", "z9hG4bK1"), TCP, "c"));
    l.send_request(Duration::ZERO, request("OPTIONS", "z9hG4bK2"), "p", TCP)
        .unwrap();
    assert_eq!(l.len(), 2);
    assert!(matches!(
        l.handle_request(ms(1), request("OPTIONS", "z9hG4bK3"), TCP, "c"),
        RequestOutcome::Overloaded { .. }
    ));
    assert_eq!(
        l.send_request(ms(1), request("OPTIONS", "z9hG4bK4"), "p", TCP),
        Err(Error::Overloaded)
    );
    // Retransmissions and ACKs still work when full.
    assert!(matches!(
        l.handle_request(ms(2), request("OPTIONS", "z9hG4bK1"), TCP, "c"),
        RequestOutcome::Absorbed
    ));
    let stray_ack = request_with("ACK", "z9hG4bK9", ";tag=x", "ACK", "c");
    assert!(matches!(
        l.handle_request(ms(2), stray_ack, TCP, "c"),
        RequestOutcome::Ack {
            invite_tx: None,
            ..
        }
    ));
    // Room again once a transaction terminates.
    let req = l.request(a).unwrap().clone();
    l.respond(ms(3), a, reply(&req, 200), 200).unwrap();
    l.handle_timeout(ms(3));
    assert_eq!(l.len(), 1);
    new_id(l.handle_request(ms(4), request("OPTIONS", "z9hG4bK3"), TCP, "c"));
}

#[test]
fn stray_responses_and_misrouted_messages() {
    let mut l = layer();
    assert!(matches!(
        l.handle_response(Duration::ZERO, response(200, "z9hG4bKnone", "INVITE")),
        ResponseOutcome::Stray { .. }
    ));
    assert!(matches!(
        l.handle_request(
            Duration::ZERO,
            response(200, "z9hG4bKnone", "INVITE"),
            UDP,
            "x"
        ),
        RequestOutcome::NotARequest { .. }
    ));
}

#[test]
fn many_transactions_share_one_timer_queue() {
    let mut l = layer();
    for i in 0..1000 {
        l.send_request(ms(i), request("OPTIONS", &format!("z9hG4bK{i}")), "p", UDP)
            .unwrap();
    }
    assert_eq!(l.len(), 1000);
    assert_eq!(l.poll_timeout(), Some(ms(500)));
    // Answer all: their E and F timers become stale and are skipped.
    for i in 0..1000 {
        l.handle_response(ms(1000), response(200, &format!("z9hG4bK{i}"), "OPTIONS"));
    }
    drain(&mut l);
    assert_eq!(l.poll_timeout(), Some(ms(6000)));
    l.handle_timeout(ms(6000));
    assert!(l.is_empty());
    assert_eq!(events(&mut l).len(), 1000);
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn client_transmits_the_request_bytes_unchanged() {
    let mut l = layer();
    let req = request("MESSAGE", "z9hG4bKm");
    l.send_request(Duration::ZERO, req.clone(), "peer", UDP)
        .unwrap();
    let t = l.poll_transmit().unwrap();
    assert_eq!(t.bytes.as_ref(), req.to_vec().as_slice());
    assert_eq!(t.dest, "peer");
}

#[test]
fn stateless_answer_ends_the_transaction_at_once() {
    let mut l = layer_without_100();
    let req = request("REGISTER", "z9hG4bKst");
    let id = new_id(l.handle_request(Duration::ZERO, req.clone(), UDP, "uac"));
    l.respond_stateless(id, reply(&req, 401), 401).unwrap();
    assert_eq!(drain(&mut l), vec!["SIP/2.0 401 Unauthorized".to_string()]);
    assert!(l.is_empty());
    assert_eq!(events(&mut l), vec![Event::Terminated { id }]);
    // A retransmission is a new request for the TU (it gets a fresh challenge), and no
    // timer of the old transaction fires.
    assert!(matches!(
        l.handle_request(ms(500), req.clone(), UDP, "uac"),
        RequestOutcome::New { .. }
    ));
    assert!(run_until(&mut l, ms(40_000)).is_empty());
    // Provisional answers cannot be stateless; nor can an answer after the final one.
    let id2 = new_id(l.handle_request(ms(40_001), request("OPTIONS", "z9hG4bKs2"), UDP, "uac"));
    assert_eq!(
        l.respond_stateless(id2, Bytes::new(), 180),
        Err(Error::BadStatus(180))
    );
    l.respond(ms(40_001), id2, reply(&req, 200), 200).unwrap();
    assert_eq!(
        l.respond_stateless(id2, Bytes::new(), 403),
        Err(Error::WrongState)
    );
}
