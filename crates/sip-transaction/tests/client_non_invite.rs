//! The non-INVITE client transaction (RFC 3261 §17.1.2): timers E, F and K, request errors
//! and transport errors, driven on a virtual clock.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;

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
