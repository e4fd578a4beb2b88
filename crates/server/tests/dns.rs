//! Issue 19, slice 2: an outbound call to a named domain located through DNS (RFC 3263).
//! dnsmasq, started by the test on loopback with records of its own, serves `peer.test`:
//! a NAPTR record pointing to `_sip._udp.peer.test`, whose SRV records name two SIPp
//! servers, `first` (priority 10) and `second` (priority 20). The first answers 503; the
//! call fails over to the second, which answers.
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

use std::process::{Child, Command, Stdio};

use testkit::ports::free_port;
use testkit::server::{Options, Server, DOMAIN};
use testkit::sipp::Sipp;
use testkit::wait::{wait_until, HANG_GUARD};

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

#[test]
fn a_named_domain_is_located_through_naptr_and_srv_with_failover() {
    let (first, second, dns) = (free_port(), free_port(), free_port());
    let _dns = Dnsmasq::start(
        dns,
        &[
            "--naptr-record=peer.test,10,10,S,SIP+D2U,,_sip._udp.peer.test".into(),
            format!("--srv-host=_sip._udp.peer.test,first.peer.test,{first},10,0"),
            format!("--srv-host=_sip._udp.peer.test,second.peer.test,{second},20,0"),
            "--host-record=first.peer.test,127.0.0.1".into(),
            "--host-record=second.peer.test,127.0.0.1".into(),
        ],
    );
    let server = resolving_server(dns);
    let busy = Sipp::new(&server, "first", "uas-answer-503.xml", first)
        .uas()
        .spawn();
    let answers = Sipp::new(&server, "second", "uas-answer-200.xml", second)
        .uas()
        .spawn();
    let call = alice_calls_bob_at(&server, "peer.test").run();
    call.assert_ok("a call to bob@peer.test");
    let busy = busy.wait();
    busy.assert_ok("the first server (priority 10) answers 503");
    let answers = answers.wait();
    answers.assert_ok("the second server (priority 20) answers");
    let invite = &answers.find(false, "INVITE")[0];
    assert!(
        invite.starts_with("INVITE sip:bob@peer.test SIP/2.0"),
        "{invite}"
    );
    let first_invite = &busy.find(false, "INVITE")[0];
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
