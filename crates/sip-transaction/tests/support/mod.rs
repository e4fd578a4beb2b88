//! Shared by the transaction-layer tests: a layer on a virtual clock, message builders and
//! readers of what the layer sent and reported.
#![allow(clippy::unwrap_used)]
// Each test file uses only some of these.
#![allow(dead_code, unused_imports)]

pub use std::time::Duration;

pub use bytes::Bytes;
pub use sip_message::{ResponseBuilder, SipMessage};
pub use sip_transaction::{
    Config, Error, Event, Reliability, RequestOutcome, ResponseOutcome, State, TransactionId,
    TransactionLayer, Transmit,
};

pub const UDP: Reliability = Reliability::Unreliable;
pub const TCP: Reliability = Reliability::Reliable;

pub type Layer = TransactionLayer<&'static str>;

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn layer() -> Layer {
    TransactionLayer::new(Config::default())
}

pub fn layer_without_100() -> Layer {
    TransactionLayer::new(Config {
        auto_100_trying: None,
        ..Config::default()
    })
}

pub fn parse(s: &str) -> SipMessage {
    SipMessage::parse(Bytes::from(s.replace("\r\n", "\n").replace('\n', "\r\n"))).unwrap()
}

/// A request with the given method, top Via branch, To tag suffix and CSeq method.
pub fn request_with(method: &str, branch: &str, to: &str, cseq: &str, call_id: &str) -> SipMessage {
    parse(&format!(
        "{method} sip:bob@biloxi.example.com SIP/2.0\n\
         Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch={branch}\n\
         Max-Forwards: 70\n\
         To: Bob <sip:bob@biloxi.example.com>{to}\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n\
         Call-ID: {call_id}\n\
         CSeq: 314159 {cseq}\n\
         Contact: <sip:alice@pc33.atlanta.example.com>\n\
         Content-Length: 0\n\n"
    ))
}

pub fn request(method: &str, branch: &str) -> SipMessage {
    request_with(method, branch, "", method, "a84b4c76e66710")
}

pub fn response(status: u16, branch: &str, cseq: &str) -> SipMessage {
    parse(&format!(
        "SIP/2.0 {status} Whatever\n\
         Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch={branch}\n\
         To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n\
         Call-ID: a84b4c76e66710\n\
         CSeq: 314159 {cseq}\n\
         Content-Length: 0\n\n"
    ))
}

pub fn reply(req: &SipMessage, status: u16) -> Bytes {
    Bytes::from(ResponseBuilder::new(req, status).to_tag("srv").to_vec())
}

pub fn first_line(t: &Transmit<&'static str>) -> String {
    let s = String::from_utf8_lossy(&t.bytes);
    s.lines().next().unwrap_or("").to_string()
}

pub fn drain(layer: &mut Layer) -> Vec<String> {
    std::iter::from_fn(|| layer.poll_transmit())
        .map(|t| first_line(&t))
        .collect()
}

pub fn events(layer: &mut Layer) -> Vec<Event> {
    std::iter::from_fn(|| layer.poll_event()).collect()
}

/// Runs the clock up to `end`; returns (time in ms, first line) of every transmission.
pub fn run_until(layer: &mut Layer, end: Duration) -> Vec<(u128, String)> {
    let mut out = vec![];
    while let Some(at) = layer.poll_timeout() {
        if at > end {
            break;
        }
        layer.handle_timeout(at);
        while let Some(t) = layer.poll_transmit() {
            out.push((at.as_millis(), first_line(&t)));
        }
    }
    out
}

pub fn times(sent: &[(u128, String)]) -> Vec<u128> {
    sent.iter().map(|(t, _)| *t).collect()
}

pub fn intervals(start: u128, sent: &[(u128, String)]) -> Vec<u128> {
    let mut prev = start;
    sent.iter()
        .map(|(t, _)| {
            let d = t - prev;
            prev = *t;
            d
        })
        .collect()
}

pub fn new_id(outcome: RequestOutcome) -> TransactionId {
    match outcome {
        RequestOutcome::New { id, .. } => id,
        other => panic!("expected New, got {other:?}"),
    }
}

pub fn matched(outcome: ResponseOutcome) -> TransactionId {
    match outcome {
        ResponseOutcome::Matched { id, .. } => id,
        other => panic!("expected Matched, got {other:?}"),
    }
}
