//! RFC 3665 section 3-style session flows through the proxy, with SIPp as Alice's and
//! Bob's phones and the real binary in between; plus the proxy behaviours those flows
//! exercise (no-answer timer, forking, restart, redirect mode, TCP, bounds).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::open::register;
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::sipp::{header, headers, Sipp};
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn uas(server: &Server, name: &str, scenario: &str, port: u16) -> testkit::sipp::Background {
    Sipp::new(server, name, scenario, port)
        .service("bob")
        .spawn()
}

fn uac(server: &Server, name: &str, scenario: &str, callee: &str) -> Sipp {
    testkit::open::caller(server, name, scenario, callee)
}

/// The proxy's Record-Route / Via host:port.
fn me(server: &Server) -> String {
    format!("127.0.0.1:{}", server.port)
}

/// Checks the callee's side of a proxied INVITE: our Via on top (a branch of ours) and
/// our Record-Route.
fn assert_proxied_invite(server: &Server, invite: &str) {
    let vias = headers(invite, "Via");
    assert!(
        vias[0].starts_with(&format!("SIP/2.0/UDP {};branch=z9hG4bK", me(server)))
            || vias[0].starts_with(&format!("SIP/2.0/TCP {};branch=z9hG4bK", me(server))),
        "top Via is not the proxy's:\n{invite}"
    );
    assert!(vias.len() >= 2, "caller's Via missing:\n{invite}");
    let rr = header(invite, "Record-Route").unwrap_or_else(|| panic!("no Record-Route:\n{invite}"));
    assert!(
        rr.starts_with(&format!("<sip:{};", me(server))) && rr.ends_with(";lr>"),
        "{rr}"
    );
}

/// Checks that a request of the caller carries the Route set learnt from Record-Route.
fn assert_routed(server: &Server, req: &str) {
    let route = header(req, "Route").unwrap_or_else(|| panic!("no Route:\n{req}"));
    assert!(
        route.starts_with(&format!("<sip:{};", me(server))),
        "{route}"
    );
}

/// §3.1-style successful session establishment through the proxy.
///
/// ```text
/// Alice               Switchboard              Bob
///   | F1 INVITE            |                      |
///   |--------------------->| F2 INVITE (RR, Via)  |
///   | F3 100 Trying        |--------------------->|
///   |<---------------------| F4 180 Ringing       |
///   | F5 180 Ringing       |<---------------------|
///   |<---------------------| F6 200 OK            |
///   | F7 200 OK (RR)       |<---------------------|
///   |<---------------------|                      |
///   | F8 ACK (Route)       | F9 ACK               |
///   |--------------------->|--------------------->|
///   | F10 BYE (Route)      | F11 BYE              |
///   |--------------------->|--------------------->|
///   | F13 200 OK           | F12 200 OK           |
///   |<---------------------|<---------------------|
/// ```
#[test]
fn rfc3665_3_1_successful_session_through_proxy() {
    let server = Server::start(BIN, Options::default());
    let bob_port = free_port();
    register(&server, "bob", bob_port, 60);
    let bob = uas(&server, "bob", "uas-answer-200.xml", bob_port);
    let alice = uac(&server, "alice", "uac-invite-expect-200.xml", "bob").run();
    alice.assert_ok("caller");
    let bob = bob.wait();
    bob.assert_ok("callee");

    assert_eq!(
        alice.ladder(),
        ["> INVITE", "< 100", "< 180", "< 200", "> ACK", "> BYE", "< 200"]
    );
    assert_eq!(
        bob.ladder(),
        ["< INVITE", "> 180", "> 200", "< ACK", "< BYE", "> 200"]
    );
    let ok = &alice.find(false, "SIP/2.0 200")[0];
    assert!(
        header(ok, "Record-Route").is_some(),
        "no Record-Route in the 200:\n{ok}"
    );
    assert_routed(&server, &alice.find(true, "ACK")[0]);
    assert_routed(&server, &alice.find(true, "BYE")[0]);
    assert_proxied_invite(&server, &bob.find(false, "INVITE")[0]);
    for m in ["ACK", "BYE"] {
        let req = &bob.find(false, m)[0];
        assert!(
            headers(req, "Via")[0].contains(&me(&server)),
            "{m} did not come through the proxy:\n{req}"
        );
    }
}

/// The Prometheus endpoint counts a call through the proxy: requests by method, responses
/// by code, the dialog it established and ended, and its duration.
#[test]
fn metrics_count_a_call() {
    let metrics_port = free_port();
    let server = Server::start(
        BIN,
        Options {
            extra: format!("[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n"),
            ..Options::default()
        },
    );
    let bob_port = free_port();
    register(&server, "bob", bob_port, 60);
    let bob = uas(&server, "bob", "uas-answer-200.xml", bob_port);
    uac(&server, "alice", "uac-invite-expect-200.xml", "bob")
        .run()
        .assert_ok("caller");
    bob.wait().assert_ok("callee");

    let page = testkit::http::metrics_page(metrics_port);
    let value = |line: &str| -> f64 {
        page.lines()
            .find_map(|l| l.strip_prefix(line)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {line} in:\n{page}"))
    };
    assert_eq!(
        value("switchboard_sip_requests_received_total{method=\"INVITE\"}"),
        1.0
    );
    assert_eq!(
        value("switchboard_sip_requests_received_total{method=\"BYE\"}"),
        1.0
    );
    assert_eq!(
        value("switchboard_sip_requests_received_total{method=\"REGISTER\"}"),
        1.0
    );
    assert_eq!(
        value("switchboard_sip_requests_sent_total{method=\"INVITE\"}"),
        1.0
    );
    // the REGISTER's 200, the relayed 200s of the INVITE and of the BYE
    assert_eq!(
        value("switchboard_sip_responses_sent_total{code=\"200\"}"),
        3.0
    );
    assert_eq!(value("switchboard_dialogs_started_total"), 1.0);
    assert_eq!(value("switchboard_dialogs_active"), 0.0);
    assert_eq!(value("switchboard_call_duration_seconds_count"), 1.0);
    assert_eq!(value("switchboard_call_setup_seconds_count"), 1.0);
    assert_eq!(value("switchboard_calls_in_setup"), 0.0);
    assert!(
        value("switchboard_transport_messages_total{transport=\"udp\",direction=\"rx\"}") >= 7.0
    );
    assert_eq!(server.status()["dialogs_active"], 0);
    // `status` without --json: the same figures for a person.
    let text = server.cli(&["status"]);
    let line = |label: &str| {
        text.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"))
            .split_whitespace()
            .last()
            .unwrap()
            .to_string()
    };
    assert_eq!(line("calls answered"), "1", "{text}");
    assert_eq!(line("calls up (dialogs)"), "0", "{text}");
    assert_eq!(line("registered contacts"), "1", "{text}");
}

/// Busy: Bob answers 486; Alice gets it; the proxy ACKs the 486 hop by hop.
///
/// ```text
/// Alice               Switchboard              Bob
///   | INVITE               | INVITE               |
///   |--------------------->|--------------------->|
///   | 100 Trying           | 486 Busy Here        |
///   |<---------------------|<---------------------|
///   | 486 Busy Here        | ACK                  |
///   |<---------------------|--------------------->|
///   | ACK                  |                      |
///   |--------------------->|                      |
/// ```
#[test]
fn busy_486() {
    let server = Server::start(BIN, Options::default());
    let bob_port = free_port();
    register(&server, "bob", bob_port, 60);
    let bob = uas(&server, "bob", "uas-answer-486.xml", bob_port);
    let alice = uac(&server, "alice", "uac-invite-expect-486.xml", "bob").run();
    alice.assert_ok("caller");
    let bob = bob.wait();
    bob.assert_ok("callee");
    assert_eq!(alice.ladder(), ["> INVITE", "< 100", "< 486", "> ACK"]);
    assert_eq!(bob.ladder(), ["< INVITE", "> 486", "< ACK"]);
    let ack = &bob.find(false, "ACK")[0];
    assert!(headers(ack, "Via")[0].contains(&me(&server)), "{ack}");
}

/// §3.8-style no answer, caller cancels.
///
/// ```text
/// Alice               Switchboard              Bob
///   | INVITE               | INVITE               |
///   |--------------------->|--------------------->|
///   | 100 Trying           | 180 Ringing          |
///   |<---------------------|<---------------------|
///   | 180 Ringing          |                      |
///   |<---------------------|                      |
///   | CANCEL               |                      |
///   |--------------------->| CANCEL               |
///   | 200 OK (CANCEL)      |--------------------->|
///   |<---------------------| 200 OK (CANCEL)      |
///   |                      |<---------------------|
///   |                      | 487                  |
///   | 487                  |<---------------------|
///   |<---------------------| ACK                  |
///   | ACK                  |--------------------->|
///   |--------------------->|                      |
/// ```
#[test]
fn no_answer_caller_cancels_487() {
    let server = Server::start(BIN, Options::default());
    let bob_port = free_port();
    register(&server, "bob", bob_port, 60);
    let bob = uas(&server, "bob", "uas-ring-cancel-487.xml", bob_port);
    let alice = uac(&server, "alice", "uac-invite-cancel-expect-487.xml", "bob").run();
    alice.assert_ok("caller");
    let bob = bob.wait();
    bob.assert_ok("callee");
    assert_eq!(
        alice.ladder(),
        ["> INVITE", "< 100", "< 180", "> CANCEL", "< 200", "< 487", "> ACK"]
    );
    assert_eq!(
        bob.ladder(),
        ["< INVITE", "> 180", "< CANCEL", "> 200", "> 487", "< ACK"]
    );
}

/// No answer, the proxy gives up (`no_answer_timeout_secs = 2`): it CANCELs Bob and
/// answers Alice 408.
///
/// ```text
/// Alice               Switchboard              Bob
///   | INVITE               | INVITE               |
///   |--------------------->|--------------------->|
///   | 100 / 180            | 180 Ringing          |
///   |<---------------------|<---------------------|
///   |          (no-answer timer fires)            |
///   |                      | CANCEL               |
///   |                      |--------------------->|
///   |                      | 200 OK / 487         |
///   | 408                  |<---------------------|
///   |<---------------------| ACK                  |
///   | ACK                  |--------------------->|
///   |--------------------->|                      |
/// ```
#[test]
fn no_answer_proxy_timer_408() {
    let server = Server::start(
        BIN,
        Options {
            sip: "no_answer_timeout_secs = 2\n".into(),
            ..Options::default()
        },
    );
    let bob_port = free_port();
    register(&server, "bob", bob_port, 60);
    let bob = uas(&server, "bob", "uas-ring-cancel-487.xml", bob_port);
    let alice = uac(&server, "alice", "uac-invite-expect-408.xml", "bob").run();
    alice.assert_ok("caller");
    let bob = bob.wait();
    bob.assert_ok("callee");
    assert_eq!(
        alice.ladder(),
        ["> INVITE", "< 100", "< 180", "< 408", "> ACK"]
    );
    assert_eq!(
        bob.ladder(),
        ["< INVITE", "> 180", "< CANCEL", "> 200", "> 487", "< ACK"]
    );
}

/// Unavailable and unknown callees.
///
/// ```text
/// Alice               Switchboard
///   | INVITE bob (no registration)
///   |--------------------->|
///   | 480                  |
///   |<---------------------|
///   | ACK                  |
///   |--------------------->|
///   | INVITE nobody        |
///   |--------------------->|
///   | 404                  |
///   |<---------------------|
///   | ACK                  |
///   |--------------------->|
/// ```
#[test]
fn unavailable_480_and_unknown_404() {
    let server = Server::start(BIN, Options::default());
    let r = uac(&server, "to-bob", "uac-invite-expect-480.xml", "bob").run();
    r.assert_ok("480");
    assert_eq!(r.ladder(), ["> INVITE", "< 480", "> ACK"]);
    let r = uac(&server, "to-nobody", "uac-invite-expect-404.xml", "nobody").run();
    r.assert_ok("404");
    assert_eq!(r.ladder(), ["> INVITE", "< 404", "> ACK"]);
}

/// Two devices (same q): both ring; one answers; the other is CANCELled and answers 487;
/// the caller gets exactly one 200.
///
/// ```text
/// Alice          Switchboard          Bob-1          Bob-2
///   | INVITE         | INVITE           |              |
///   |--------------->|----------------->|              |
///   |                | INVITE           |              |
///   |                |-------------------------------->|
///   | 100, 180       | 180, 200         |   180        |
///   |<---------------|<-----------------|<-------------|
///   | 200            | CANCEL                          |
///   |<---------------|-------------------------------->|
///   | ACK, BYE       | 200 (CANCEL), 487, ACK          |
///   |--------------->|<------------------------------->|
/// ```
#[test]
fn two_devices_one_answers_other_cancelled() {
    let server = Server::start(BIN, Options::default());
    let (p1, p2) = (free_port(), free_port());
    register(&server, "bob", p1, 60);
    register(&server, "bob", p2, 60);
    let bob1 = uas(&server, "bob1", "uas-answer-200.xml", p1);
    let bob2 = uas(&server, "bob2", "uas-ring-cancel-487.xml", p2);
    let alice = uac(&server, "alice", "uac-invite-fork-expect-200.xml", "bob").run();
    alice.assert_ok("caller");
    let bob1 = bob1.wait();
    bob1.assert_ok("answering device");
    let bob2 = bob2.wait();
    bob2.assert_ok("cancelled device");

    let invite_oks: Vec<_> = alice
        .find(false, "SIP/2.0 200")
        .into_iter()
        .filter(|m| header(m, "CSeq").is_some_and(|c| c.ends_with("INVITE")))
        .collect();
    assert_eq!(invite_oks.len(), 1, "the caller must get exactly one 200");
    let ladder = alice.ladder();
    assert_eq!(ladder[..2], ["> INVITE", "< 100"]);
    assert_eq!(
        ladder[ladder.len() - 4..],
        ["< 200", "> ACK", "> BYE", "< 200"]
    );
    assert_eq!(
        bob1.ladder(),
        ["< INVITE", "> 180", "> 200", "< ACK", "< BYE", "> 200"]
    );
    assert_eq!(
        bob2.ladder(),
        ["< INVITE", "> 180", "< CANCEL", "> 200", "> 487", "< ACK"]
    );
}

/// Bob's registration survives a restart (SIGTERM, start on the same data directory):
/// the INVITE after the restart reaches his phone.
///
/// ```text
/// Bob                 Switchboard                Alice
///   | REGISTER             |                       |
///   |--------------------->|                       |
///   | 200                  |                       |
///   |<---------------------|                       |
///   |        (SIGTERM, start again)                |
///   |                      | INVITE                |
///   | INVITE               |<----------------------|
///   |<---------------------| ... 200, ACK, BYE ... |
/// ```
#[test]
fn registration_survives_restart() {
    let mut server = Server::start(BIN, Options::default());
    let bob_port = free_port();
    register(&server, "bob", bob_port, 120);
    server.restart();
    assert_eq!(server.status()["registered_contacts"], 1);
    let bob = uas(&server, "bob", "uas-answer-200.xml", bob_port);
    let alice = uac(&server, "alice", "uac-invite-expect-200.xml", "bob").run();
    alice.assert_ok("caller after restart");
    bob.wait().assert_ok("callee after restart");
}

/// Redirect mode: the INVITE is answered 302 with Bob's contact.
///
/// ```text
/// Alice               Switchboard
///   | INVITE bob           |
///   |--------------------->|
///   | 302 Contact: bob's   |
///   |<---------------------|
///   | ACK                  |
///   |--------------------->|
/// ```
#[test]
fn redirect_mode_302() {
    let server = Server::start(
        BIN,
        Options {
            sip: "mode = \"redirect\"\n".into(),
            ..Options::default()
        },
    );
    let bob_port = free_port();
    register(&server, "bob", bob_port, 60);
    let r = uac(&server, "alice", "uac-invite-expect-302.xml", "bob").run();
    r.assert_ok("302");
    assert_eq!(r.ladder(), ["> INVITE", "< 302", "> ACK"]);
    let resp = &r.find(false, "SIP/2.0 302")[0];
    let contact = header(resp, "Contact").unwrap();
    assert!(
        contact.starts_with(&format!("<sip:bob@127.0.0.1:{bob_port}>")),
        "{resp}"
    );
}

/// A call over TCP end to end: Bob registers over his connection and is called on it;
/// Alice calls over hers.
#[test]
fn call_over_tcp() {
    let server = Server::start(BIN, Options::default());
    let call_id = format!("tcp-call-{}@127.0.0.1", free_port());
    let bob = Sipp::new(
        &server,
        "bob-tcp",
        "uas-register-answer-200.xml",
        free_port(),
    )
    .remote(&server.addr())
    .service("bob")
    .tcp()
    .arg("-cid_str")
    .arg(&call_id)
    .run_background();
    wait_until("bob's TCP registration", HANG_GUARD, || {
        server.status()["registered_contacts"] == 1
    });
    let alice = uac(&server, "alice-tcp", "uac-invite-expect-200.xml", "bob")
        .tcp()
        .arg("-cid_str")
        .arg(&call_id)
        .run();
    alice.assert_ok("TCP caller");
    let bob = bob.wait();
    bob.assert_ok("TCP callee");
    assert_eq!(
        alice.ladder(),
        ["> INVITE", "< 100", "< 180", "< 200", "> ACK", "> BYE", "< 200"]
    );
    assert_eq!(
        bob.ladder(),
        [
            "> REGISTER",
            "< 200",
            "< INVITE",
            "> 180",
            "> 200",
            "< ACK",
            "< BYE",
            "> 200"
        ]
    );
    let invite = &bob.find(false, "INVITE")[0];
    assert!(
        headers(invite, "Via")[0].starts_with(&format!("SIP/2.0/TCP {}", me(&server))),
        "{invite}"
    );
    let ok = &alice.find(false, "SIP/2.0 200")[0];
    assert!(
        header(ok, "Record-Route").is_some_and(|rr| rr.contains("transport=tcp")),
        "{ok}"
    );
    assert_routed(&server, &alice.find(true, "BYE")[0]);
}

/// Bounds: with `max_calls = 1`, a second INVITE while the first rings gets 503 with
/// Retry-After.
///
/// ```text
/// Alice               Switchboard              Bob
///   | INVITE #1            | INVITE               |
///   |--------------------->|--------------------->|
///   |                      | 180 (rings)          |
///   | INVITE #2            |                      |
///   |--------------------->|                      |
///   | 503 Retry-After      |                      |
///   |<---------------------|                      |
/// ```
#[test]
fn bounds_503_retry_after() {
    let server = Server::start(
        BIN,
        Options {
            sip: "max_calls = 1\nno_answer_timeout_secs = 2\n".into(),
            ..Options::default()
        },
    );
    let bob_port = free_port();
    register(&server, "bob", bob_port, 60);
    let bob = uas(&server, "bob", "uas-ring-cancel-487.xml", bob_port);
    let first = uac(&server, "first", "uac-invite-expect-408.xml", "bob").run_background();
    wait_until("the first call to ring", HANG_GUARD, || {
        server.status()["calls_in_setup"] == 1
    });
    let second = uac(&server, "second", "uac-invite-expect-503.xml", "bob").run();
    second.assert_ok("INVITE beyond the bound");
    assert_eq!(second.ladder(), ["> INVITE", "< 503", "> ACK"]);
    let resp = &second.find(false, "SIP/2.0 503")[0];
    assert!(header(resp, "Retry-After").is_some(), "{resp}");
    first.wait().assert_ok("first call");
    bob.wait().assert_ok("callee");
}
