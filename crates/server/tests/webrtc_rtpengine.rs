//! Issue 19: a browser's WebRTC media bridged to a plain RTP phone by a real rtpengine,
//! driven by Switchboard's `ng` client (`relay::rtpengine`). First without SIP: the test
//! carries the SDP itself, as the proxy's relay stage does (`MediaRelay::offer` on the way
//! to the callee, `answer` on the way back); then through the server with `[relay] backend
//! = "rtpengine"`: a JsSIP browser phone over WSS and an RTP phone call each other both
//! ways (and a call forks to a browser and a desk phone), and each decodes the other's
//! tone; and the browser reaches the media services (music on hold, a conference room
//! with an RTP phone in it, the room dialling the browser) bridged the same way. Chromium speaks ICE and DTLS-SRTP
//! (`UDP/TLS/RTP/SAVPF`) with rtpengine; the phone (`testkit::rtp_peer`) speaks plain
//! `RTP/AVP` PCMU. Audio must arrive both ways: the browser decodes the phone's tone
//! (WebRTC stats), the phone decodes the browser's fake microphone.
//!
//! ```text
//! Chromium (SAVPF, ICE, DTLS)        rtpengine (127.0.0.1)           RTP phone (AVP)
//!  | offer ------------------------> ng offer (receiver: RTP) ------------> |
//!  | <------------------------------ ng answer (receiver: WebRTC) <- answer |
//!  |<== ICE + DTLS + SRTP ==> [B]  [P] <========== PCMU ==================> |
//! ```

#![allow(clippy::unwrap_used)] // helpers of the test below

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use relay::rtpengine::{RtpEngine, RtpEngineConfig};
use relay::{CallKey, MediaRelay, Profile, RelayRequest};
use testkit::audio::{block_tone_share, tone, write_wav};
use testkit::browser::Browser;
use testkit::browser_phone::{browser_phone, count, events, wait_event, wss_server};
use testkit::netns::LoopbackOnly;
use testkit::ports::free_port;
use testkit::rtp_peer::RtpPeer;
use testkit::rtpengine::Rtpengine;
use testkit::server::{Options, Server, DOMAIN};
use testkit::sip_phone::SipPhone;
use testkit::static_site::StaticSite;
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/webrtc"
    ))
}

/// The `m=audio` port of `sdp`.
fn media_port(sdp: &str) -> u16 {
    testkit::sip_phone::sdp_audio_port(sdp).unwrap_or_else(|| panic!("no m=audio in {sdp}"))
}

#[test]
fn a_browser_and_an_rtp_phone_hear_each_other_through_rtpengine() {
    // Only loopback exists for this test's browsers, server and peers.
    let Some(_loopback) = LoopbackOnly::enter() else {
        return;
    };
    let Some(daemon) = Rtpengine::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt
        .block_on(RtpEngine::connect(RtpEngineConfig {
            timeout: Duration::from_secs(20),
            ..RtpEngineConfig::new(daemon.ng)
        }))
        .unwrap();
    rt.block_on(client.ping()).unwrap();

    let site = StaticSite::serve(fixtures());
    let browser = Browser::phone(&site.origin());
    browser.open("/peer.html");
    browser.eval("makeOffer(); return true;");
    browser.wait_for("the browser's offer", "return sb.offer !== null;");
    let offer = browser
        .eval("return sb.offer;")
        .as_str()
        .unwrap()
        .to_string();
    assert!(offer.contains("UDP/TLS/RTP/SAVPF"), "{offer}");

    let call = CallKey {
        call_id: format!("webrtc-bridge-{}", std::process::id()),
        from_tag: "browser".into(),
    };
    // The offer on its way to the phone: plain RTP, no ICE, no DTLS.
    let to_phone = rt
        .block_on(client.offer(RelayRequest {
            call: call.clone(),
            to_tag: None,
            sdp: offer,
            signalled_from: "127.0.0.1:5062".parse().unwrap(),
            receiver: Profile::Rtp,
        }))
        .unwrap();
    assert!(to_phone.contains(" RTP/AVP "), "{to_phone}");
    assert!(!to_phone.contains("a=fingerprint"), "{to_phone}");
    assert!(!to_phone.contains("a=ice-ufrag"), "{to_phone}");

    let mut phone = RtpPeer::bind();
    let phone_sdp = format!(
        "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
        phone.addr().port()
    );
    // The answer on its way back to the browser: DTLS-SRTP with ICE, rtcp-mux.
    let to_browser = rt
        .block_on(client.answer(RelayRequest {
            call: call.clone(),
            to_tag: Some("phone".into()),
            sdp: phone_sdp,
            signalled_from: "127.0.0.1:5070".parse().unwrap(),
            receiver: Profile::WebRtc,
        }))
        .unwrap();
    for needed in [
        "UDP/TLS/RTP/SAVPF",
        "a=fingerprint:",
        "a=ice-ufrag:",
        "a=rtcp-mux",
    ] {
        assert!(to_browser.contains(needed), "no {needed}: {to_browser}");
    }
    browser.eval(&format!(
        "takeAnswer({}); return true;",
        serde_json::Value::String(to_browser)
    ));
    browser.wait_for("the browser to take the answer", "return sb.answered;");

    // The phone plays 4 s of 1 kHz to rtpengine's phone-side port (in a thread: it is
    // paced in real time) while the browser connects.
    let relay_for_phone: SocketAddr = ([127, 0, 0, 1], media_port(&to_phone)).into();
    let sender = std::thread::spawn(move || {
        phone.send_audio(relay_for_phone, &tone(1000.0, 4000, 8000.0));
        phone
    });
    browser.wait_for(
        "ICE and DTLS with rtpengine",
        "return sb.dtls === 'connected';",
    );
    browser.wait_for(
        "the browser to receive and decode the phone's audio",
        "return sb.inbound > 20 && sb.energy > 0;",
    );
    let phone = sender.join().unwrap();
    // The browser's fake microphone reached the phone as PCMU, from rtpengine's port.
    assert!(
        phone.wait_samples(8000, HANG_GUARD),
        "the phone heard {} samples from the browser",
        phone.heard().samples.len()
    );
    let heard = phone.heard();
    assert!(heard.sources.iter().all(|s| *s == relay_for_phone));
    // Not just packets: the fake microphone's beeps, decoded.
    let loudest = heard
        .samples
        .iter()
        .map(|s| s.unsigned_abs())
        .max()
        .unwrap();
    assert!(
        loudest > 1000,
        "the phone heard only silence (peak {loudest})"
    );
    let stats = rt.block_on(client.delete(call)).unwrap();
    assert!(stats.packets_to_callee > 50, "{stats:?}");
    assert!(stats.packets_to_caller > 50, "{stats:?}");
    drop(daemon);
}

/// `[relay] backend = "rtpengine"`: the server opens its ng client at start-up and says
/// whether rtpengine answers.
#[test]
fn the_server_checks_its_rtpengine_at_start_up() {
    let Some(_loopback) = LoopbackOnly::enter() else {
        return;
    };
    let Some(daemon) = Rtpengine::start() else {
        return;
    };
    let relay = |addr: SocketAddr| Options {
        extra: format!("[relay]\nbackend = \"rtpengine\"\nrtpengine = \"{addr}\"\n"),
        ..Options::default()
    };
    let node = Server::start(BIN, relay(daemon.ng));
    wait_until("the rtpengine check", HANG_GUARD, || {
        node.log_text().contains("relay: rtpengine answers")
    });
    // Nobody at that address: said at once (the server still starts).
    let nobody: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let node = Server::start(BIN, relay(nobody));
    wait_until("the failed rtpengine check", HANG_GUARD, || {
        node.log_text().contains("relay: rtpengine does not answer")
    });
}

/// The tone the browser's fake microphone plays, and the one the RTP phone sends.
const BROWSER_HZ: f64 = 1000.0;
const PHONE_HZ: f64 = 600.0;

/// The RTP phone's SDP: PCMU on `rtp`.
fn phone_sdp(rtp: SocketAddr) -> String {
    SipPhone::offer(rtp, "0", "a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")
}

/// A relayed SDP for the RTP phone: plain RTP/AVP, no ICE, no DTLS.
fn assert_plain(sdp: &str) {
    assert!(sdp.contains(" RTP/AVP "), "{sdp}");
    for webrtc in ["a=fingerprint", "a=ice-ufrag", "SAVPF"] {
        assert!(!sdp.contains(webrtc), "{webrtc} in {sdp}");
    }
}

/// The RTP phone sends its tone to the relay at `relay` for 4 s while the browser
/// receives and decodes it (WebRTC stats); then the phone's own ears are checked: at least
/// 2 s more heard, all from the relay, and the last second mostly the browser's tone.
/// Returns the phone's RTP peer (for another call in the same dialog).
fn both_hear(browser: &Browser, mut ear: RtpPeer, relay: SocketAddr, who: &str) -> RtpPeer {
    let mark = ear.heard().samples.len();
    let sender = std::thread::spawn(move || {
        ear.send_audio(relay, &tone(PHONE_HZ, 4000, 8000.0));
        ear
    });
    browser.wait_for(
        &format!("the browser to receive and decode the phone's audio ({who})"),
        "return sb.inbound > 20 && sb.energy > 0;",
    );
    let ear = sender.join().unwrap();
    assert!(
        ear.wait_samples(mark + 16_000, HANG_GUARD),
        "the phone heard {} samples from the browser ({who})",
        ear.heard().samples.len()
    );
    let heard = ear.heard();
    assert!(heard.sources.iter().all(|s| *s == relay), "{who}");
    let last_second = &heard.samples[heard.samples.len() - 8000..];
    let share = block_tone_share(last_second, BROWSER_HZ);
    assert!(
        share > 0.8,
        "the phone did not hear the browser's {BROWSER_HZ} Hz ({who}): share {share:.2}"
    );
    ear
}

/// Issue 19 through the server: `[relay] backend = "rtpengine"`, a browser phone (JsSIP
/// over WSS; its fake microphone plays 1 kHz) calls an RTP phone (SIP and RTP in this
/// process, PCMU), then the phone calls the browser, then another phone calls the
/// browser's user, who also has a desk phone (a fork bridged on the browser's branch
/// only). No NAT anywhere: the relay stage engages rtpengine because the two sides speak
/// different media profiles.
#[test]
fn a_browser_phone_and_an_rtp_phone_call_each_other_through_the_server() {
    let Some(_loopback) = LoopbackOnly::enter() else {
        return;
    };
    let Some(daemon) = Rtpengine::start() else {
        return;
    };
    let site = StaticSite::serve(fixtures());
    let relay = Options {
        extra: format!(
            "[relay]\nbackend = \"rtpengine\"\nrtpengine = \"{}\"\n",
            daemon.ng
        ),
        ..Options::default()
    };
    let (node, wss, certs) = wss_server(BIN, relay, &site.origin());
    let wav = certs.path().join("tone.wav");
    write_wav(&wav, &tone(BROWSER_HZ, 1000, 8000.0));
    let alice = browser_phone(&site, wss, "alice", Some(&wav));
    let server: SocketAddr = node.addr().parse().unwrap();
    let mut bob = SipPhone::new(server, "bob");
    bob.register("bob");

    // alice (browser) calls bob (RTP phone): the offer reaches him as plain RTP.
    let ear = RtpPeer::bind();
    alice.eval(&format!("call('sip:bob@{DOMAIN}'); return true;"));
    let invite = bob
        .answer_invite(&phone_sdp(ear.addr()), HANG_GUARD)
        .expect("bob's INVITE");
    assert_plain(invite.body());
    let relay_for_bob = invite.sdp_rtp_addr().unwrap();
    wait_event(&alice, "confirmed", 1);
    both_hear(&alice, ear, relay_for_bob, "alice calls bob");
    alice.eval("hangup(); return true;");
    assert!(bob.expect_request("BYE", HANG_GUARD).is_some());
    wait_event(&alice, "ended", 1);

    // bob calls alice: the offer reaches her browser as WebRTC, her answer him as RTP.
    let ear = RtpPeer::bind();
    let ok = bob.invite(&format!("sip:alice@{DOMAIN}"), &phone_sdp(ear.addr()));
    assert_eq!(ok.status(), 200, "{}", ok.text);
    assert_plain(ok.body());
    let relay_for_bob = ok.sdp_rtp_addr().unwrap();
    wait_event(&alice, "confirmed", 2);
    both_hear(&alice, ear, relay_for_bob, "bob calls alice");
    assert_eq!(bob.bye(), 200);
    wait_event(&alice, "ended", 2);

    // alice also has a desk phone: carol's call rings both. The desk phone gets carol's
    // own SDP (it speaks her profile), the browser rtpengine's; the browser answers.
    let desk = {
        let mut desk = SipPhone::new(server, "alice");
        desk.register("alice");
        desk
    };
    let ringing = std::thread::spawn(move || {
        let invite = desk.wait_invite(HANG_GUARD);
        (desk, invite)
    });
    let ear = RtpPeer::bind();
    let carol_sdp = phone_sdp(ear.addr());
    let mut carol = SipPhone::new(server, "carol");
    let ok = carol.invite(&format!("sip:alice@{DOMAIN}"), &carol_sdp);
    assert_eq!(ok.status(), 200, "{}", ok.text);
    assert_plain(ok.body());
    let (_desk, desk_invite) = ringing.join().unwrap();
    let desk_invite = desk_invite.expect("the desk phone rang");
    assert_eq!(
        desk_invite.body(),
        carol_sdp,
        "the desk phone got another SDP"
    );
    let relay_for_carol = ok.sdp_rtp_addr().unwrap();
    assert_ne!(relay_for_carol, ear.addr());
    wait_event(&alice, "confirmed", 3);
    both_hear(
        &alice,
        ear,
        relay_for_carol,
        "carol calls alice's browser and desk phone",
    );
    assert_eq!(carol.bye(), 200);
    wait_event(&alice, "ended", 3);
    assert_eq!(count(&alice, "failed"), 0, "{}", events(&alice));

    // The three calls were bridged, and each one's media ended with it.
    wait_until("the relayed calls' end", HANG_GUARD, || {
        node.log_text().matches("relay call ended").count() >= 3
    });
    let log = node.log_text();
    assert_eq!(
        log.matches("media bridged").count(),
        3,
        "the relay stage did not bridge every call:\n{log}"
    );
    assert!(log.contains("every_target=false"), "{log}");
    assert_media_both_ways(&log);
    drop(daemon);
}

/// rtpengine's counters, from each relayed call's delete in the server's `log`: media
/// went both ways.
fn assert_media_both_ways(log: &str) {
    let packets = |line: &str, key: &str| -> u64 {
        line.split(&format!("{key}="))
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    for line in log.lines().filter(|l| l.contains("relay call ended")) {
        assert!(packets(line, "packets_to_callee") > 50, "{line}");
        assert!(packets(line, "packets_to_caller") > 50, "{line}");
    }
}

/// Issue 19: a browser phone reaches the service host (which speaks plain RTP) through
/// rtpengine like any RTP phone. alice's browser (fake microphone: 1 kHz) calls music on
/// hold and decodes the playlist; then she calls a conference room where bob's RTP phone
/// (600 Hz) already is, and each decodes the other through the bridge; she hangs up, bob
/// has the bridge dial her (REFER), and they hear each other again.
#[test]
fn a_browser_phone_reaches_music_on_hold_and_a_conference_through_rtpengine() {
    let Some(_loopback) = LoopbackOnly::enter() else {
        return;
    };
    let Some(daemon) = Rtpengine::start() else {
        return;
    };
    let site = StaticSite::serve(fixtures());
    let music = tempfile::tempdir().unwrap();
    let playlist = music.path().join("hold.wav");
    write_wav(&playlist, &tone(PHONE_HZ, 1000, 6000.0));
    // Only loopback in this namespace: the media engine's ports are below the ephemeral
    // range that rtpengine's and Chromium's come from.
    let options = Options {
        extra: format!(
            "[relay]\nbackend = \"rtpengine\"\nrtpengine = \"{}\"\n\n\
             [media]\nenabled = true\nservice_listen = \"127.0.0.1:{}\"\n\
             bind_address = \"127.0.0.1\"\nrtp_ports = \"24000-24039\"\n\n\
             [moh]\nfiles = [{:?}]\n",
            daemon.ng,
            free_port(),
            playlist.display().to_string(),
        ),
        ..Options::default()
    };
    let (node, wss, certs) = wss_server(BIN, options, &site.origin());
    let wav = certs.path().join("tone.wav");
    write_wav(&wav, &tone(BROWSER_HZ, 1000, 8000.0));
    let alice = browser_phone(&site, wss, "alice", Some(&wav));
    let server: SocketAddr = node.addr().parse().unwrap();

    // Music on hold: the browser decodes the playlist the media engine sends as RTP.
    alice.eval(&format!("call('sip:moh@{DOMAIN}'); return true;"));
    wait_event(&alice, "confirmed", 1);
    alice.wait_for(
        "the browser to receive and decode the hold music",
        "return sb.inbound > 60 && sb.energy > 0;",
    );
    alice.eval("hangup(); return true;");
    wait_event(&alice, "ended", 1);

    // A conference room: bob's RTP phone is in it first, then alice's browser joins.
    let ear = RtpPeer::bind();
    let mut bob = SipPhone::new(server, "bob");
    let ok = bob.invite(&format!("sip:conf-web@{DOMAIN}"), &phone_sdp(ear.addr()));
    assert_eq!(ok.status(), 200, "{}", ok.text);
    let bridge = ok.sdp_rtp_addr().unwrap();
    alice.eval(&format!("call('sip:conf-web@{DOMAIN}'); return true;"));
    wait_event(&alice, "confirmed", 2);
    let ear = both_hear(&alice, ear, bridge, "alice calls a conference room");
    let in_room = || {
        let rooms: serde_json::Value =
            serde_json::from_str(&node.cli(&["--json", "conference", "list"])).unwrap();
        rooms[0]["participants"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(in_room(), 2);
    alice.eval("hangup(); return true;");
    wait_event(&alice, "ended", 2);

    // The bridge dials out (RFC 5359 §2.10: bob REFERs it to alice): the host's plain
    // offer reaches her browser as WebRTC, and she is in the room again.
    let accepted = bob.request_with(
        "REFER",
        "",
        "",
        &format!("Refer-To: <sip:alice@{DOMAIN}>\r\nReferred-By: <sip:bob@{DOMAIN}>\r\n"),
    );
    assert_eq!(accepted.status(), 202, "{}", accepted.text);
    wait_event(&alice, "confirmed", 3);
    both_hear(&alice, ear, bridge, "the conference bridge calls alice");
    assert_eq!(in_room(), 2);
    alice.eval("hangup(); return true;");
    wait_event(&alice, "ended", 3);
    assert_eq!(bob.bye(), 200);
    assert_eq!(count(&alice, "failed"), 0, "{}", events(&alice));

    // alice's calls with the host were bridged (bob's plain one was not relayed), and
    // media went both ways through rtpengine in each.
    wait_until("the relayed calls' end", HANG_GUARD, || {
        node.log_text().matches("relay call ended").count() >= 3
    });
    let log = node.log_text();
    assert_eq!(
        log.matches("service_host=true").count(),
        3,
        "the relay stage did not bridge every call with the service host:\n{log}"
    );
    // The bridged INVITEs to the host (over 1,300 bytes) went over UDP at once.
    assert!(!log.contains("large request"), "{log}");
    assert_media_both_ways(&log);
    drop(daemon);
}
