//! Issue 19: calls to named domains located through DNS (RFC 3263). dnsmasq, started by
//! the test on loopback with records of its own, serves `peer.test`: a NAPTR record
//! pointing to `_sip._udp.peer.test`, whose SRV records name two SIPp servers, `first`
//! (priority 10) and `second` (priority 20). The first answers 503; the call fails over to
//! the second, which answers. The same names reached as an outbound call's Request-URI,
//! as a forwarding target (busy: on the response side; unconditional: on the request
//! side), as a find-me entry, and as a pre-loaded Route (a loose-routing next hop by name); a Record-Route by
//! name; a TLS next hop verified by the domain name (RFC 5922).
//!
//! ```text
//! alice (SIPp)        Switchboard          dnsmasq         first (SIPp)   second (SIPp)
//!  |-- INVITE bob@peer.test ->|                |                |              |
//!  |                  |-- NAPTR, SRV, A ------>|                |              |
//!  |                  |-- INVITE ------------------------------>|              |
//!  |                  |<-- 503 ---------------------------------|              |
//!  |                  |-- INVITE ------------------------------------------->|
//!  |<-- 200 ----------|<-- 200 ----------------------------------------------|
//! ```

#![allow(clippy::unwrap_used)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use testkit::certs::{for_domain, self_signed};
use testkit::forwarding::{history, ladder};
use testkit::open;
use testkit::ports::free_port;
use testkit::server::{Options, Server, DOMAIN};
use testkit::sipp::{Background, Sipp};
use testkit::wait::{wait_child, wait_until, HANG_GUARD};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// dnsmasq on 127.0.0.1:`port` with only `records` (no upstream, no /etc/hosts).
struct Dnsmasq(Child);

impl Dnsmasq {
    fn start(port: u16, records: &[String]) -> Dnsmasq {
        let child = Command::new("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--pid-file=",
            ])
            .args(["--no-resolv", "--no-hosts", "--bind-interfaces"])
            .args([
                "--listen-address=127.0.0.1",
                "--user=root",
                "--log-facility=-",
            ])
            .arg(format!("--port={port}"))
            .args(records)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dnsmasq not installed? (apt-get install dnsmasq-base)");
        wait_until("dnsmasq to listen", HANG_GUARD, || {
            std::fs::read_to_string("/proc/net/udp")
                .unwrap_or_default()
                .contains(&format!("0100007F:{port:04X}"))
        });
        Dnsmasq(child)
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A server that resolves through the DNS server on 127.0.0.1:`dns`.
fn resolving_server(dns: u16) -> Server {
    Server::start(
        BIN,
        Options {
            extra: format!("[dns]\nservers = [\"127.0.0.1:{dns}\"]\n"),
            ..Options::default()
        },
    )
}

/// Alice's SIPp call (no authentication) to bob@`domain`, through `server`.
fn alice_calls_bob_at(server: &Server, domain: &str) -> Sipp {
    Sipp::new(
        server,
        "alice",
        "uac-invite-noauth-expect-200.xml",
        free_port(),
    )
    .remote(&server.addr())
    .service("bob")
    .key("caller", "alice")
    .key("from_domain", DOMAIN)
    .key("to_domain", domain)
}

/// `peer.test` (NAPTR, then SRV `first` at priority 10 and `second` at 20, both on
/// 127.0.0.1) served by dnsmasq, a server resolving through it, and the two SIPp servers:
/// `first` answers 503, `second` 200.
struct Peer {
    _dns: Dnsmasq,
    server: Server,
    first: Background,
    second: Background,
}

impl Peer {
    fn start() -> Peer {
        let (first, second, dns) = (free_port(), free_port(), free_port());
        let dns_server = Dnsmasq::start(
            dns,
            &[
                "--naptr-record=peer.test,10,10,S,SIP+D2U,,_sip._udp.peer.test".into(),
                format!("--srv-host=_sip._udp.peer.test,first.peer.test,{first},10,0"),
                format!("--srv-host=_sip._udp.peer.test,second.peer.test,{second},20,0"),
                "--host-record=first.peer.test,127.0.0.1".into(),
                "--host-record=second.peer.test,127.0.0.1".into(),
                // A loose router by name: SRV only (no NAPTR), the same two servers.
                format!("--srv-host=_sip._udp.edge.peer.test,first.peer.test,{first},10,0"),
                format!("--srv-host=_sip._udp.edge.peer.test,second.peer.test,{second},20,0"),
            ],
        );
        let server = resolving_server(dns);
        let first = Sipp::new(&server, "first", "uas-answer-503.xml", first)
            .uas()
            .spawn();
        let second = Sipp::new(&server, "second", "uas-answer-200.xml", second)
            .uas()
            .spawn();
        Peer {
            _dns: dns_server,
            server,
            first,
            second,
        }
    }

    /// Waits for both SIPp servers: the first answered 503, the second 200; the INVITE
    /// each got (the first's, the second's).
    fn failed_over(self) -> (String, String) {
        let first = self.first.wait();
        first.assert_ok("the first server (priority 10) answers 503");
        let second = self.second.wait();
        second.assert_ok("the second server (priority 20) answers");
        (
            first.find(false, "INVITE")[0].clone(),
            second.find(false, "INVITE")[0].clone(),
        )
    }
}

#[test]
fn a_named_domain_is_located_through_naptr_and_srv_with_failover() {
    let peer = Peer::start();
    let call = alice_calls_bob_at(&peer.server, "peer.test").run();
    call.assert_ok("a call to bob@peer.test");
    let (first_invite, invite) = peer.failed_over();
    assert!(
        invite.starts_with("INVITE sip:bob@peer.test SIP/2.0"),
        "{invite}"
    );
    assert!(
        first_invite.starts_with("INVITE sip:bob@peer.test SIP/2.0"),
        "{first_invite}"
    );
}

#[test]
fn a_domain_without_sip_servers_gets_404() {
    let dns = free_port();
    let _dns = Dnsmasq::start(dns, &["--host-record=other.test,127.0.0.1".into()]);
    let server = resolving_server(dns);
    let call = alice_calls_bob_at(&server, "nowhere.test").timeout(10);
    let result = call.run();
    assert!(
        result
            .messages
            .contains("SIP/2.0 404 Domain Has No SIP Server"),
        "{}",
        result.messages
    );
}

/// RFC 5359 §2.8 to a name: bob (486) forwards busy calls to `sip:carol@peer.test`; the
/// retarget waits for DNS (response side), then fails over from `first` (503) to
/// `second`, which answers.
///
/// ```text
/// alice          Switchboard          bob         dnsmasq      first     second
///  |-- INVITE bob -->|-- INVITE ------->|             |            |         |
///  |                 |<-- 486 ----------|             |            |         |
///  |                 |-- NAPTR, SRV, A -------------->|            |         |
///  |<-- 181 ---------|-- INVITE carol@peer.test ------------------>|         |
///  |                 |<-- 503 -------------------------------------|         |
///  |                 |-- INVITE carol@peer.test ---------------------------->|
///  |<-- 180, 200 ----|<-- 180, 200 ------------------------------------------|
/// ```
#[test]
fn busy_forwarding_to_a_name_fails_over_through_srv() {
    let peer = Peer::start();
    let server = &peer.server;
    server.cli(&[
        "forward",
        "set",
        "bob@example.com",
        "busy",
        "sip:carol@peer.test",
    ]);
    let (_, bob) = open::phone(server, "bob", "uas-answer-486.xml");
    let bob = bob.spawn();
    let call = open::caller(
        server,
        "alice",
        "uac-invite-forwarded-expect-200.xml",
        "bob",
    )
    .run();
    call.assert_ok("alice's call to bob, forwarded");
    assert_eq!(
        call.ladder(),
        ladder(&["> INVITE", "< 100", "< 181", "< 180", "< 200"])
    );
    bob.wait().assert_ok("bob is busy");
    let (first, second) = peer.failed_over();
    for invite in [&first, &second] {
        assert!(
            invite.starts_with("INVITE sip:carol@peer.test SIP/2.0"),
            "{invite}"
        );
    }
    assert_eq!(
        history(&second)[1],
        "<sip:carol@peer.test;cause=486>;index=1.1;mp=1",
        "{second}"
    );
}

/// RFC 5359 §2.7 to a name: the INVITE itself waits for DNS (request side), then the same
/// failover.
#[test]
fn unconditional_forwarding_to_a_name_fails_over_through_srv() {
    let peer = Peer::start();
    let server = &peer.server;
    server.cli(&[
        "forward",
        "set",
        "bob@example.com",
        "always",
        "sip:carol@peer.test",
    ]);
    let call = open::caller(
        server,
        "alice",
        "uac-invite-forwarded-expect-200.xml",
        "bob",
    )
    .run();
    call.assert_ok("alice's call to bob, forwarded");
    let (first, second) = peer.failed_over();
    assert!(
        first.starts_with("INVITE sip:carol@peer.test SIP/2.0"),
        "{first}"
    );
    assert_eq!(
        history(&second)[1],
        "<sip:carol@peer.test;cause=302>;index=1.1;mp=1",
        "{second}"
    );
}

/// RFC 5359 §2.12 with a name: bob's find-me list is `sip:carol@peer.test` (10 s). Bob's
/// phone is busy; the next step waits for DNS, then fails over from `first` (503) to
/// `second`, which answers. Find-me is not forwarding: no 181, no History-Info.
#[test]
fn a_findme_entry_by_name_fails_over_through_srv() {
    let peer = Peer::start();
    let server = &peer.server;
    server.cli(&["findme", "set", "bob@example.com", "sip:carol@peer.test,10"]);
    let (_, bob) = open::phone(server, "bob", "uas-answer-486.xml");
    let bob = bob.spawn();
    let call = open::caller(server, "alice", "uac-invite-findme-expect-200.xml", "bob").run();
    call.assert_ok("alice's call to bob, found at carol@peer.test");
    assert_eq!(
        call.ladder(),
        ladder(&["> INVITE", "< 100", "< 180", "< 200"])
    );
    bob.wait().assert_ok("bob is busy");
    let (first, second) = peer.failed_over();
    for invite in [&first, &second] {
        assert!(
            invite.starts_with("INVITE sip:carol@peer.test SIP/2.0"),
            "{invite}"
        );
    }
    assert!(history(&second).is_empty(), "{second}");
}

/// RFC 3261 §16.12 with a name: alice's INVITE to `bob@far.test` carries a pre-loaded
/// route, the proxy's own entry then `<sip:edge.peer.test;lr>`. The proxy resolves the
/// Route's URI (SRV `_sip._udp.edge.peer.test`: `first`, then `second`) and sends the
/// request there, Request-URI and the remaining Route unchanged.
#[test]
fn a_preloaded_route_by_name_is_resolved() {
    let peer = Peer::start();
    let server = &peer.server;
    let call = Sipp::new(
        server,
        "alice",
        "uac-invite-route-expect-200.xml",
        free_port(),
    )
    .remote(&server.addr())
    .service("bob")
    .key("caller", "alice")
    .key("from_domain", DOMAIN)
    .key("to_domain", "far.test")
    .key("route", "edge.peer.test")
    .run();
    call.assert_ok("alice's call through edge.peer.test");
    let (first, second) = peer.failed_over();
    for invite in [&first, &second] {
        assert!(
            invite.starts_with("INVITE sip:bob@far.test SIP/2.0"),
            "{invite}"
        );
        assert_eq!(
            testkit::sipp::headers(invite, "Route"),
            ["<sip:edge.peer.test;lr>"],
            "{invite}"
        );
    }
}

/// A Record-Route by name (RFC 3261 §16.12, RFC 3263 §4 on the Route's URI): the callee's
/// side record-routes `<sip:rr.edge.test;lr>`; alice's ACK (forwarded statelessly) and BYE
/// (a transaction) reach the proxy with that Route after its own, and each is sent where
/// `_sip._udp.rr.edge.test` points.
#[test]
fn a_record_routed_name_carries_ack_and_bye() {
    let (callee, dns) = (free_port(), free_port());
    let _dns = Dnsmasq::start(
        dns,
        &[
            format!("--srv-host=_sip._udp.edge.test,callee.edge.test,{callee},10,0"),
            format!("--srv-host=_sip._udp.rr.edge.test,callee.edge.test,{callee},10,0"),
            "--host-record=callee.edge.test,127.0.0.1".into(),
        ],
    );
    let server = resolving_server(dns);
    let bob = Sipp::new(
        &server,
        "edge",
        "uas-answer-200-record-route-by-name.xml",
        callee,
    )
    .uas()
    .key("rr_name", "rr.edge.test")
    .spawn();
    let call = alice_calls_bob_at(&server, "edge.test").run();
    call.assert_ok("alice's call to bob@edge.test");
    let bob = bob.wait();
    bob.assert_ok("the callee got ACK and BYE through its Record-Route by name");
    for method in ["ACK", "BYE"] {
        let req = &bob.find(false, method)[0];
        assert_eq!(
            testkit::sipp::headers(req, "Route"),
            ["<sip:rr.edge.test;lr>"],
            "{req}"
        );
    }
}

/// `openssl s_server` on a free port with `cert`/`key`: a real TLS peer that answers the
/// first INVITE it gets with `486 Busy Here` (written to its stdin, which it sends to the
/// client) and keeps what it received.
struct TlsUas {
    port: u16,
    child: Child,
    seen: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// `486 Busy Here` to the INVITE whose lines are `head` (its request line first).
fn busy(head: &[String]) -> String {
    testkit::udp::response_to(
        "486 Busy Here",
        head[1..].iter().map(String::as_str),
        "tls1",
    )
}

impl TlsUas {
    fn start(cert: &Path, key: &Path) -> TlsUas {
        let (port, mut child) = testkit::certs::s_server(cert, key);
        let (stdout, mut stdin) = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
        let seen = Arc::new(Mutex::new(String::new()));
        let log = seen.clone();
        let reader = std::thread::spawn(move || {
            let mut head: Vec<String> = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let line = line.trim_end_matches('\r').to_string();
                log.lock().unwrap().push_str(&format!("{line}\n"));
                if line.starts_with("INVITE ") {
                    head = vec![line];
                } else if !head.is_empty() && !line.is_empty() {
                    head.push(line);
                } else if !head.is_empty() {
                    let _ = stdin.write_all(busy(&head).as_bytes());
                    let _ = stdin.flush();
                    head.clear();
                }
            }
        });
        TlsUas {
            port,
            child,
            seen,
            reader: Some(reader),
        }
    }

    /// Everything it received, once stopped.
    fn received(mut self) -> String {
        let _ = self.child.kill();
        wait_child(&mut self.child, "openssl s_server", HANG_GUARD);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let seen = self.seen.lock().unwrap();
        seen.clone()
    }
}

/// RFC 5922 §4: a TLS next hop located through DNS proves the domain of the URI (SNI and
/// certificate name), not its address. `secure.test` (NAPTR `SIPS+D2T`, SRV) leads to a
/// peer whose certificate names only `secure.test`: the INVITE goes there over TLS and its
/// 486 comes back. `wrong.test` leads to a peer with a valid certificate for another
/// name: the handshake is refused and nothing is sent (the branch ends as 503, which the
/// caller gets as 500, RFC 3261 §16.7).
#[test]
fn a_tls_next_hop_is_verified_by_the_domain_name() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(certs.path(), "switchboard");
    let authority = self_signed(certs.path(), "authority");
    let (good_cert, good_key) = for_domain(certs.path(), "secure", "secure.test", &authority);
    let (bad_cert, bad_key) = for_domain(certs.path(), "other", "other.test", &authority);
    let good = TlsUas::start(&good_cert, &good_key);
    let bad = TlsUas::start(&bad_cert, &bad_key);
    let dns = free_port();
    let mut records = Vec::new();
    for (domain, port) in [("secure.test", good.port), ("wrong.test", bad.port)] {
        records.extend([
            format!("--naptr-record={domain},10,10,S,SIPS+D2T,,_sips._tcp.{domain}"),
            format!("--srv-host=_sips._tcp.{domain},peer.{domain},{port},10,0"),
            format!("--host-record=peer.{domain},127.0.0.1"),
        ]);
    }
    let _dns = Dnsmasq::start(dns, &records);
    let server = Server::start(
        BIN,
        Options {
            extra_listen: vec![format!("tls:127.0.0.1:{}", free_port())],
            extra: format!(
                "[dns]\nservers = [\"127.0.0.1:{dns}\"]\n\
                 [tls]\ncertificate = {cert:?}\nprivate_key = {key:?}\nca_file = {:?}\n",
                authority.0
            ),
            ..Options::default()
        },
    );
    let to_secure = alice_calls_bob_at(&server, "secure.test").timeout(10).run();
    assert!(
        to_secure.messages.contains("SIP/2.0 486 Busy Here"),
        "{}",
        to_secure.messages
    );
    let seen = good.received();
    assert!(
        seen.contains("INVITE sip:bob@secure.test SIP/2.0"),
        "{seen}"
    );
    assert!(seen.contains("Via: SIP/2.0/TLS 127.0.0.1:"), "{seen}");

    let to_wrong = alice_calls_bob_at(&server, "wrong.test").timeout(10).run();
    assert!(
        to_wrong.messages.contains("SIP/2.0 500"),
        "{}",
        to_wrong.messages
    );
    let seen = bad.received();
    assert!(!seen.contains("INVITE"), "the wrong peer got: {seen}");
    assert_eq!(server.status()["tls_handshake_failures"], 1);
}
