//! Fuzz target `dialog`: the body lives in `sip_dialog::fuzzing::dialog` so that
//! `crates/sip-dialog/tests/fuzz_corpus.rs` replays the corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sip_dialog::fuzzing::dialog(data);
});
