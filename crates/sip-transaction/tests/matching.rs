//! Matching and the table (RFC 3261 §17.1.3, §17.2.3, §9.2): CANCEL, the RFC 2543 fallback,
//! the table bound, stray responses, the shared timer queue and stateless answers.
#![allow(clippy::unwrap_used)]

mod support;

use support::*;

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
