//! Fuzz target `stream_framing`: the body lives in `sip_message::fuzzing::stream_framing` so that
//! `crates/sip-message/tests/fuzz_corpus.rs` replays the corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sip_message::fuzzing::stream_framing(data);
});
