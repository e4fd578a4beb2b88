//! Replays every file of `fuzz/corpus/sdp` through the fuzz target body
//! (`sdp::fuzzing::sdp`), so the seeds and any crash the fuzzer finds and saves stay
//! checked by a plain `cargo test` on stable.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

#[test]
fn sdp_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/sdp");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 8, "only {} corpus files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        if std::panic::catch_unwind(|| sdp::fuzzing::sdp(&data)).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(failures.is_empty(), "panics on {failures:?}");
}
