//! The INVITE server transaction (RFC 3261 §17.2.1, RFC 6026): 100 Trying, timers G, H, I
//! and L, ACK handling, driven on a virtual clock.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;

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
