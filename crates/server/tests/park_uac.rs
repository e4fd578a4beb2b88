//! Calls the service host places (its UAC), end to end on the real binary through the
//! proxy, with SIPp phones and media checked on decoded RTP:
//!
//! - a parked call past `[park] timeout_secs` rings the parker back: alice's call was
//!   parked by a blind transfer from bob (its INVITE carries `Referred-By: bob`); at the
//!   timeout the host INVITEs bob (a SIPp phone, registered), shown as "Parked call 701";
//!   bob answers and the two are bridged: alice hears bob's 500 Hz and bob alice's 1500 Hz,
//!   neither its own; alice hangs up and bob gets the BYE;
//! - the parker busy (486): the parked call is hung up, with a log line;
//! - `*85` by a real blind transfer: bob (SIPp), in a call with alice (SIPp), REFERs her
//!   to `*85`; her phone accepts, NOTIFYs, and INVITEs `*85` with bob's `Referred-By`; she
//!   is parked and hears the hold music (decoded); carol dials the orbit `701` and the two
//!   hear each other; carol hangs up and alice's phone gets the BYE;
//! - RFC 5359 §2.15, the park server's ladder: bob (SIPp) REFERs `sip:park@` with
//!   `Refer-To: <alice?Replaces=...>`; 202, NOTIFY 100 Trying, the host INVITEs alice
//!   (SIPp) through the proxy with the unescaped `Replaces` and bob's `Referred-By`, she
//!   answers, NOTIFY 200 OK; she hears the hold music (decoded); carol retrieves by the
//!   carol (SIPp) SUBSCRIBEs the park server's `Event: dialog` and learns the parked
//!   dialog's ids, then retrieves with an INVITE to the park server with `Replaces` naming
//!   it, and they hear each other. Departure from the RFC: alice's call with bob before the
//!   REFER is not played (her SIPp checks the Replaces header, it has no dialog to
//!   replace); carol's INVITE goes to the park server (which bridges), not to alice.
//! - RFC 5359 §2.10, the bridge dialling out: alice, in conference room `conf-dial`,
//!   REFERs the bridge inside her call with `Refer-To: <carol>`; 202, NOTIFYs 100 and
//!   200; the bridge INVITEs carol (SIPp) through the proxy, shown as "Conference
//!   dial"; she answers and is in the room: alice hears carol's 500 Hz and carol alice's
//!   1000 Hz;
//! - delayed offer to music on hold: a SIPp phone INVITEs `moh` without SDP, gets the
//!   host's offer in the 200, answers in its ACK, and its RTP decodes to the playlist.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use testkit::audio;
use testkit::open::{caller, phone};
use testkit::rtp_peer::{assert_talk_both_ways, RtpPeer};
use testkit::server::{Options, Server, DOMAIN};
use testkit::sip_phone::{answered_pcmu_call, SipPhone};
use testkit::sipp::{header, trace_so_far, wait_trace, Sipp};
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A server with media services on, prompts in `prompts`, park timing out after
/// `timeout` seconds; `slot` gives each test its own RTP ports.
fn server(prompts: &std::path::Path, slot: u16, timeout: u32, more: &str) -> Server {
    let services_port = testkit::ports::free_port();
    let rtp = 31000 + (std::process::id() % 100) as u16 * 60 + slot * 20;
    let opts = Options {
        extra: format!(
            "[media]\nenabled = true\nservice_listen = \"127.0.0.1:{services_port}\"\n\
             bind_address = \"127.0.0.1\"\nrtp_ports = \"{rtp}-{}\"\nrtp_timeout_secs = 60\n\n\
             [voicemail]\nprompts_dir = {:?}\n\n[park]\ntimeout_secs = {timeout}\n{more}",
            rtp + 19,
            prompts.display().to_string(),
        ),
        ..Options::default()
    };
    Server::start(BIN, opts)
}

/// The RTP address an SDP body names (`c=` and `m=audio`).
fn sdp_addr(msg: &str) -> std::net::SocketAddr {
    testkit::sip_phone::sdp_rtp_addr(msg).unwrap_or_else(|| panic!("no RTP address in {msg}"))
}

/// Alice parks (`*85`) as the transferee of bob's blind transfer would: her INVITE
/// names bob in `Referred-By`. Returns her phone, RTP peer and the host's RTP address.
fn alice_parks(proxy: std::net::SocketAddr) -> (SipPhone, RtpPeer, std::net::SocketAddr) {
    answered_pcmu_call(
        proxy,
        "alice",
        &format!("sip:*85@{DOMAIN}"),
        &format!("Referred-By: <sip:bob@{DOMAIN}>\r\n"),
    )
}

#[test]
fn a_parked_call_past_the_timeout_rings_the_parker_back_and_is_bridged_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), 0, 2, "");
    let proxy = server.socket_addr();

    // Bob's phone: registered, answers with its media at pb.
    let mut pb = RtpPeer::bind();
    let port = testkit::ports::free_port();
    testkit::open::register(&server, "bob", port, 60);
    let bob = Sipp::new(&server, "bob-ringback", "uas-answer-200-sdp-bye.xml", port)
        .service("bob")
        .key("rtp_port", pb.addr().port())
        .spawn();

    let (mut alice, mut pa, alice_media) = alice_parks(proxy);

    // The timeout: the host rings bob back through the proxy, and bob answers.
    wait_trace(&server, "bob-ringback", "ACK sip:");
    let trace = trace_so_far(&server, "bob-ringback");
    let invite = trace.find(false, "INVITE sip:bob@").remove(0);
    let from = header(&invite, "From").unwrap().to_string();
    assert!(from.contains("\"Parked call 701\""), "{from}");
    testkit::open::assert_via_proxy(&server, &invite);
    let host_media = sdp_addr(&invite);
    assert!(server
        .log_text()
        .contains("parked call not retrieved within [park] timeout_secs: ringing the parker back"));

    // Bridged: each hears the other's tone, never its own.
    assert_talk_both_ways(
        (&mut pa, alice_media),
        (&mut pb, host_media),
        ["alice", "bob"],
    );

    // Alice hangs up: the host ends bob's call.
    assert_eq!(alice.bye(), 200);
    bob.wait()
        .assert_ok("bob answers the ring-back and gets the BYE");
}

#[test]
fn a_parker_who_is_busy_leaves_the_parked_call_hung_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), 1, 1, "");
    let proxy = server.socket_addr();
    let port = testkit::ports::free_port();
    testkit::open::register(&server, "bob", port, 60);
    let bob = Sipp::new(&server, "bob-busy", "uas-answer-486.xml", port)
        .service("bob")
        .spawn();
    let (alice, _pa, _media) = alice_parks(proxy);
    assert!(
        alice
            .expect_request("BYE", Duration::from_secs(15))
            .is_some(),
        "the parked call was not hung up after the parker's 486"
    );
    bob.wait().assert_ok("bob refuses the ring-back");
    wait_until("the ring-back's log line", HANG_GUARD, || {
        server
            .log_text()
            .contains("the parker did not answer the ring-back")
    });
}

#[test]
fn star85_by_a_real_blind_transfer_parks_with_music_and_the_orbit_retrieves() {
    let (server, music) = server_with_music(2);
    let proxy = server.socket_addr();

    // Alice calls bob; bob REFERs her to *85 and hangs up (RFC 5359 §2.4's ladder).
    let (_, bob) = phone(
        &server,
        "bob",
        "uas-answer-200-transferor-park-refer-202.xml",
    );
    let bob = bob.spawn();
    let first = caller(
        &server,
        "alice",
        "uac-invite-transferee-park-expect-bye.xml",
        "bob",
    )
    .run();
    first.assert_ok("transferee");
    bob.wait().assert_ok("transferor");
    let refer = &first.find(false, "REFER")[0];
    let referred_by = header(refer, "Referred-By").unwrap().to_string();

    // Alice's phone follows the REFER: INVITE *85 with bob's Referred-By.
    let pa = RtpPeer::bind();
    let parked = caller(
        &server,
        "alice-parked",
        "uac-invite-parked-expect-bye.xml",
        "*85",
    )
    .key("referredby", &referred_by)
    .key("rtp_port", pa.addr().port())
    .timeout(60)
    .run_background();
    wait_trace(&server, "alice-parked", "SIP/2.0 200");
    let ok = trace_so_far(&server, "alice-parked")
        .find(false, "SIP/2.0 200")
        .remove(0);
    let alice_media = sdp_addr(&ok);
    let orbit = format!("sip:701@{DOMAIN}");
    parked_hears_music_then_carol_retrieves(proxy, pa, alice_media, &music, (&orbit, ""));
    parked
        .wait()
        .assert_ok("alice parked by the blind transfer");
}

/// A server (RTP `slot`) whose hold music is a signature chirp; returns it and the music.
fn server_with_music(slot: u16) -> (Server, Vec<i16>) {
    let dir = tempfile::tempdir().unwrap();
    let music = audio::signature(1000);
    let hold = dir.path().join("hold.wav");
    audio::write_wav(&hold, &music);
    let more = format!("\n[moh]\nfiles = [{:?}]\n", hold.display().to_string());
    let server = server(dir.path(), slot, 300, &more);
    // The playlist is decoded at start: the directory may go.
    drop(dir);
    (server, music)
}

/// The parked party (RTP peer `pa`, the host's media at `alice_media`) hears the hold
/// music; carol dials the orbit 701 and the two hear each other; carol hangs up.
fn parked_hears_music_then_carol_retrieves(
    proxy: std::net::SocketAddr,
    mut pa: RtpPeer,
    alice_media: std::net::SocketAddr,
    music: &[i16],
    retrieve: (&str, &str),
) {
    // Parked: the hold music, decoded (the prompts are absent here: silence before it).
    let heard = pa.heard_after_first_sound(1100);
    let c = audio::clip_correlation(&heard, music, music.len());
    assert!(c > 0.95, "hold music while parked: correlation {c}");

    // Carol dials the orbit: the two hear each other.
    let (mut carol, mut pc, carol_media) =
        answered_pcmu_call(proxy, "carol", retrieve.0, retrieve.1);
    assert_talk_both_ways(
        (&mut pa, alice_media),
        (&mut pc, carol_media),
        ["alice", "carol"],
    );

    // Carol hangs up: the parked call is ended (the caller checks the BYE arrived).
    assert_eq!(carol.bye(), 200);
}

#[test]
fn rfc5359_2_15_park_by_refer_with_replaces() {
    let (server, music) = server_with_music(3);
    let proxy = server.socket_addr();
    let replaces = "bobalice-1;to-tag=at1;from-tag=bt1";
    let escaped = "bobalice-1%3Bto-tag%3Dat1%3Bfrom-tag%3Dbt1";

    // Alice's phone: registered; takes the park server's INVITE with Replaces.
    let pa = RtpPeer::bind();
    let port = testkit::ports::free_port();
    testkit::open::register(&server, "alice", port, 60);
    let alice = Sipp::new(
        &server,
        "alice-replaced",
        "uas-answer-200-replaced-sdp-bye.xml",
        port,
    )
    .service("alice")
    .key("rtp_port", pa.addr().port())
    .key("replaces", replaces)
    .timeout(60)
    .spawn();

    // Bob REFERs the park server: 202, NOTIFY 100, (alice answers), NOTIFY 200.
    let bob = caller(
        &server,
        "bob-parks",
        "uac-refer-park-expect-notify.xml",
        "park",
    )
    .key("repl", escaped)
    .run();
    bob.assert_ok("the parker's REFER and NOTIFYs");
    assert_eq!(
        bob.ladder(),
        testkit::sipp::rungs(&["> REFER", "< 202", "< NOTIFY", "> 200", "< NOTIFY", "> 200"])
    );
    let invite = trace_so_far(&server, "alice-replaced")
        .find(false, "INVITE sip:alice@")
        .remove(0);
    testkit::open::assert_via_proxy(&server, &invite);
    assert_eq!(header(&invite, "Replaces"), Some(replaces));
    assert!(header(&invite, "From").unwrap().contains("\"Park 701\""));
    let alice_media = sdp_addr(&invite);

    // Carol learns the parked dialog from the park server (Event: dialog) ...
    let sub = caller(
        &server,
        "carol-subscribes",
        "uac-subscribe-park-dialog-expect-notify.xml",
        "park",
    )
    .run();
    sub.assert_ok("the retriever's SUBSCRIBE");
    let notify = sub.find(false, "NOTIFY").remove(0);
    let attr = |name: &str| {
        let at = notify.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        notify[at..at + notify[at..].find('"').unwrap()].to_string()
    };
    let (call_id, local_tag, remote_tag) = (attr("call-id"), attr("local-tag"), attr("remote-tag"));
    assert_eq!(
        call_id,
        header(&invite, "Call-ID").unwrap(),
        "the parked dialog"
    );
    assert!(notify.contains("sip:alice@"), "{notify}");

    // ... and retrieves it: INVITE park with Replaces naming it (to-tag: the server's).
    let replaces = format!("Replaces: {call_id};to-tag={local_tag};from-tag={remote_tag}\r\n");
    let park = format!("sip:park@{DOMAIN}");
    parked_hears_music_then_carol_retrieves(proxy, pa, alice_media, &music, (&park, &replaces));
    alice.wait().assert_ok("alice parked by REFER");
    // A Replaces that names no parked call: 481.
    let mut dave = SipPhone::new(proxy, "bob");
    let r = dave.invite_with(
        &park,
        &SipPhone::pcmu_offer(RtpPeer::bind().addr()),
        "Replaces: nothing;to-tag=a;from-tag=b\r\n",
    );
    assert_eq!(r.status(), 481, "{}", r.text);
}

#[test]
fn rfc5359_2_10_the_bridge_dials_out_on_a_participants_refer() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), 4, 300, "");
    let proxy = server.socket_addr();

    // Carol's phone: registered, answers with its media at pc.
    let pc = RtpPeer::bind();
    let port = testkit::ports::free_port();
    testkit::open::register(&server, "carol", port, 60);
    let _carol = Sipp::new(&server, "carol-dialled", "uas-answer-200-sdp-bye.xml", port)
        .service("carol")
        .key("rtp_port", pc.addr().port())
        .timeout(60)
        .spawn();

    // Alice is in the room; she REFERs the bridge to carol inside her call.
    let pa = RtpPeer::bind();
    let mut alice = SipPhone::new(proxy, "alice");
    let ok = alice.invite(
        &format!("sip:conf-dial@{DOMAIN}"),
        &SipPhone::pcmu_offer(pa.addr()),
    );
    assert_eq!(ok.status(), 200, "{}", ok.text);
    let alice_media = ok.sdp_rtp_addr().unwrap();
    let accepted = alice.request_with(
        "REFER",
        "",
        "",
        &format!("Refer-To: <sip:carol@{DOMAIN}>\r\nReferred-By: <sip:alice@{DOMAIN}>\r\n"),
    );
    assert_eq!(accepted.status(), 202, "{}", accepted.text);
    let trying = alice
        .expect_request("NOTIFY", Duration::from_secs(10))
        .unwrap();
    assert_eq!(trying.header("Event"), Some("refer"));
    assert!(trying.body().starts_with("SIP/2.0 100"), "{}", trying.text);
    let done = alice
        .expect_request("NOTIFY", Duration::from_secs(20))
        .unwrap();
    assert!(done.body().starts_with("SIP/2.0 200"), "{}", done.text);
    assert!(done
        .header("Subscription-State")
        .is_some_and(|s| s.starts_with("terminated")));

    let trace = trace_so_far(&server, "carol-dialled");
    let invite = trace.find(false, "INVITE sip:carol@").remove(0);
    testkit::open::assert_via_proxy(&server, &invite);
    assert!(header(&invite, "From")
        .unwrap()
        .contains("\"Conference dial\""));
    let host_media = sdp_addr(&invite);

    // In the room: each hears the other.
    let before = (pa.heard().samples.len(), pc.heard().samples.len());
    let (mut pa, mut pc) = (pa, pc);
    let ta = std::thread::spawn(move || {
        pa.send_audio(alice_media, &audio::tone(1000.0, 1000, 8000.0));
        pa
    });
    let tc = std::thread::spawn(move || {
        pc.send_audio(host_media, &audio::tone(500.0, 1000, 8000.0));
        pc
    });
    let (pa, pc) = (ta.join().unwrap(), tc.join().unwrap());
    assert!(pa.wait_samples(before.0 + 9600, Duration::from_secs(5)));
    assert!(pc.wait_samples(before.1 + 9600, Duration::from_secs(5)));
    let alice_hears = audio::tone_seconds(&pa.heard().samples[before.0..], 500.0);
    let carol_hears = audio::tone_seconds(&pc.heard().samples[before.1..], 1000.0);
    assert!(
        alice_hears > 0.6,
        "alice heard {alice_hears} s of carol's 500 Hz"
    );
    assert!(
        carol_hears > 0.6,
        "carol heard {carol_hears} s of alice's 1000 Hz"
    );
    assert_eq!(alice.bye(), 200);
}

#[test]
fn delayed_offer_to_music_on_hold_offer_in_the_200_answer_in_the_ack() {
    let (server, music) = server_with_music(5);
    let pa = RtpPeer::bind();
    let sipp = caller(
        &server,
        "alice-no-sdp",
        "uac-invite-nosdp-answer-in-ack.xml",
        "moh",
    )
    .key("rtp_port", pa.addr().port())
    .run_background();
    let heard = pa.heard_after_first_sound(1100);
    let c = audio::clip_correlation(&heard, &music, music.len());
    assert!(
        c > 0.95,
        "hold music after a delayed offer: correlation {c}"
    );
    sipp.wait().assert_ok("delayed offer to music on hold");
}
