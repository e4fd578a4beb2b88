//! Bans end to end: the real binary with authentication on, SIPp phones on different
//! loopback addresses (127.0.0.2, 127.0.0.3, ... are different sources to the server on
//! 127.0.0.1), the `switchboard ban` CLI and the operator log lines.
//!
//! - a wrong password bans that user from that address (403), not the office behind it;
//! - unknown users from one address ban the address, which then gets silence;
//! - a flood from one address is cut off and banned while another registers and calls;
//! - `ban list` shows bans, `ban remove` lifts them, and the log says so.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::net::SocketAddr;
use std::time::Duration;
use testkit::digest::bob_answers;
use testkit::ports::free_port;
use testkit::server::{password, Options, Server};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Failed-authentication limits small enough for a test, and the flood limiter on for
/// every address but the test's own 127.0.0.1 (bob's phone, the CLI's checks).
fn node() -> Server {
    Server::start(BIN, Options {
        auth: Some("max_failures_per_source_user = 3\nmax_unknown_per_source = 3\nban_secs = 120\n\n\
               [flood]\nmax_requests = 50\nwindow_secs = 2\nban_secs = 60\nexempt = [\"127.0.0.1/32\"]\n"
            .into()),
        ..Options::digest()
    })
}

/// A raw OPTIONS from `ip` to the node: its status, or None after a second of silence.
fn options_from(node: &Server, ip: &str, call_id: &str) -> Option<u16> {
    let local: SocketAddr = format!("{ip}:0").parse().unwrap();
    let sock = std::net::UdpSocket::bind(local).unwrap();
    let local = sock.local_addr().unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let msg = format!(
        "OPTIONS sip:{server} SIP/2.0\r\nVia: SIP/2.0/UDP {local};rport;branch=z9hG4bK-{call_id}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@example.com>;tag=probe\r\nTo: <sip:{server}>\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        server = node.addr()
    );
    sock.send_to(msg.as_bytes(), node.addr()).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).ok()?;
    std::str::from_utf8(&buf[..n])
        .ok()?
        .get(8..11)?
        .parse()
        .ok()
}

fn wrong_password(node: &Server, name: &str, user: &str, ip: &str) {
    let r = node
        .sipp(name, "uac-register-wrongpw-expect-401.xml", free_port())
        .service(user)
        .credentials(user, "not-the-password")
        .key("expires", 300)
        .arg("-i")
        .arg(ip)
        .run();
    r.assert_ok(name);
    assert_eq!(r.ladder(), ["> REGISTER", "< 401", "> REGISTER", "< 401"]);
}

fn log_has(node: &Server, line: &str) -> bool {
    node.log_text().contains(line)
}

/// Issue 11 item 4: one phone with a wrong password is banned (403) while another user
/// behind the same address still registers.
///
/// ```text
/// 127.0.0.2 (alice, wrong password)   Switchboard
///  |--- REGISTER / 401 / REGISTER / 401 --->|   three times: alice banned from 127.0.0.2
///  |--- REGISTER (alice) ------------------>|
///  |<-- 403 Too Many Failed Authentications-|
/// 127.0.0.2 (bob)
///  |--- REGISTER / 401 / REGISTER --------->|
///  |<-- 200 --------------------------------|
/// ```
#[test]
fn a_wrong_password_bans_the_phone_not_the_office() {
    let node = node();
    for i in 1..=3 {
        wrong_password(&node, &format!("alice-wrong-{i}"), "alice", "127.0.0.2");
    }
    let r = node
        .sipp(
            "alice-banned",
            "uac-register-throttled-expect-403.xml",
            free_port(),
        )
        .service("alice")
        .key("expires", 300)
        .arg("-i")
        .arg("127.0.0.2")
        .run();
    r.assert_ok("alice's REGISTER from the banned pair");
    let bob = node
        .sipp(
            "bob-same-office",
            "uac-register-auth-expect-200.xml",
            free_port(),
        )
        .service("bob")
        .credentials("bob", &password("bob"))
        .key("expires", 300)
        .arg("-i")
        .arg("127.0.0.2")
        .run();
    bob.assert_ok("bob registers from the same address");
    assert_eq!(options_from(&node, "127.0.0.2", "office-ping"), Some(200));
    let log = node.log_text();
    assert!(
        log.contains("auth failure user=alice@example.com source=127.0.0.2 reason=wrong-password"),
        "{log}"
    );
    assert!(log.contains(
        "ban kind=source-user source=127.0.0.2 user=alice@example.com secs=120 reason=auth-failures"
    ));
    assert!(log.contains("auth failure user=alice@example.com source=127.0.0.2 reason=banned"));
    // `ban list` shows it; `ban remove alice@example.com` lifts it.
    let list = node.cli(&["ban", "list"]);
    assert!(
        list.contains("source-user") && list.contains("alice@example.com"),
        "{list}"
    );
    node.cli(&["ban", "remove", "alice@example.com"]);
    assert!(log_has(
        &node,
        "unban kind=source-user source=127.0.0.2 user=alice@example.com reason=admin"
    ));
    assert_eq!(node.cli(&["ban", "list"]).trim(), "no bans");
}

/// Issue 12 item 6: failures for unknown users from one address ban the address, and a
/// banned address gets silence, OPTIONS included; `ban remove ADDRESS` lifts it.
#[test]
fn unknown_users_ban_the_source_which_then_gets_silence() {
    let node = node();
    for u in ["1001", "1002", "1003"] {
        wrong_password(&node, &format!("scan-{u}"), u, "127.0.0.4");
    }
    assert!(log_has(
        &node,
        "ban kind=source source=127.0.0.4 user=- secs=120 reason=unknown-users"
    ));
    assert_eq!(options_from(&node, "127.0.0.4", "scanner-ping"), None);
    // Other addresses are served.
    assert_eq!(options_from(&node, "127.0.0.5", "other-ping"), Some(200));
    let list: serde_json::Value =
        serde_json::from_str(node.cli(&["--json", "ban", "list"]).trim()).unwrap();
    assert_eq!(list[0]["kind"], "source");
    assert_eq!(list[0]["source"], "127.0.0.4");
    assert_eq!(list[0]["reason"], "unknown-users");
    node.cli(&["ban", "remove", "127.0.0.4"]);
    assert_eq!(options_from(&node, "127.0.0.4", "scanner-again"), Some(200));
    assert!(log_has(
        &node,
        "unban kind=source source=127.0.0.4 user=- reason=admin"
    ));
    // Removing what is not banned says so and fails.
    assert!(!node
        .cli_raw(&["ban", "remove", "127.0.0.9"])
        .status
        .success());
}

/// Issue 12 item 5: an OPTIONS flood from 127.0.0.2 is cut off after `max_requests` and
/// banned, while 127.0.0.3 registers and calls normally during it.
#[test]
fn a_flood_is_banned_while_another_address_registers_and_calls() {
    let node = node();
    let bob = bob_answers(&node, &node);
    let flood = node
        .sipp("flood", "uac-options-flood-expect-silence.xml", free_port())
        .arg("-i")
        .arg("127.0.0.2")
        .rate(1000)
        .calls(3000)
        .timeout(60);
    let flooding = std::thread::spawn(move || flood.run());
    // Wait for the ban, then work from another address while the flood goes on.
    testkit::wait::wait_until("the flood ban", Duration::from_secs(30), || {
        log_has(
            &node,
            "ban kind=source source=127.0.0.2 user=- secs=60 reason=flood",
        )
    });
    let alice = node
        .sipp(
            "alice-registers",
            "uac-register-auth-expect-200.xml",
            free_port(),
        )
        .service("alice")
        .credentials("alice", &password("alice"))
        .key("expires", 300)
        .arg("-i")
        .arg("127.0.0.3")
        .run();
    alice.assert_ok("alice registers from 127.0.0.3 during the flood");
    let call = node
        .sipp("alice-calls", "uac-invite-auth-expect-200.xml", free_port())
        .service("bob")
        .key("caller", "alice")
        .credentials("alice", &password("alice"))
        .arg("-i")
        .arg("127.0.0.3")
        .run();
    call.assert_ok("alice calls bob from 127.0.0.3 during the flood");
    for (what, r) in [("REGISTER", &alice), ("INVITE", &call)] {
        assert_eq!(
            r.stat("Retransmissions(C)"),
            Some(0),
            "{what} retransmitted"
        );
    }
    bob.wait().assert_ok("bob's UAS");
    // SIPp counts every unanswered OPTIONS as a failed call: the silence is the point.
    let flood = flooding.join().unwrap();
    let answered = flood.stat("SuccessfulCall(C)").unwrap();
    let sent = flood.stat("OutgoingCall(C)").unwrap();
    eprintln!("flood: {sent} sent, {answered} answered");
    assert!(sent >= 1000, "the flood sent {sent}");
    assert!(
        (1..=50).contains(&answered),
        "{answered} flood requests answered (max_requests = 50)"
    );
    let list: serde_json::Value =
        serde_json::from_str(node.cli(&["--json", "ban", "list"]).trim()).unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|b| b["source"] == "127.0.0.2" && b["reason"] == "flood"),
        "{list}"
    );
    // Lifted by an admin, the address is answered again.
    node.cli(&["ban", "remove", "127.0.0.2"]);
    assert_eq!(options_from(&node, "127.0.0.2", "after-flood"), Some(200));
    assert!(log_has(
        &node,
        "unban kind=source source=127.0.0.2 user=- reason=admin"
    ));
}

/// A ban ends by itself after `ban_secs`: logged `unban ... reason=expired`, and the
/// source is answered again.
#[test]
fn a_ban_ends_by_itself() {
    let node = Server::start(
        BIN,
        Options {
            auth: Some(
                "\n[flood]\nmax_requests = 5\nban_secs = 1\nexempt = [\"127.0.0.1/32\"]\n".into(),
            ),
            ..Options::digest()
        },
    );
    let sock = std::net::UdpSocket::bind("127.0.0.6:0").unwrap();
    let local = sock.local_addr().unwrap();
    for i in 0..10 {
        let msg = format!(
            "OPTIONS sip:{server} SIP/2.0\r\nVia: SIP/2.0/UDP {local};rport;branch=z9hG4bK-burst{i}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:probe@example.com>;tag=burst\r\nTo: <sip:{server}>\r\n\
             Call-ID: burst-{i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
            server = node.addr()
        );
        sock.send_to(msg.as_bytes(), node.addr()).unwrap();
    }
    testkit::wait::wait_until("the flood ban", Duration::from_secs(10), || {
        log_has(
            &node,
            "ban kind=source source=127.0.0.6 user=- secs=1 reason=flood",
        )
    });
    testkit::wait::wait_until("the ban's end", Duration::from_secs(10), || {
        log_has(
            &node,
            "unban kind=source source=127.0.0.6 user=- reason=expired",
        )
    });
    assert_eq!(options_from(&node, "127.0.0.6", "after-ban"), Some(200));
    assert_eq!(node.cli(&["ban", "list"]).trim(), "no bans");
}
