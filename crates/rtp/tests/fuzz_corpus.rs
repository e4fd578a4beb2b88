//! Replays every file of `fuzz/corpus/{rtp,rtcp}` through the fuzz target bodies
//! (`rtp::fuzzing`), so the seeds and any crash the fuzzer finds and saves stay checked by
//! a plain `cargo test` on stable.
use fuzz_corpus::replay;

#[test]
fn rtp_corpus() {
    replay("rtp", 5, rtp::fuzzing::rtp);
}

#[test]
fn rtcp_corpus() {
    replay("rtcp", 4, rtp::fuzzing::rtcp);
}
