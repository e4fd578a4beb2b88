//! Parses the benchmark INVITE in a loop: a target for profilers (callgrind, perf).
fn main() {
    let data = bytes::Bytes::from_static(include_bytes!("../tests/data/invite_sdp.sip"));
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let mut vias = 0;
    for _ in 0..n {
        if let Ok(m) = sip_message::SipMessage::parse(data.clone()) {
            vias += m.via_count();
        }
    }
    std::process::exit(if vias == n { 0 } else { 1 });
}
