//! Runs the parsers over the fuzz seed corpus in `fuzz/corpus/auth_header/`:
//! nothing may panic, and every value that parses must print and re-parse
//! to an equal value (the same property the `auth_header` fuzz target checks).

use std::fs;
use std::path::PathBuf;

use sip_auth::{Challenge, Credentials};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/auth_header")
}

fn check(data: &[u8]) -> (bool, bool) {
    let challenge = Challenge::parse_bytes(data).ok();
    if let Some(c) = &challenge {
        let printed = c.to_string();
        let again = Challenge::parse(&printed).expect("printed challenge must parse");
        assert_eq!(&again, c, "challenge round trip: {printed}");
    }
    let credentials = Credentials::parse_bytes(data).ok();
    if let Some(c) = &credentials {
        let printed = c.to_string();
        let again = Credentials::parse(&printed).expect("printed credentials must parse");
        assert_eq!(&again, c, "credentials round trip: {printed}");
    }
    (challenge.is_some(), credentials.is_some())
}

#[test]
fn corpus_parses_without_panics_and_round_trips() {
    let mut files = 0;
    let mut parsed = 0;
    for entry in fs::read_dir(corpus_dir()).expect("corpus directory exists") {
        let path = entry.expect("readable directory entry").path();
        if !path.is_file() {
            continue;
        }
        let data = fs::read(&path).expect("readable corpus file");
        let (challenge, credentials) = check(&data);
        files += 1;
        parsed += usize::from(challenge || credentials);
        // Every prefix must be handled too (truncation is the commonest
        // malformation).
        for end in 0..data.len() {
            check(&data[..end]);
        }
    }
    assert!(files >= 10, "expected a seed corpus, found {files} files");
    assert!(parsed >= 5, "expected valid seeds, only {parsed} parsed");
}
