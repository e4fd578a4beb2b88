//! Runs the parsers over the fuzz seed corpus in `fuzz/corpus/auth_header/`:
//! nothing may panic, and every value that parses must print and re-parse
//! to an equal value (the same property the `auth_header` fuzz target checks).

use fuzz_corpus::{corpus, XorShift};
use sip_auth::{Challenge, Credentials};

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
    for (_, data) in corpus("auth_header") {
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

/// Deterministic mutations of every seed (a poor man's fuzzer that runs in
/// plain `cargo test`): overwrite, insert and delete bytes, biased towards
/// the grammar's delimiters.
#[test]
fn mutated_corpus_round_trips() {
    const INTERESTING: &[u8] = b"\"\\,= \t\r\n\0\x7f\xc3\xa9aA0-*";
    let mut rnd = XorShift::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move || rnd.next_u64();
    for (_, seed) in corpus("auth_header") {
        for _ in 0..300 {
            let mut data = seed.clone();
            for _ in 0..(1 + next() % 4) {
                let pick = INTERESTING[(next() % INTERESTING.len() as u64) as usize];
                let at = if data.is_empty() {
                    0
                } else {
                    (next() % data.len() as u64) as usize
                };
                match next() % 3 {
                    0 if !data.is_empty() => data[at] = pick,
                    1 if !data.is_empty() => {
                        data.remove(at);
                    }
                    _ => data.insert(at, pick),
                }
            }
            check(&data);
        }
    }
}
