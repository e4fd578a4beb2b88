//! Issue 11, item 2: Debian's baresip 1.0, a real softphone, registers and calls with the
//! server's default authentication (one MD5 challenge; it rejects a 401 with two). Both
//! phones run in a network namespace made by the test (10.99.0.2), so their audio stays
//! there; the server listens on every address. Each phone plays a tone as its microphone
//! and the test checks, in the audio the other phone decoded, that the tone came through.
//!
//! ```text
//! Alice (baresip)            Switchboard                   Bob (baresip, auto-answer)
//!  |                             |<-- REGISTER / 401 / 200 ------|
//!  |--- REGISTER / 401 / 200 --->|                               |
//!  |--- INVITE / 407 / INVITE -->|--- INVITE ------------------->|
//!  |<-- 200 ---------------------|<-- 200 -----------------------|
//!  |=== 440 Hz ================================================>|
//!  |<================================================= 1000 Hz ==|
//!  |--- BYE (after a few s) ---->|--- BYE ---------------------->|
//! ```

use testkit::netns::{OtherHost, HOST_IP};
use testkit::server::{Options, Server};
use testkit::softphone::{
    assert_heard_each_other, baresip_call, read_wav_samples, tone_share, write_tone,
};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

#[test]
fn the_tone_detector_tells_a_tone_from_another() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.wav");
    write_tone(&p, 440.0, 1);
    let s = read_wav_samples(&p);
    assert_eq!(s.len(), 8000);
    assert!(tone_share(&s, 440.0, 8000.0) > 0.9);
    assert!(tone_share(&s, 1000.0, 8000.0) < 0.05);
    assert!(tone_share(&[0; 800], 440.0, 8000.0) < 0.05);
}

#[test]
fn baresip_registers_and_calls_with_the_default_authentication() {
    let Some(host) = OtherHost::create() else {
        return;
    };
    let node = Server::start(BIN, Options::digest().on_all_addresses());
    let proxy = format!("sip:{HOST_IP}:{}", node.port);
    let (alice, bob) = baresip_call(&node, &proxy, |phone| phone.in_netns(&host.ns));
    let log = node.log_text();
    for line in [
        "registration action=new aor=bob@example.com",
        "registration action=new aor=alice@example.com",
        "call setup",
        "call answered",
        "status=200",
        "hangup=caller",
    ] {
        assert!(log.contains(line), "no `{line}` in the server log:\n{log}");
    }
    assert_eq!(node.status()["dialogs_active"], 0);

    // Each heard the other's tone.
    assert_heard_each_other(&bob.heard(), &alice.heard());
}
