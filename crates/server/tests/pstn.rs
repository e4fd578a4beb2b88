//! PSTN gateways end to end (issue 14): the real binary routes calls to numbers to SIPp
//! UASes playing two gateways, A and B, on one route `0 -> A,B` (A strips the leading 0
//! and puts +49 in front), and a third that never answers on `09 -> silent,B`. One server
//! start; each case spawns the gateways it needs.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::net::UdpSocket;
use std::sync::atomic::Ordering;

use testkit::open::caller;
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::sipp::{header, headers, rungs, Sipp};
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test.
mod pstn_support;
use pstn_support::responder;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

struct Trunk {
    server: Server,
    /// The Prometheus endpoint's port.
    metrics: u16,
    a: u16,
    b: u16,
    /// A gateway that never answers (route `09 -> silent,B`).
    silent: UdpSocket,
}

fn trunk() -> Trunk {
    let metrics = free_port();
    let server = Server::start(
        BIN,
        Options {
            extra: format!(
                "[pstn]\ngateway_timeout_ms = 500\n[metrics]\nlisten = \"127.0.0.1:{metrics}\"\n"
            ),
            ..Options::default()
        },
    );
    let (a, b) = (free_port(), free_port());
    server.cli(&[
        "gateway",
        "add",
        "carrier-a",
        &format!("127.0.0.1:{a}"),
        "--strip",
        "1",
        "--prefix",
        "+49",
        "--probe",
        "0",
    ]);
    server.cli(&[
        "gateway",
        "add",
        "carrier-b",
        &format!("127.0.0.1:{b}"),
        "--probe",
        "0",
    ]);
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let s = silent.local_addr().unwrap();
    server.cli(&["gateway", "add", "silent", &s.to_string(), "--probe", "0"]);
    server.cli(&["route", "add", "0", "carrier-a,carrier-b"]);
    server.cli(&["route", "add", "09", "silent,carrier-b"]);
    Trunk {
        server,
        metrics,
        a,
        b,
        silent,
    }
}

fn gateway(t: &Trunk, name: &str, scenario: &str, port: u16) -> testkit::sipp::Background {
    // Each call starts a gateway anew on the same port: wait until nothing holds it (the
    // previous gateway's socket, or another socket handed that port in between).
    wait_until("the gateway's port to be free", HANG_GUARD, || {
        UdpSocket::bind(("127.0.0.1", port)).is_ok()
    });
    Sipp::new(&t.server, name, scenario, port)
        .service("gw")
        .spawn()
}

/// The ended call record whose gateway is carrier-b (waits for the batching writer).
fn failed_over_record(server: &Server) -> serde_json::Value {
    let mut row = None;
    wait_until("the call record through carrier-b", HANG_GUARD, || {
        let out = server.cli(&["--json", "cdr", "list"]);
        let rows: Vec<serde_json::Value> = serde_json::from_str(out.trim()).unwrap();
        row = rows
            .into_iter()
            .find(|r| r["gateway"] == "carrier-b" && !r["ended"].is_null());
        row.is_some()
    });
    row.unwrap()
}

/// The caller's ladder of one clean answered call.
fn clean_call() -> Vec<String> {
    rungs(&[
        "> INVITE", "< 100", "< 180", "< 200", "> ACK", "> BYE", "< 200",
    ])
}

#[test]
fn gateway_routes_and_failover() {
    let t = trunk();
    let listed = t.server.cli(&["route", "list"]);
    assert!(listed.contains("carrier-a,carrier-b"), "{listed}");

    // 1. A routed call reaches gateway A, the number translated (strip 1, prefix +49).
    let a = gateway(&t, "a-200", "uas-answer-200.xml", t.a);
    let call = caller(
        &t.server,
        "call-1",
        "uac-invite-expect-200.xml",
        "0301234567",
    )
    .run();
    call.assert_ok("call to gateway A");
    let a = a.wait();
    a.assert_ok("gateway A answers");
    let invite = &a.find(false, "INVITE")[0];
    assert!(
        invite.starts_with(&format!(
            "INVITE sip:+49301234567@127.0.0.1:{} SIP/2.0",
            t.a
        )),
        "{invite}"
    );
    assert_eq!(call.ladder(), clean_call());

    // 2. A answers 503: the call fails over to B, which answers; the caller sees one call
    // (no 503, one 100).
    let a = gateway(&t, "a-503", "uas-answer-503.xml", t.a);
    let b = gateway(&t, "b-200", "uas-answer-200.xml", t.b);
    let call = caller(
        &t.server,
        "call-2",
        "uac-invite-expect-200.xml",
        "0301234567",
    )
    .run();
    call.assert_ok("failover after 503");
    a.wait().assert_ok("gateway A answers 503");
    let b = b.wait();
    b.assert_ok("gateway B answers");
    assert_eq!(call.ladder(), clean_call());
    // B gets the number as dialled (no strip or prefix on B).
    assert!(b.find(false, "INVITE")[0].starts_with("INVITE sip:0301234567@"));
    // Its call record names B (the last gateway tried), the number after the dial plan (no
    // rule here: as dialled) and B's Request-URI as the target.
    let row = failed_over_record(&t.server);
    assert_eq!(row["status"], 200, "{row}");
    assert_eq!(row["translated"], "0301234567", "{row}");
    assert_eq!(
        row["target"],
        format!("sip:0301234567@127.0.0.1:{}", t.b),
        "{row}"
    );
    assert!(row["dialled"]
        .as_str()
        .unwrap()
        .starts_with("sip:0301234567@"));

    // 3. The first gateway does not answer at all: after the gateway timeout, B.
    let b = gateway(&t, "b-200-after-timeout", "uas-answer-200.xml", t.b);
    let call = caller(
        &t.server,
        "call-3",
        "uac-invite-expect-200.xml",
        "0901234567",
    )
    .run();
    call.assert_ok("failover after a silent gateway");
    b.wait().assert_ok("gateway B answers after A's timeout");
    assert_eq!(call.ladder(), clean_call());
    let mut buf = [0u8; 4096];
    let n = t.silent.recv(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"INVITE sip:0901234567@"));

    // 4. A busy: 486 goes back to the caller, B is never tried.
    let quiet_b = UdpSocket::bind(("127.0.0.1", t.b)).unwrap();
    quiet_b.set_nonblocking(true).unwrap();
    let a = gateway(&t, "a-486", "uas-answer-486.xml", t.a);
    let call = caller(
        &t.server,
        "call-4",
        "uac-invite-expect-486.xml",
        "0301234567",
    )
    .run();
    call.assert_ok("486 from A back to the caller");
    a.wait().assert_ok("gateway A answers 486");
    assert!(
        quiet_b.recv(&mut buf).is_err(),
        "gateway B was tried after a 486"
    );
    drop(quiet_b);

    // 5. Every gateway fails: 503 with Retry-After from the proxy.
    let a = gateway(&t, "a-503-again", "uas-answer-503.xml", t.a);
    let b = gateway(&t, "b-503", "uas-answer-503.xml", t.b);
    let call = caller(
        &t.server,
        "call-5",
        "uac-invite-expect-503.xml",
        "0301234567",
    )
    .run();
    call.assert_ok("503 with Retry-After when every gateway failed");
    a.wait().assert_ok("A 503");
    b.wait().assert_ok("B 503");

    // 6. A stranger (not a local user) calling a routed number: refused, nothing sent.
    let quiet_a = UdpSocket::bind(("127.0.0.1", t.a)).unwrap();
    quiet_a.set_nonblocking(true).unwrap();
    let call = caller(
        &t.server,
        "call-6",
        "uac-invite-relay-expect-403.xml",
        "0301234567",
    )
    .key("caller", "mallory")
    .key("from_domain", "evil.example")
    .key("to_domain", "example.com")
    .run();
    call.assert_ok("untrusted caller to a gateway route refused");
    assert!(
        quiet_a.recv(&mut buf).is_err(),
        "a stranger's call reached A"
    );

    // 7. Permission classes: an international route refuses a national caller (alice's
    // default) with 403 naming the class, and nothing reaches a gateway ...
    t.server.cli(&[
        "route",
        "add",
        "00",
        "carrier-a",
        "--class",
        "international",
    ]);
    let call = caller(
        &t.server,
        "call-7",
        "uac-invite-class-expect-403.xml",
        "0044123",
    )
    .key("caller", "alice")
    .key("from_domain", "example.com")
    .key("to_domain", "example.com")
    .run();
    call.assert_ok("national caller refused on an international route");
    assert!(quiet_a.recv(&mut buf).is_err(), "a refused call reached A");
    drop(quiet_a);
    // ... until alice's class allows it.
    t.server.cli(&[
        "user",
        "set",
        "alice@example.com",
        "--class",
        "international",
    ]);
    let a = gateway(&t, "a-486-intl", "uas-answer-486.xml", t.a);
    let call = caller(&t.server, "call-8", "uac-invite-expect-486.xml", "0044123").run();
    call.assert_ok("international caller reaches the international route");
    let a = a.wait();
    assert!(a.find(false, "INVITE")[0].starts_with("INVITE sip:+49044123@"));

    // 9. Caller ID: alice's DID goes in From and P-Asserted-Identity ...
    t.server.cli(&[
        "alias",
        "add",
        "+4930999@example.com",
        "alice@example.com",
        "--caller-id",
    ]);
    let a = gateway(&t, "a-486-cid", "uas-answer-486.xml", t.a);
    caller(
        &t.server,
        "call-9",
        "uac-invite-expect-486.xml",
        "0301234567",
    )
    .run()
    .assert_ok("call with caller ID");
    let invite = a.wait().find(false, "INVITE").remove(0);
    assert_eq!(
        header(&invite, "From").map(|f| f.split(";tag=").next().unwrap()),
        Some("<sip:+4930999@example.com>"),
        "{invite}"
    );
    assert_eq!(
        header(&invite, "P-Asserted-Identity"),
        Some("<sip:+4930999@example.com>")
    );
    // ... and with `Privacy: id` From is anonymous, the phone's forged PAI is gone and the
    // gateway still gets the asserted identity.
    let a = gateway(&t, "a-486-privacy", "uas-answer-486.xml", t.a);
    caller(
        &t.server,
        "call-10",
        "uac-invite-privacy-expect-486.xml",
        "0301234567",
    )
    .run()
    .assert_ok("call with privacy");
    let invite = a.wait().find(false, "INVITE").remove(0);
    assert!(
        header(&invite, "From")
            .unwrap()
            .contains("sip:anonymous@anonymous.invalid"),
        "{invite}"
    );
    assert_eq!(
        headers(&invite, "P-Asserted-Identity"),
        vec!["<sip:+4930999@example.com>"],
        "{invite}"
    );
    assert_eq!(header(&invite, "Privacy"), Some("id"));

    // 11. Dial plans: a bad expression is refused naming the error; `8...` becomes `0...`
    // before routing (then carrier-a's strip and prefix apply).
    let bad = t
        .server
        .cli_raw(&["dialplan", "add", "example.com", "^0([1-9", "+49$1"]);
    assert!(!bad.status.success());
    let why = String::from_utf8_lossy(&bad.stderr);
    assert!(why.contains("not a regular expression"), "{why}");
    t.server.cli(&[
        "dialplan",
        "add",
        "example.com",
        "^8([0-9]+)$",
        "0$1",
        "--priority",
        "10",
    ]);
    t.server
        .cli(&["dialplan", "add", "example.com", "^7([0-9]+)$", "00$1"]);
    let tried = t
        .server
        .cli(&["dialplan", "test", "example.com", "8301234567"]);
    assert!(tried.contains("^8([0-9]+)$  ->  0301234567"), "{tried}");
    assert!(tried.ends_with("8301234567 => 0301234567\n"), "{tried}");
    let a = gateway(&t, "a-486-dialplan", "uas-answer-486.xml", t.a);
    caller(
        &t.server,
        "call-11",
        "uac-invite-expect-486.xml",
        "8301234567",
    )
    .run()
    .assert_ok("call through the dial plan");
    let invite = a.wait().find(false, "INVITE").remove(0);
    assert!(invite.starts_with("INVITE sip:+49301234567@"), "{invite}");
    // Its call record has the number after the dial plan (before carrier-a's own rewrite).
    let mut row = None;
    wait_until("the call record of the dial-plan call", HANG_GUARD, || {
        let out = t.server.cli(&["--json", "cdr", "list", "--status", "486"]);
        let rows: Vec<serde_json::Value> = serde_json::from_str(out.trim()).unwrap();
        row = rows.into_iter().find(|r| {
            r["dialled"]
                .as_str()
                .is_some_and(|d| d.starts_with("sip:8301234567@"))
        });
        row.is_some()
    });
    let row = row.unwrap();
    assert_eq!(row["translated"], "0301234567", "{row}");
    assert_eq!(row["gateway"], "carrier-a", "{row}");

    // Metrics per gateway: attempts, answers, failures by cause, up.
    let page = testkit::http::metrics_page(t.metrics);
    let value = |line: &str| -> u64 {
        page.lines()
            .find_map(|l| l.strip_prefix(line)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {line} in:\n{page}"))
    };
    let a = "gateway=\"carrier-a\"";
    let b = "gateway=\"carrier-b\"";
    assert_eq!(
        value(&format!("switchboard_gateway_attempts_total{{{a}}}")),
        8
    );
    assert_eq!(
        value(&format!("switchboard_gateway_answers_total{{{a}}}")),
        1
    );
    assert_eq!(
        value(&format!(
            "switchboard_gateway_failures_total{{{a},cause=\"server_error\"}}"
        )),
        2
    );
    assert_eq!(
        value(&format!(
            "switchboard_gateway_failures_total{{{a},cause=\"refused\"}}"
        )),
        5
    );
    assert_eq!(
        value(&format!("switchboard_gateway_attempts_total{{{b}}}")),
        3
    );
    assert_eq!(
        value(&format!("switchboard_gateway_answers_total{{{b}}}")),
        2
    );
    assert_eq!(
        value("switchboard_gateway_failures_total{gateway=\"silent\",cause=\"timeout\"}"),
        1
    );
    assert_eq!(value(&format!("switchboard_gateway_up{{{a}}}")), 1);
}

/// A gateway whose probes go unanswered is marked down after 3 of them and skipped; it is
/// up again at its first answer and takes calls again.
#[test]
fn probes_mark_gateways_down_and_up() {
    let t = trunk();
    let gw = responder();
    t.server.cli(&[
        "gateway",
        "add",
        "probed",
        &format!("127.0.0.1:{}", gw.port),
        "--probe",
        "1",
    ]);
    t.server.cli(&["route", "add", "07", "probed,carrier-b"]);
    wait_until("the silent gateway to be marked down", HANG_GUARD, || {
        t.server
            .log_text()
            .contains("gateway down: probes unanswered gateway=\"probed\"")
    });

    // `gateway list` shows it down, with its unanswered probes; the gateway that is not
    // probed is up.
    let h = health(&t.server, "probed");
    assert_eq!(h["up"], false, "{h}");
    assert_eq!(h["probed"], true, "{h}");
    assert!(h["failed_probes"].as_u64().unwrap() >= 3, "{h}");
    assert!(h["last_answer"].is_null(), "{h}");
    assert_eq!(health(&t.server, "carrier-b")["up"], true);
    let text = t.server.cli(&["gateway", "list"]);
    let row = text.lines().find(|l| l.starts_with("probed ")).unwrap();
    assert!(row.contains(" down ") && row.contains("none yet"), "{text}");

    // Down: skipped, the call goes straight to B (busy).
    let b = gateway(&t, "b-486", "uas-answer-486.xml", t.b);
    let call = caller(
        &t.server,
        "call-down",
        "uac-invite-expect-486.xml",
        "0712345",
    )
    .run();
    call.assert_ok("call past a gateway that is down");
    b.wait().assert_ok("B took the call");
    assert_eq!(
        gw.invites.load(Ordering::SeqCst),
        0,
        "a down gateway got an INVITE"
    );

    // It answers OPTIONS again: up, and it takes the next call (and answers 486).
    gw.answering.store(true, Ordering::SeqCst);
    wait_until("the gateway to come back up", HANG_GUARD, || {
        t.server
            .log_text()
            .contains("gateway up: it answered a probe gateway=\"probed\"")
    });
    let call = caller(&t.server, "call-up", "uac-invite-expect-486.xml", "0712345").run();
    call.assert_ok("call to a gateway that is up again");
    assert_eq!(gw.invites.load(Ordering::SeqCst), 1);

    // Up again in `gateway list`: the last probe answered 200, no failure in a row; the
    // call it refused is counted.
    let h = health(&t.server, "probed");
    assert_eq!(h["up"], true, "{h}");
    assert_eq!(h["last_answer_status"], 200, "{h}");
    assert!(h["last_answer"].as_u64().unwrap() > 0, "{h}");
    assert_eq!(h["attempts"], 1, "{h}");
    assert_eq!(h["failures"]["refused"], 1, "{h}");

    // With no server running, the stored gateways are listed and the list says that
    // their health is unknown.
    let mut t = t;
    t.server.stop();
    let out = t.server.cli_raw(&["gateway", "list"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("probed ") && l.contains(" unknown")),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no server is running"));
    let out = t.server.cli_raw(&["--json", "gateway", "list"]);
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let probed = all
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "probed")
        .unwrap();
    assert!(probed["health"].is_null(), "{probed}");
    assert_eq!(probed["probe"], 1);
}

/// Gateway `name` in `switchboard --json gateway list` of the running server: its health.
fn health(server: &Server, name: &str) -> serde_json::Value {
    let all: serde_json::Value =
        serde_json::from_str(&server.cli(&["--json", "gateway", "list"])).unwrap();
    let gw = all
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no gateway {name} in {all}"))
        .clone();
    gw["health"].clone()
}

/// Trusted peers (authentication on): a gateway's INVITE to a DID, From a name in our
/// domain and without credentials, is not challenged because the gateway's address is
/// trusted, and rings the DID's user with the user's services (here: forwarding always to
/// an external phone).
#[test]
fn trusted_gateway_reaches_a_did_with_its_services() {
    let server = Server::start(BIN, Options::digest());
    server.cli(&["alias", "add", "+4930555@example.com", "bob@example.com"]);
    let phone = free_port();
    server.cli(&[
        "forward",
        "set",
        "bob@example.com",
        "always",
        &format!("sip:desk@127.0.0.1:{phone}"),
    ]);
    server.cli(&["gateway", "add", "carrier", "127.0.0.1:9", "--probe", "0"]);
    // Not trusted yet: the claim to be a user of example.com is challenged.
    let untrusted = caller(
        &server,
        "not-yet-trusted",
        "uac-invite-forwarded-expect-200.xml",
        "+4930555",
    )
    .run();
    assert!(
        !untrusted.find(false, "SIP/2.0 407").is_empty(),
        "no challenge before trust"
    );
    let listed = server.cli(&["trusted", "add", "127.0.0.1", "--gateway", "carrier"]);
    assert!(listed.contains("127.0.0.1/32"), "{listed}");
    assert!(server.cli(&["trusted", "list"]).contains("carrier"));
    let desk = Sipp::new(&server, "desk", "uas-answer-200.xml", phone)
        .service("desk")
        .spawn();
    let call = caller(
        &server,
        "from-gateway",
        "uac-invite-forwarded-expect-200.xml",
        "+4930555",
    )
    .run();
    call.assert_ok("trusted gateway to a DID, forwarded");
    desk.wait().assert_ok("forwarding target answers");
    assert!(
        call.find(false, "SIP/2.0 407").is_empty(),
        "a trusted peer was challenged"
    );
}
