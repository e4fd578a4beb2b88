//! Issue 19, must-show: two phones, each behind its own NAT, call each other with audio in
//! both directions through the embedded media relay.
//!
//! Each phone is a real baresip in a namespace of its own on `192.168.1.2`, the same
//! private address in both homes, behind a router namespace that masquerades (nftables).
//! Without the relay neither phone could reach the other's SDP address; with it, the
//! server sees each phone behind NAT (Via, Contact and SDP say 192.168.1.2, the packets
//! come from the router), rewrites both SDPs to its relay ports, and latches onto the
//! addresses the phones' RTP really comes from. Each phone plays its own tone; the test
//! decodes what the other heard (Goertzel) and reads the relay's counters.
//!
//! ```text
//!  alice 192.168.1.2 -- NAT 10.N.1.2 ---.                     .--- 10.N.2.2 NAT -- bob 192.168.1.2
//!                                        Switchboard + relay
//!  440 Hz ===========================> relay ============================> bob hears 440
//!  alice hears 1000 <================= relay <============================ 1000 Hz
//! ```

use std::time::Duration;

use testkit::location::contacts;
use testkit::nat::Home;
use testkit::server::{password, Options, Server, DOMAIN};
use testkit::softphone::{
    alice_calls_bob, assert_heard_each_other, tone_share, write_tone, Baresip,
};
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A call from alice (home `homes.0`) to bob (home `homes.1`) with `[relay] mode = mode`:
/// the server, and what bob and alice heard. None where namespaces cannot be made.
fn call_between_homes(mode: &str, homes: (u8, u8)) -> Option<(Server, Vec<i16>, Vec<i16>)> {
    let home_a = Home::create(homes.0)?;
    let home_b = Home::create(homes.1)?;
    let mut opts = Options::digest().on_all_addresses();
    // The relay's address: the server's end of alice's link, which bob's router reaches
    // through the server host too.
    opts.extra = format!(
        "[relay]\nmode = \"{mode}\"\nadvertised_address = \"{}\"\ntimeout_secs = 30\n",
        home_a.server_ip
    );
    let node = Server::start(BIN, opts);
    let dir = node.dir.path();
    write_tone(&dir.join("a440.wav"), 440.0, 20);
    write_tone(&dir.join("b1000.wav"), 1000.0, 20);

    let mut bob = Baresip::new(
        &dir.join("baresip-bob"),
        "bob",
        DOMAIN,
        &password("bob"),
        &format!("sip:{}:{}", home_b.server_ip, node.port),
        &dir.join("b1000.wav"),
        true,
    )
    .in_netns(&home_b.phone_ns);
    bob.start(Duration::from_secs(40), &[]);
    wait_until(
        "bob's baresip to register through his NAT",
        HANG_GUARD,
        || !contacts(&node, "bob").is_empty(),
    );

    let mut alice = Baresip::new(
        &dir.join("baresip-alice"),
        "alice",
        DOMAIN,
        &password("alice"),
        &format!("sip:{}:{}", home_a.server_ip, node.port),
        &dir.join("a440.wav"),
        false,
    )
    .in_netns(&home_a.phone_ns);
    // The BYE reaches bob through his NAT (his Contact says 192.168.1.2).
    alice_calls_bob(&mut alice, &bob, Duration::from_secs(6));
    let (by_bob, by_alice) = (bob.heard(), alice.heard());
    Some((node, by_bob, by_alice))
}

#[test]
fn two_phones_behind_nat_talk_both_ways_through_the_relay() {
    let Some((node, heard_by_bob, heard_by_alice)) = call_between_homes("nat", (1, 2)) else {
        return;
    };
    // The server saw both phones behind NAT.
    let log = node.log_text();
    for line in [
        "call answered",
        "hangup=caller",
        "relay: call behind NAT, media relayed",
        "caller_nat=true",
        "callee_nat=true",
        "relay call ended",
    ] {
        assert!(log.contains(line), "no `{line}` in the server log:\n{log}");
    }
    assert_eq!(node.status()["dialogs_active"], 0);
    assert_eq!(
        node.status()["relayed_calls"],
        0,
        "the relayed call was deleted"
    );

    // The audio: each heard the other's tone, which only the relay could carry.
    assert_heard_each_other(&heard_by_bob, &heard_by_alice);

    // The relay's counters: a few seconds of 20 ms packets each way went through it.
    let status = node.status();
    assert_eq!(status["relay_calls_total"], 1, "{status}");
    let packets = status["relay_packets"].as_u64().unwrap();
    assert!(packets > 2 * 100, "only {packets} packets relayed");
    let ended = log
        .lines()
        .find(|l| l.contains("relay call ended"))
        .unwrap_or_default()
        .to_string();
    let to_callee: u64 = field(&ended, "packets_to_callee=");
    let to_caller: u64 = field(&ended, "packets_to_caller=");
    assert!(to_callee > 100 && to_caller > 100, "{ended}");
}

/// The same call with the relay off: the phones set up the call, but each sends its audio
/// to 192.168.1.2, which is itself. What the test above checks could fail.
#[test]
fn without_the_relay_phones_behind_nat_hear_nothing() {
    let Some((node, heard_by_bob, heard_by_alice)) = call_between_homes("never", (3, 4)) else {
        return;
    };
    assert!(!node.log_text().contains("media relayed"));
    assert_eq!(node.status()["relay_calls_total"], 0);
    let heard = |s: &[i16], hz| s.len() > 4000 && tone_share(&s[4000..], hz, 8000.0) > 0.5;
    assert!(
        !heard(&heard_by_bob, 440.0),
        "bob heard alice without a relay"
    );
    assert!(
        !heard(&heard_by_alice, 1000.0),
        "alice heard bob without a relay"
    );
}

/// The number after `key` in a log line.
fn field(line: &str, key: &str) -> u64 {
    line.split(key)
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
