//! Replays every file of `fuzz/corpus/dialog` through the fuzz target body
//! (`sip_dialog::fuzzing::dialog`), so `cargo test` runs what the fuzzer found.

#[test]
fn dialog_corpus() {
    fuzz_corpus::replay("dialog", 6, sip_dialog::fuzzing::dialog);
}
