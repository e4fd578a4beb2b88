//! Replays every file of `fuzz/corpus/dialog` through the fuzz target body
//! (`sip_dialog::fuzzing::dialog`), so `cargo test` runs what the fuzzer found.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

#[test]
fn dialog_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/dialog");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() >= 6, "only {} corpus files", files.len());
    for f in files {
        sip_dialog::fuzzing::dialog(&std::fs::read(&f).unwrap());
    }
}
