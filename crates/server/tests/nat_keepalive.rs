//! Issue 19: the server's keep-alives keep a NATed phone reachable. Bob, a real baresip
//! behind a router namespace that masquerades (nftables), registers over UDP and then
//! stays silent. The router forgets an idle UDP mapping after 2 s (its namespace's
//! `nf_conntrack_udp_timeout`, made short for the test; home routers take 30 s and more).
//! With `[nat] keepalive_secs = 1` the server's OPTIONS go through the pinhole every
//! second, so the mapping stays and alice's call (a baresip on loopback) reaches bob. With
//! keep-alives off the mapping goes, and the same call never reaches him (the control).
//!
//! ```text
//!  alice 127.0.0.1 --> Switchboard --OPTIONS every 1 s--> 10.N.i.2 NAT --> bob 192.168.1.2
//! ```

use std::process::Command;
use std::time::Duration;

use testkit::location::contacts;
use testkit::nat::Home;
use testkit::server::{password, Options, Server, DOMAIN};
use testkit::softphone::{write_tone, Baresip};
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Seconds an idle UDP mapping lives in the test's router.
const NAT_UDP_TIMEOUT: u32 = 2;

/// The router's UDP mappings (its namespace's conntrack table) toward the server's port.
fn mappings(home: &Home, port: u16) -> usize {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &home.router_ns,
            "cat",
            "/proc/net/nf_conntrack",
        ])
        .output()
        .expect("reading the router's conntrack table");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("udp") && l.contains(&format!("dport={port} ")))
        .count()
}

/// Bob registers from behind NAT, stays idle past the router's UDP timeout, then alice
/// calls him. Returns (the server, what bob's phone printed, whether alice's call was
/// established); None where namespaces cannot be made.
fn idle_then_call(keepalive_secs: u32, home_index: u8) -> Option<(Server, String, bool)> {
    let home = Home::create(home_index)?;
    for key in [
        "nf_conntrack_udp_timeout",
        "nf_conntrack_udp_timeout_stream",
    ] {
        let set = Command::new("ip")
            .args(["netns", "exec", &home.router_ns, "sysctl", "-q", "-w"])
            .arg(format!("net.netfilter.{key}={NAT_UDP_TIMEOUT}"))
            .status()
            .expect("sysctl");
        assert!(set.success(), "cannot shorten the router's {key}");
    }
    let mut opts = Options::digest().on_all_addresses();
    opts.extra = format!(
        "[nat]\nkeepalive_secs = {keepalive_secs}\nkeepalive = \"options\"\n[relay]\nmode = \"never\"\n"
    );
    let node = Server::start(BIN, opts);
    let dir = node.dir.path();
    write_tone(&dir.join("tone.wav"), 440.0, 20);

    let mut bob = Baresip::new(
        &dir.join("baresip-bob"),
        "bob",
        DOMAIN,
        &password("bob"),
        &format!("sip:{}:{}", home.server_ip, node.port),
        &dir.join("tone.wav"),
        true,
    )
    .in_netns(&home.phone_ns);
    bob.start(Duration::from_secs(40), &[]);
    wait_until("bob to register through his NAT", HANG_GUARD, || {
        !contacts(&node, "bob").is_empty()
    });
    assert_eq!(
        mappings(&home, node.port),
        1,
        "bob's REGISTER opened one mapping"
    );

    if keepalive_secs > 0 {
        // Four pings a second apart: bob was idle twice the router's timeout.
        wait_until("four keep-alives to bob", HANG_GUARD, || {
            node.status()["nat_keepalives_sent"].as_u64() >= Some(4)
        });
        assert_eq!(node.status()["nat_keepalive_pinholes"], 1);
        assert_eq!(
            mappings(&home, node.port),
            1,
            "the keep-alives kept the router's mapping"
        );
    } else {
        wait_until("the router to forget bob's mapping", HANG_GUARD, || {
            mappings(&home, node.port) == 0
        });
        assert_eq!(node.status()["nat_keepalives_sent"], 0);
    }

    let mut alice = Baresip::new(
        &dir.join("baresip-alice"),
        "alice",
        DOMAIN,
        &password("alice"),
        &format!("sip:127.0.0.1:{}", node.port),
        &dir.join("tone.wav"),
        false,
    )
    .on_loopback();
    alice.start(
        Duration::from_secs(5),
        &[&format!("/dial sip:bob@{DOMAIN}")],
    );
    alice.wait(HANG_GUARD);
    let established = alice.output().contains("Call established");
    // Bob auto-answers: his phone establishes the call only if the INVITE reached it.
    Some((node, bob.output(), established))
}

#[test]
fn keepalives_keep_a_natted_phone_reachable_and_without_them_it_is_not() {
    let Some((node, bob, established)) = idle_then_call(1, 5) else {
        return;
    };
    // Bob auto-answers: his phone establishes the call only if the INVITE reached it.
    assert!(
        bob.contains("Call established") && established,
        "bob was not reached:\n{bob}\n{}",
        node.log_text()
    );
    // Most pings were answered (a 1 s interval on a loaded machine may see one answer come
    // after the next ping is due, which counts as a miss).
    let status = node.status();
    let (sent, failed) = (
        status["nat_keepalives_sent"].as_u64().unwrap(),
        status["nat_keepalives_failed"].as_u64().unwrap(),
    );
    assert!(sent >= 4 && failed * 2 < sent, "{status}");

    // The control: keep-alives off, the router forgets bob, the call does not reach him.
    let Some((node, bob, established)) = idle_then_call(0, 6) else {
        return;
    };
    assert!(
        !bob.contains("Call established") && !established,
        "bob was reached without keep-alives:\n{bob}"
    );
    assert_eq!(node.status()["nat_keepalive_pinholes"], 0);
}
