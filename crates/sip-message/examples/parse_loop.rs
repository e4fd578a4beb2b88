//! Parses the benchmark INVITE in a loop: a target for profilers (callgrind, perf) whose
//! instruction counts are repeatable on a busy machine, unlike wall-clock benchmarks.
//! `parse_loop [N] [switchboard|rsip]`.
fn main() {
    let raw: &[u8] = include_bytes!("../tests/data/invite_sdp.sip");
    let data = bytes::Bytes::from_static(raw);
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let which = args.next().unwrap_or_else(|| "switchboard".into());
    let mut ok = 0;
    for _ in 0..n {
        let parsed = match which.as_str() {
            "rsip" => rsip::SipMessage::try_from(raw).is_ok(),
            _ => sip_message::SipMessage::parse(data.clone()).is_ok(),
        };
        ok += usize::from(parsed);
    }
    std::process::exit(if ok == n { 0 } else { 1 });
}
