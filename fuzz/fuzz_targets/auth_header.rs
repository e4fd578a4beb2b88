//! Fuzzes the `sip-auth` challenge and credentials parsers: no input may
//! panic, and anything that parses must print and re-parse to an equal value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_auth::{Challenge, Credentials};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Challenge::parse_bytes(data) {
        let printed = c.to_string();
        let again = Challenge::parse(&printed).expect("printed challenge must parse");
        assert_eq!(again, c);
    }
    if let Ok(c) = Credentials::parse_bytes(data) {
        let printed = c.to_string();
        let again = Credentials::parse(&printed).expect("printed credentials must parse");
        assert_eq!(again, c);
    }
});
