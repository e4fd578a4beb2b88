//! The non-INVITE server transaction (RFC 3261 §17.2.2): timer J and the TU's responses,
//! driven on a virtual clock.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;

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
