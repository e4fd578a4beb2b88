//! Issue 19: RFC 5626 outbound with a real client. Bob is a baresip registering over TCP
//! with `sipnat=outbound` (`+sip.instance`, `reg-id`, `;ob`, `Supported: outbound`); the
//! server answers `Require: outbound` and keys his binding by instance and reg-id. Bob's
//! phone crashes (killed: no de-registration) and starts again with the same instance: its
//! new registration, over a new connection from a new port, replaces the old one instead
//! of adding a second. A call reaches him over that flow. When that phone dies too, the
//! next call finds the flow's connection gone: 430 for the branch, and the binding is
//! removed.
//!
//! A second test: carol does outbound over UDP; the 200 gives her the keep-alive interval
//! (`Flow-Timer`, from `[nat] keepalive_secs`) and her STUN keep-alives on the SIP port are
//! answered (RFC 5626 §8).
//!
//! In between, bob calls alice over his flow (RFC 5626 §5.3): the server record-routes the
//! call with a flow token, and alice's BYE reaches bob over his flow through that token.

use std::path::Path;
use std::time::Duration;

use testkit::location::contacts;
use testkit::ports::free_port;
use testkit::server::{password, Options, Server, DOMAIN};
use testkit::softphone::{write_tone, Baresip};
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Bob's phone in `dir` (kept between its runs: its instance id lives there), registering
/// over TCP with RFC 5626 outbound; its `ctrl_tcp` on `control` when given.
fn bob(node: &Server, dir: &Path, tone: &Path, control: Option<u16>) -> Baresip {
    let b = Baresip::new(
        dir,
        "bob",
        DOMAIN,
        &password("bob"),
        &format!("sip:127.0.0.1:{};transport=tcp", node.port),
        tone,
        true,
    )
    .on_loopback()
    .with_outbound();
    match control {
        Some(port) => b.with_control(port),
        None => b,
    }
}

/// Alice (on loopback, UDP) calls bob; what her phone printed.
fn alice_calls_bob(node: &Server, name: &str, tone: &Path) -> String {
    let mut alice = Baresip::new(
        &node.dir.path().join(name),
        "alice",
        DOMAIN,
        &password("alice"),
        &format!("sip:127.0.0.1:{}", node.port),
        tone,
        false,
    )
    .on_loopback();
    alice.start(
        Duration::from_secs(4),
        &[&format!("/dial sip:bob@{DOMAIN}")],
    );
    alice.wait(HANG_GUARD);
    alice.output()
}

#[test]
fn an_outbound_flow_is_replaced_on_reconnection_and_fails_with_its_connection() {
    // The flow-token routing line is at debug level.
    let options = Options {
        log_filter: "info,proxy::core::flow_route=debug".into(),
        ..Options::digest()
    };
    let node = Server::start(BIN, options);
    let dir = node.dir.path();
    let tone = dir.join("tone.wav");
    write_tone(&tone, 440.0, 10);
    let bob_dir = dir.join("baresip-bob");

    let mut first = bob(&node, &bob_dir, &tone, None);
    first.start(Duration::from_secs(60), &[]);
    wait_until("bob to register a flow over TCP", HANG_GUARD, || {
        !contacts(&node, "bob").is_empty()
    });
    let old = contacts(&node, "bob");
    // baresip names the flow: {reg-id/transport/family}.
    assert!(
        first.output().contains("{1/TCP/v4} 200 OK"),
        "{}",
        first.output()
    );
    assert!(
        node.log_text().contains("source=tcp:127.0.0.1:"),
        "{}",
        node.log_text()
    );
    // The phone crashes: no de-registration, its connection closes.
    drop(first);

    // It starts again, same instance, a new connection and port: one binding, the new one.
    let control = free_port();
    let mut second = bob(&node, &bob_dir, &tone, Some(control));
    second.start(Duration::from_secs(60), &[]);
    wait_until("bob's new flow to replace the old one", HANG_GUARD, || {
        let now = contacts(&node, "bob");
        !now.is_empty() && now != old
    });
    let now = contacts(&node, "bob");
    assert_eq!(now.len(), 1, "the old flow's binding stayed: {now:?}");

    // A call reaches him over the flow.
    let alice = alice_calls_bob(&node, "baresip-alice-1", &tone);
    assert!(alice.contains("Call established"), "{alice}");
    assert!(second.output().contains("Call established"));

    // Bob calls alice over his flow; alice hangs up. Her BYE reaches him over the flow
    // named by the token in the server's Record-Route (RFC 5626 §5.3).
    let alice_control = free_port();
    let mut alice = Baresip::new(
        &dir.join("baresip-alice-callee"),
        "alice",
        DOMAIN,
        &password("alice"),
        &format!("sip:127.0.0.1:{}", node.port),
        &tone,
        true,
    )
    .on_loopback()
    .with_control(alice_control);
    alice.start(Duration::from_secs(60), &[]);
    wait_until("alice to register", HANG_GUARD, || {
        !contacts(&node, "alice").is_empty()
    });
    // baresip says `session closed` when the far end hangs up.
    let ended_before = second.output().matches("session closed").count();
    let dialled = Baresip::command(control, &format!("dial sip:alice@{DOMAIN}"));
    assert!(dialled.contains("true"), "dial: {dialled}");
    wait_until("alice to answer bob's call", HANG_GUARD, || {
        alice.output().contains("Call established")
    });
    let hung_up = Baresip::command(alice_control, "hangup");
    assert!(hung_up.contains("true"), "hangup: {hung_up}");
    wait_until(
        "alice's BYE to end the call at bob's phone",
        HANG_GUARD,
        || second.output().matches("session closed").count() > ended_before,
    );
    let log = node.log_text();
    let followed = log
        .lines()
        .find(|l| l.contains("in-dialog request forwarded over the flow its token names"))
        .unwrap_or_else(|| panic!("alice's BYE did not follow a flow token:\n{log}"));
    assert!(
        followed.contains("method=BYE") && followed.contains("route=sip:flow-"),
        "{followed}"
    );
    assert!(followed.contains(";lr;ob"), "{followed}");
    drop(alice);

    // Bob's phone dies too: the next call finds the flow gone (430), the binding goes.
    drop(second);
    let alice = alice_calls_bob(&node, "baresip-alice-2", &tone);
    assert!(!alice.contains("Call established"), "{alice}");
    let log = node.log_text();
    assert!(
        log.contains("outbound flow failed: its connection is gone, binding removed"),
        "{log}"
    );
    assert!(contacts(&node, "bob").is_empty());
}

#[test]
fn an_outbound_flow_over_udp_has_its_stun_keepalives_answered() {
    // Keep-alives every second (Flow-Timer: 1), and the transport's STUN line shown.
    let options = Options {
        log_filter: "info,transport::udp=trace".into(),
        extra: "\n[nat]\nkeepalive_secs = 1\n".into(),
        ..Options::digest()
    };
    let node = Server::start(BIN, options);
    let dir = node.dir.path();
    let tone = dir.join("tone.wav");
    write_tone(&tone, 440.0, 1);
    let carol_dir = dir.join("baresip-carol");
    let mut carol = Baresip::new(
        &carol_dir,
        "carol",
        DOMAIN,
        &password("carol"),
        &format!("sip:127.0.0.1:{}", node.port),
        &tone,
        false,
    )
    .on_loopback()
    .with_outbound();
    carol.start(Duration::from_secs(30), &[]);
    wait_until("carol to register a flow over UDP", HANG_GUARD, || {
        carol.output().contains("{1/UDP/v4} 200 OK")
    });
    wait_until(
        "carol's STUN keep-alives to be answered",
        HANG_GUARD,
        || {
            node.log_text()
                .matches("udp: STUN keep-alive answered")
                .count()
                >= 2
        },
    );
    // Answered, so her flow stays: no re-registration after a keep-alive failure.
    assert_eq!(
        carol.output().matches("200 OK").count(),
        1,
        "{}",
        carol.output()
    );
}
