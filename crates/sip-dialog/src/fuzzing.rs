//! The body of the fuzz target `dialog` in `fuzz/fuzz_targets/`, kept here so that the
//! fuzzer and the corpus replay test (`tests/fuzz_corpus.rs`) run the same code: any bytes,
//! as a datagram to an agent with an answered call and as an INFO body, must never panic.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

use crate::{parse_dtmf_relay, UaConfig, UaEvent, UserAgent};

const INVITE: &str = "INVITE sip:voicemail@example.com SIP/2.0\r\n\
    Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK1\r\nFrom: <sip:bob@example.com>;tag=b1\r\n\
    To: <sip:voicemail@example.com>\r\nCall-ID: call-1\r\nCSeq: 1 INVITE\r\n\
    Contact: <sip:bob@192.0.2.1:5062>\r\nContent-Length: 0\r\n\r\n";

/// Target `dialog`.
pub fn dialog(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_dtmf_relay(s);
    }
    let peer: SocketAddr = SocketAddr::from(([192, 0, 2, 1], 5062));
    // The agent's tag is random-looking; the fuzzer's bytes use `TAG` and it is replaced
    // with the real tag so in-dialog requests reach the dialog.
    let mut ua = UserAgent::new(UaConfig::default(), 1);
    ua.handle_datagram(Duration::ZERO, Bytes::from_static(INVITE.as_bytes()), peer);
    let mut call = None;
    while let Some(e) = ua.poll_event() {
        if let UaEvent::Incoming { call: c, .. } = e {
            call = Some(c);
        }
    }
    let Some(call) = call else {
        panic!("the seed INVITE was not taken");
    };
    ua.accept(call, Duration::from_millis(1), b"v=0\r\n");
    let tag = ua
        .dialog(call)
        .map(|d| d.local_tag.clone())
        .unwrap_or_default();
    let mut bytes = data.to_vec();
    if let Some(at) = bytes.windows(3).position(|w| w == b"TAG") {
        bytes.splice(at..at + 3, tag.bytes());
    }
    ua.handle_datagram(Duration::from_millis(2), Bytes::from(bytes), peer);
    while ua.poll_transmit().is_some() {}
    while let Some(e) = ua.poll_event() {
        if let UaEvent::Offer { .. } = e {
            ua.answer_offer(call, Duration::from_millis(3), Ok(b"v=0\r\n"));
        }
    }
    ua.hangup(call, Duration::from_millis(4));
    ua.handle_timeout(Duration::from_secs(64));
    while ua.poll_transmit().is_some() {}
}
