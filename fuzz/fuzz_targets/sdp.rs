//! Fuzz target `sdp`: the body lives in `sdp::fuzzing::sdp` so that
//! `crates/sdp/tests/fuzz_corpus.rs` replays the corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sdp::fuzzing::sdp(data);
});
