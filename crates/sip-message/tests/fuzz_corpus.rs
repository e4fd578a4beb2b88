//! Replays every file of `fuzz/corpus/{message,uri,stream_framing}` through the fuzz target
//! bodies (`sip_message::fuzzing`), so the seeds and any crash the fuzzer finds and saves
//! stay checked by a plain `cargo test` on stable.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn replay(target: &str, min_files: usize, run: fn(&[u8])) {
    let files = corpus(target);
    assert!(
        files.len() >= min_files,
        "{target}: only {} corpus files",
        files.len()
    );
    let mut failures = Vec::new();
    for (name, data) in &files {
        if std::panic::catch_unwind(|| run(data)).is_err() {
            failures.push(name.clone());
        }
    }
    assert!(failures.is_empty(), "{target}: panics on {failures:?}");
}

#[test]
fn message_corpus() {
    // The 50 RFC 4475 messages and our own seeds.
    replay("message", 54, sip_message::fuzzing::message);
}

#[test]
fn uri_corpus() {
    replay("uri", 10, sip_message::fuzzing::uri);
}

#[test]
fn stream_framing_corpus() {
    replay("stream_framing", 5, sip_message::fuzzing::stream_framing);
}

#[test]
fn message_corpus_also_framed_as_a_stream() {
    // Every message seed, fed as a stream behind four chunk-size bytes.
    for (_, data) in corpus("message") {
        let mut d = vec![3, 17, 1, 40];
        d.extend_from_slice(&data);
        sip_message::fuzzing::stream_framing(&d);
    }
}
