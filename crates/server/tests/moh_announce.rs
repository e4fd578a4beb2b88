//! Music on hold and announcements through the proxy, end to end on the real binary with
//! real media (testkit's SIP phone and RTP peer decode what the service host sends):
//!
//! - a phone calls the music-on-hold name (`[moh] name`, here `hold`) and hears the
//!   playlist (`[moh] files`, two files) in order, then again from the top (looped), while
//!   a second listener hears the same;
//! - RFC 5359 §2.3: Bob holds Alice with music: his phone invites the music server with
//!   Alice's media description (`a=recvonly`: she only listens), and the RTP Alice's
//!   address receives decodes to the playlist; she sends nothing and is never timed out;
//! - a call screened by bob gets `403` with `Error-Info: <sip:announce-screened@...>`;
//!   calling that URI plays `screened.wav` and the service hangs up; an announcement that
//!   does not exist is `404`;
//! - with `[announcements] early_media = [404, 480, 486]`, a call to a user with no phone
//!   registered hears `480.wav` as early media before its `480`, a call to nobody hears
//!   `404.wav` before its `404`, and a call whose phone (SIPp) answers 486 hears `486.wav`
//!   before the `486`;
//! - call park by number: alice dials `*85`, hears "parked at" and the orbit's digits,
//!   then the hold music; carol dials `701` and the two hear each other (tones both ways);
//!   carol hangs up and alice's call is ended; the orbit is then empty (`404`); a call
//!   parked past `[park] timeout_secs` is hung up and its orbit freed.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use testkit::audio;
use testkit::rtp_peer::{assert_talk_both_ways, RtpPeer};
use testkit::server::{Options, Server, DOMAIN};
use testkit::sip_phone::{answered_pcmu_call, SipPhone};
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A server with media services on, a playlist of `files`, prompts in `prompts`, dead
/// media after `rtp_timeout` seconds; `slot` gives each test its own RTP ports.
fn server(
    prompts: &std::path::Path,
    files: &[std::path::PathBuf],
    rtp_timeout: u32,
    slot: u16,
    more: &str,
) -> Server {
    let services_port = testkit::ports::free_port();
    let rtp = 26000 + (std::process::id() % 100) as u16 * 60 + slot * 20;
    let files: Vec<String> = files
        .iter()
        .map(|f| format!("{:?}", f.display().to_string()))
        .collect();
    let opts = Options {
        extra: format!(
            "[media]\nenabled = true\nservice_listen = \"127.0.0.1:{services_port}\"\n\
             bind_address = \"127.0.0.1\"\nrtp_ports = \"{rtp}-{}\"\nrtp_timeout_secs = {rtp_timeout}\n\n\
             [voicemail]\nprompts_dir = {:?}\n\n[moh]\nname = \"hold\"\nfiles = [{}]\n",
            rtp + 19,
            prompts.display().to_string(),
            files.join(", ")
        ) + more,
        ..Options::default()
    };
    Server::start(BIN, opts)
}

/// The playlist: a chirp and a 1 kHz tone, each in its own file.
fn playlist(dir: &std::path::Path) -> (Vec<std::path::PathBuf>, Vec<i16>) {
    let chirp = audio::signature(700);
    let tone = audio::tone(1000.0, 300, 6000.0);
    let (a, b) = (dir.join("one.wav"), dir.join("two.wav"));
    audio::write_wav(&a, &chirp);
    audio::write_wav(&b, &tone);
    (vec![a, b], [chirp, tone].concat())
}

/// Checks that `heard` (from its first sound) is `music` at least twice in a row.
fn assert_looped(heard: &[i16], music: &[i16], who: &str) {
    for lap in 0..2 {
        let c = audio::clip_correlation(&heard[lap * music.len()..], music, music.len());
        assert!(c > 0.95, "{who}, lap {lap}: correlation {c}");
    }
}

#[test]
fn music_on_hold_loops_the_playlist_for_every_listener() {
    let dir = tempfile::tempdir().unwrap();
    let (files, music) = playlist(dir.path());
    let server = server(dir.path(), &files, 60, 0, "");
    let proxy = server.socket_addr();
    let music_ms = music.len() / 8;

    let (one, two) = (RtpPeer::bind(), RtpPeer::bind());
    let mut alice = SipPhone::new(proxy, "alice");
    let ok = alice.invite(
        &format!("sip:hold@{DOMAIN}"),
        &SipPhone::pcmu_offer(one.addr()),
    );
    assert_eq!(ok.status(), 200, "{}", ok.text);
    assert!(!ok.headers("Record-Route").is_empty(), "{}", ok.text);
    let mut carol = SipPhone::new(proxy, "carol");
    let ok = carol.invite(
        &format!("sip:hold@{DOMAIN}"),
        &SipPhone::pcmu_offer(two.addr()),
    );
    assert_eq!(ok.status(), 200, "{}", ok.text);

    assert_looped(
        &one.heard_after_first_sound(2 * music_ms + 100),
        &music,
        "alice",
    );
    assert_looped(
        &two.heard_after_first_sound(2 * music_ms + 100),
        &music,
        "carol",
    );
    assert_eq!(alice.bye(), 200);
    assert_eq!(carol.bye(), 200);
    // The default name is not served when renamed: `moh` is nobody here.
    let mut bob = SipPhone::new(proxy, "bob");
    let r = bob.invite(
        &format!("sip:moh@{DOMAIN}"),
        &SipPhone::pcmu_offer(one.addr()),
    );
    assert_eq!(r.status(), 404, "{}", r.text);
}

/// RFC 5359 §2.3, the music server's side.
///
/// ```text
/// Alice (held)        Bob (holds)         Switchboard        Music server (host)
///   |                    | INVITE sip:hold   |                      |
///   |                    | SDP: Alice's addr |                      |
///   |                    | a=recvonly        |                      |
///   |                    |------------------>|--------------------->|
///   |                    |   200 sendonly    |      200 (RR)        |
///   |                    |<------------------|<---------------------|
///   |                    | ACK               |                      |
///   |                    |------------------>|--------------------->|
///   |           RTP: the playlist, looped    |                      |
///   |<-------------------------------------------------------------|
///   |                    | BYE (resume)      |                      |
///   |                    |------------------>|--------------------->|
/// ```
///
/// Bob's re-INVITE of Alice (to point her at the music server) is end to end and crosses
/// the proxy untouched (`rfc5359_calls.rs`); here the music server's leg is checked with
/// the media Alice receives.
#[test]
fn rfc5359_2_3_the_held_party_hears_the_playlist() {
    let dir = tempfile::tempdir().unwrap();
    let (files, music) = playlist(dir.path());
    let server = server(dir.path(), &files, 2, 1, "");
    let alice_media = RtpPeer::bind();
    let mut bob = SipPhone::new(server.socket_addr(), "bob");
    let offer = SipPhone::offer(
        alice_media.addr(),
        "0",
        "a=rtpmap:0 PCMU/8000\r\na=recvonly\r\n",
    );
    let ok = bob.invite(&format!("sip:hold@{DOMAIN}"), &offer);
    assert_eq!(ok.status(), 200, "{}", ok.text);
    assert!(ok.body().contains("a=sendonly"), "{}", ok.body());
    // Past rtp_timeout_secs (2 s) with no RTP from Alice: a recvonly party is not timed out.
    let heard = alice_media.heard_after_first_sound(2 * music.len() / 8 + 2500);
    assert_looped(&heard, &music, "alice");
    assert_eq!(bob.bye(), 200);
}

#[test]
fn a_screened_call_points_to_an_announcement_that_plays() {
    let dir = tempfile::tempdir().unwrap();
    let screened = audio::signature(900);
    audio::write_wav(&dir.path().join("screened.wav"), &screened);
    let server = server(dir.path(), &[], 60, 2, "");
    let proxy = server.socket_addr();
    server.cli(&[
        "screen",
        "add",
        &format!("bob@{DOMAIN}"),
        "--incoming",
        &format!("alice@{DOMAIN}"),
    ]);

    let peer = RtpPeer::bind();
    let mut alice = SipPhone::new(proxy, "alice");
    let r = alice.invite(
        &format!("sip:bob@{DOMAIN}"),
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(r.status(), 403, "{}", r.text);
    let info = r.header("Error-Info").unwrap().to_string();
    assert_eq!(info, format!("<sip:announce-screened@{DOMAIN}>"));

    // Her phone calls the announcement (a new phone: the first still gets 403 resends).
    let uri = info.trim_matches(['<', '>']);
    let mut alice = SipPhone::new(proxy, "alice");
    let ok = alice.invite(uri, &SipPhone::pcmu_offer(peer.addr()));
    assert_eq!(ok.status(), 200, "{}", ok.text);
    let bye = alice.expect_request("BYE", Duration::from_secs(10));
    assert!(bye.is_some(), "the announcement service did not hang up");
    let heard = peer.heard_after_first_sound(800);
    let c = audio::clip_correlation(&heard, &screened, screened.len());
    assert!(c > 0.95, "the announcement: correlation {c}");

    let mut carol = SipPhone::new(proxy, "carol");
    let r = carol.invite(
        &format!("sip:announce-nothing@{DOMAIN}"),
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(r.status(), 404, "{}", r.text);
}

#[test]
fn failures_the_operator_chose_are_preceded_by_early_media() {
    let dir = tempfile::tempdir().unwrap();
    let (unavailable, missing) = (audio::signature(800), audio::tone(700.0, 600, 6000.0));
    audio::write_wav(&dir.path().join("480.wav"), &unavailable);
    audio::write_wav(&dir.path().join("404.wav"), &missing);
    let busy = audio::signature(600);
    audio::write_wav(&dir.path().join("486.wav"), &busy);
    let server = server(
        dir.path(),
        &[],
        60,
        3,
        "\n[announcements]\nearly_media = [404, 480, 486]\n",
    );
    let proxy = server.socket_addr();

    // Bob has no phone registered: 183 with the host's SDP, 480.wav, then 480.
    let peer = RtpPeer::bind();
    let mut alice = SipPhone::new(proxy, "alice");
    let r = alice.invite(
        &format!("sip:bob@{DOMAIN}"),
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(r.status(), 480, "{}", r.text);
    let heard = peer.heard_after_first_sound(700);
    let c = audio::clip_correlation(&heard, &unavailable, unavailable.len());
    assert!(c > 0.95, "480 announcement: correlation {c}");

    // Nobody by that name: 404.wav (600 ms of 700 Hz), then 404.
    let peer = RtpPeer::bind();
    let mut carol = SipPhone::new(proxy, "carol");
    let r = carol.invite(
        &format!("sip:nobody@{DOMAIN}"),
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(r.status(), 404, "{}", r.text);
    let heard = peer.heard().samples;
    let secs = audio::tone_seconds(&heard, 700.0);
    assert!(
        (0.5..=0.7).contains(&secs),
        "{secs} s of the 404 announcement"
    );

    // Without an SDP offer there is nothing to play: the failure at once.
    let mut dave = SipPhone::new(proxy, "alice");
    let r = dave.invite(&format!("sip:bob@{DOMAIN}"), "");
    assert_eq!(r.status(), 480, "{}", r.text);

    // Bob's phone (SIPp) answers 486: the proxy sends the call on to the host for the
    // announcement, then alice gets the 486.
    let (_, bob) = testkit::open::phone(&server, "bob", "uas-answer-486.xml");
    let bob = bob.spawn();
    let peer = RtpPeer::bind();
    let mut alice = SipPhone::new(proxy, "alice");
    let r = alice.invite(
        &format!("sip:bob@{DOMAIN}"),
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(r.status(), 486, "{}", r.text);
    bob.wait().assert_ok("busy phone");
    let heard = peer.heard_after_first_sound(500);
    let c = audio::clip_correlation(&heard, &busy, busy.len());
    assert!(c > 0.95, "486 announcement: correlation {c}");
}

#[test]
fn park_by_number_and_retrieve_by_orbit() {
    let dir = tempfile::tempdir().unwrap();
    let parked_at = audio::signature(500);
    audio::write_wav(&dir.path().join("parked-at.wav"), &parked_at);
    for d in 0..10u32 {
        let tone = audio::tone(f64::from(1000 + 100 * d), 200, 6000.0);
        audio::write_wav(&dir.path().join(format!("{d}.wav")), &tone);
    }
    let music = audio::signature(1000);
    let hold = dir.path().join("hold.wav");
    audio::write_wav(&hold, &music);
    let metrics_port = testkit::ports::free_port();
    let server = server(
        dir.path(),
        &[hold],
        60,
        4,
        &format!("\n[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n"),
    );
    let proxy = server.socket_addr();

    // 1. Alice parks: the announcement, the orbit 7 0 1, then the music.
    let (alice, mut pa, alice_media) =
        answered_pcmu_call(proxy, "alice", &format!("sip:*85@{DOMAIN}"), "");
    // 500 ms announcement + 3 x 200 ms digits + 300 ms pause, then a lap of music.
    let heard = pa.heard_after_first_sound(1400 + 1000 + 100);
    let c = audio::clip_correlation(&heard, &parked_at, parked_at.len());
    assert!(c > 0.95, "parked-at: correlation {c}");
    let digits = &heard[4000..8800];
    for (i, freq) in [1700.0, 1000.0, 1100.0].into_iter().enumerate() {
        let part = &digits[i * 1600..(i + 1) * 1600];
        let secs = audio::tone_seconds(part, freq);
        assert!(secs >= 0.14, "digit {i} ({freq} Hz): {secs} s");
    }
    let c = audio::clip_correlation(&heard[8 * 1400..], &music, music.len());
    assert!(c > 0.95, "hold music while parked: correlation {c}");
    assert!(
        testkit::http::metrics_page(metrics_port).contains("\nswitchboard_park_orbits_in_use 1\n")
    );

    // 2. Carol retrieves by dialling the orbit: they hear each other.
    let (mut carol, mut pc, carol_media) =
        answered_pcmu_call(proxy, "carol", &format!("sip:701@{DOMAIN}"), "");
    assert_talk_both_ways(
        (&mut pa, alice_media),
        (&mut pc, carol_media),
        ["alice", "carol"],
    );

    // 3. Carol hangs up: alice's call ends too; the orbit is free.
    assert_eq!(carol.bye(), 200);
    assert!(
        alice
            .expect_request("BYE", Duration::from_secs(10))
            .is_some(),
        "alice's parked call was not ended"
    );
    let mut dave = SipPhone::new(proxy, "bob");
    let r = dave.invite(
        &format!("sip:701@{DOMAIN}"),
        &SipPhone::pcmu_offer(pc.addr()),
    );
    assert_eq!(r.status(), 404, "{}", r.text);
    assert!(
        testkit::http::metrics_page(metrics_port).contains("\nswitchboard_park_orbits_in_use 0\n")
    );
}

#[test]
fn a_call_parked_past_the_timeout_is_hung_up_and_its_orbit_freed() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), &[], 60, 5, "\n[park]\ntimeout_secs = 1\n");
    let proxy = server.socket_addr();
    let pa = RtpPeer::bind();
    let mut alice = SipPhone::new(proxy, "alice");
    let ok = alice.invite(
        &format!("sip:park@{DOMAIN}"),
        &SipPhone::pcmu_offer(pa.addr()),
    );
    assert_eq!(ok.status(), 200, "{}", ok.text);
    assert!(
        alice
            .expect_request("BYE", Duration::from_secs(10))
            .is_some(),
        "the parked call was not hung up after the timeout"
    );
    wait_until("the timeout's log line", HANG_GUARD, || {
        server
            .log_text()
            .contains("not retrieved within [park] timeout_secs")
    });
    let mut carol = SipPhone::new(proxy, "carol");
    let r = carol.invite(
        &format!("sip:701@{DOMAIN}"),
        &SipPhone::pcmu_offer(pa.addr()),
    );
    assert_eq!(r.status(), 404, "{}", r.text);
}
