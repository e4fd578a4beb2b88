//! Issue 19: a browser's WebRTC media bridged to a plain RTP phone by a real rtpengine,
//! driven by Switchboard's `ng` client (`relay::rtpengine`). No SIP here: the test carries
//! the SDP itself, as the proxy's relay stage will (`MediaRelay::offer` on the way to the
//! callee, `answer` on the way back). Chromium speaks ICE and DTLS-SRTP
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
use testkit::audio::tone;
use testkit::browser::Browser;
use testkit::netns::LoopbackOnly;
use testkit::ports::free_port;
use testkit::rtp_peer::RtpPeer;
use testkit::rtpengine::Rtpengine;
use testkit::server::{Options, Server};
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
    sdp.lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no m=audio in {sdp}"))
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
