//! The INVITE client transaction (RFC 3261 §17.1.1, RFC 6026): timers A, B, D and M,
//! driven on a virtual clock.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;

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

#[test]
fn a_written_request_is_sent_as_is_and_parsed_only_for_its_ack() {
    let mut l = layer();
    let wire = request("INVITE", "z9hG4bKw").wire();
    let written = sip_message::WrittenMessage::new(wire.clone());
    let id = l
        .send_written(Duration::ZERO, written, "INVITE", "z9hG4bKw", "peer", UDP)
        .unwrap();
    let sent = l.poll_transmit().unwrap();
    assert_eq!(sent.bytes, wire);
    // Matched by the branch and method it was started with.
    let r = l.handle_response(ms(50), response(180, "z9hG4bKw", "INVITE"));
    assert_eq!(matched(r), id);
    // The request for a CANCEL: parsed on demand.
    assert_eq!(l.request(id).unwrap().branch(), Some("z9hG4bKw"));
    let r = l.handle_response(ms(100), response(486, "z9hG4bKw", "INVITE"));
    assert_eq!(matched(r), id);
    assert_eq!(drain(&mut l), ["ACK sip:bob@biloxi.example.com SIP/2.0"]);
    // The same checks as for a parsed request.
    let again = sip_message::WrittenMessage::new(wire);
    assert!(matches!(
        l.send_written(ms(200), again.clone(), "INVITE", "z9hG4bKw", "peer", UDP),
        Err(Error::DuplicateBranch)
    ));
    assert!(matches!(
        l.send_written(ms(200), again.clone(), "ACK", "z9hG4bKx", "peer", UDP),
        Err(Error::AckIsNotATransaction)
    ));
    assert!(matches!(
        l.send_written(ms(200), again, "INVITE", "", "peer", UDP),
        Err(Error::MissingBranch)
    ));
}
