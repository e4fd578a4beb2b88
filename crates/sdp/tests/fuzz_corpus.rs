//! Replays every file of `fuzz/corpus/sdp` through the fuzz target body
//! (`sdp::fuzzing::sdp`), so the seeds and any crash the fuzzer finds and saves stay
//! checked by a plain `cargo test` on stable.

#[test]
fn sdp_corpus() {
    fuzz_corpus::replay("sdp", 8, sdp::fuzzing::sdp);
}
