//! The body of the fuzz target `sdp` in `fuzz/fuzz_targets/`, kept here so that the fuzzer
//! and the corpus replay test (`tests/fuzz_corpus.rs`) run the same code. It takes any
//! bytes and panics only when an invariant of this crate is broken.

use std::net::IpAddr;

use crate::{accept_answer, negotiate, LocalCapabilities, SessionDescription};

/// Target `sdp`: parse; a parsed body prints to text that parses to the same
/// description and prints the same again; answering it never panics, and a successful
/// answer is itself a description our own offer side accepts.
pub fn sdp(data: &[u8]) {
    let Ok(sd) = SessionDescription::parse_bytes(data) else {
        return;
    };
    let printed = sd.to_string();
    let again = match SessionDescription::parse(&printed) {
        Ok(again) => again,
        Err(e) => panic!("own print does not parse: {e}\n{printed}"),
    };
    assert_eq!(again, sd);
    assert_eq!(again.to_string(), printed);
    for i in 0..sd.media.len() {
        let _ = (sd.media_direction(i), sd.media_connection(i));
    }
    let local = LocalCapabilities::new(IpAddr::from([127, 0, 0, 1]), 20000, 1);
    match negotiate(&sd, &local) {
        Ok(n) => {
            assert_eq!(n.answer.media.len(), sd.media.len());
            let reparsed = SessionDescription::parse(&n.answer.to_string());
            assert_eq!(reparsed.as_ref().ok(), Some(&n.answer));
            let s = accept_answer(&sd, &n.answer);
            assert!(s.is_ok(), "own answer refused: {s:?}");
        }
        Err(e) => {
            let _ = (e.status(), e.reason_phrase(), e.warning(), e.to_string());
        }
    }
}
