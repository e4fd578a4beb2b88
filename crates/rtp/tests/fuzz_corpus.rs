//! Replays every file of `fuzz/corpus/{rtp,rtcp}` through the fuzz target bodies
//! (`rtp::fuzzing`), so the seeds and any crash the fuzzer finds and saves stay checked by
//! a plain `cargo test` on stable.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn replay(target: &str, min_files: usize, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= min_files,
        "{target}: only {} corpus files",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(failures.is_empty(), "{target}: panics on {failures:?}");
}

#[test]
fn rtp_corpus() {
    replay("rtp", 5, rtp::fuzzing::rtp);
}

#[test]
fn rtcp_corpus() {
    replay("rtcp", 4, rtp::fuzzing::rtcp);
}
