//! Fuzz target `rtp`: the body lives in `rtp::fuzzing::rtp` so that
//! `crates/rtp/tests/fuzz_corpus.rs` replays the corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rtp::fuzzing::rtp(data);
});
