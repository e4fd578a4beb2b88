//! The binary runs the media engine and the service host (`[media]`): a phone in the test
//! process (testkit's SIP phone and RTP peer) calls the host's address directly with the
//! Request-URIs the proxy produces (the calls through the proxy are in
//! `voicemail_e2e.rs`). This checks the refusals (488 with a Warning, 400), and that a
//! deposit to an unknown mailbox is answered with real media (the phone decodes the
//! goodbye prompt) and a BYE, with its log line.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use testkit::audio;
use testkit::rtp_peer::RtpPeer;
use testkit::server::{Options, Server};
use testkit::sip_phone::SipPhone;

#[test]
fn the_binary_serves_voicemail_calls_with_media() {
    let prompts = tempfile::tempdir().unwrap();
    let goodbye = audio::signature(800);
    audio::write_wav(&prompts.path().join("goodbye.wav"), &goodbye);
    let services_port = testkit::ports::free_port();
    let metrics_port = testkit::ports::free_port();
    let rtp = 22000 + (std::process::id() % 300) as u16 * 20;
    let opts = Options {
        extra: format!(
            "[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n\n[media]\nservice_listen = \"127.0.0.1:{services_port}\"\nbind_address = \"127.0.0.1\"\n\
             rtp_ports = \"{rtp}-{}\"\n\n[voicemail]\nprompts_dir = {:?}\n",
            rtp + 19,
            prompts.path().display().to_string()
        ),
        ..Options::default()
    };
    let server = Server::start(env!("CARGO_BIN_EXE_switchboard"), opts);
    let host = SocketAddr::from(([127, 0, 0, 1], services_port));
    assert!(server
        .log_text()
        .contains("media engine and service host ready"));

    let peer = RtpPeer::bind();
    let mut phone = SipPhone::new(host, "bob");
    let g722 = SipPhone::offer(peer.addr(), "9", "a=rtpmap:9 G722/8000\r\n");
    let r = phone.invite(
        "sip:voicemail@example.com;mode=deposit;mailbox=alice",
        &g722,
    );
    assert_eq!(r.status(), 488, "{}", r.text);
    assert!(r.header("Warning").unwrap().starts_with("305"));

    let mut phone = SipPhone::new(host, "bob");
    let r = phone.invite(
        "sip:voicemail@example.com",
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(r.status(), 400);

    let mut phone = SipPhone::new(host, "bob");
    let r = phone.invite(
        "sip:voicemail@example.com;mode=deposit;mailbox=alice",
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(r.status(), 200, "{}", r.text);
    assert!(phone
        .expect_request("BYE", Duration::from_secs(10))
        .is_some());
    assert!(peer.wait_samples(8 * 800, Duration::from_secs(5)));
    let c = audio::clip_correlation(&peer.heard().samples, &goodbye, 8 * 800);
    assert!(c > 0.95, "goodbye prompt not heard: correlation {c}");
    let log = server.log_text();
    assert!(log.contains("voicemail deposit: no such mailbox"), "{log}");
    assert!(log.contains("service call refused"), "{log}");
    let m = testkit::http::metrics_page(metrics_port);
    assert!(
        m.contains("switchboard_service_calls_refused_total 2"),
        "{m}"
    );
    assert!(
        m.contains("switchboard_service_calls_answered_total 1"),
        "{m}"
    );
}
