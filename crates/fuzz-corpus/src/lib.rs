//! The fuzz corpora (`fuzz/corpus/<target>`) in plain `cargo test`: read a target's seeds,
//! replay them through a fuzz target body, and run a deterministic mutation loop over them,
//! so the seeds and every crash the fuzzer saves stay checked on stable.
//!
//! Owns: finding and reading corpus files, the xorshift generator, the byte mutator and the
//! mutation loop (with the failing input saved to the temp directory). Does not own: what a
//! target checks (each crate's `fuzzing` module) nor the dictionaries (each test names the
//! tokens its grammar cares about). A dev-dependency only: it depends on no workspace crate,
//! so every crate, down to the sans-IO ones, may use it.
//!
//! Being a test helper, it panics (with the path) where a corpus cannot be read.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod mutate;

pub use mutate::{mutation_iterations, run_mutations, Mutator, XorShift};

use std::panic::{catch_unwind, RefUnwindSafe};
use std::path::PathBuf;

/// The folder of one fuzz target's corpus: `fuzz/corpus/<target>` at the workspace root.
pub fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

/// Every file of a target's corpus, sorted by name, as `(file name, bytes)`.
///
/// Panics (naming the folder or file) when the corpus cannot be read.
pub fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, data)
        })
        .collect()
}

/// The bytes of every file of the named targets' corpora, target after target.
pub fn seeds(targets: &[&str]) -> Vec<Vec<u8>> {
    targets
        .iter()
        .flat_map(|t| corpus(t).into_iter().map(|(_, data)| data))
        .collect()
}

/// Feeds every file of `target`'s corpus to `run`; asserts the corpus holds at least
/// `min_files` files and that no file makes `run` panic (the panics are listed by file name).
pub fn replay(target: &str, min_files: usize, run: impl Fn(&[u8]) + RefUnwindSafe) {
    let files = corpus(target);
    assert!(
        files.len() >= min_files,
        "{target}: only {} corpus files",
        files.len()
    );
    let failures: Vec<&str> = files
        .iter()
        .filter(|(_, data)| catch_unwind(|| run(data)).is_err())
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(failures.is_empty(), "{target}: panics on {failures:?}");
}
