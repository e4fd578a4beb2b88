//! Allocations on the parse path: a constant handful, whatever the number of headers.
//!
//! Counting needs a `#[global_allocator]`, i.e. an `unsafe impl GlobalAlloc`, which the
//! workspace forbids (`unsafe_code = "forbid"` cannot be relaxed by an `allow` in a file).
//! The counter therefore wraps the system allocator through `stats_alloc`, whose
//! instrumented allocator is a safe static: this file contains no unsafe code.
#![allow(clippy::unwrap_used)]

use std::alloc::System;

use bytes::Bytes;
use sip_message::{Editor, HeaderName, SipMessage};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const INVITE: &[u8] = include_bytes!("data/invite_sdp.sip");

/// The INVITE with `n` unknown headers added before Content-Type.
fn with_extra_headers(n: usize) -> Vec<u8> {
    let s = std::str::from_utf8(INVITE).unwrap();
    let at = s.find("Content-Type:").unwrap();
    let mut out = s[..at].to_string();
    for i in 0..n {
        out.push_str(&format!("X-Extra-{i}: some value {i}, with a comma\r\n"));
    }
    out.push_str(&s[at..]);
    out.into_bytes()
}

/// Allocations made by `SipMessage::parse` on a buffer handed over as `Bytes`.
fn parse_allocations(data: &[u8]) -> usize {
    // The buffer is made outside the measured region, as a transport would own it.
    let buf = Bytes::copy_from_slice(data);
    let region = Region::new(GLOBAL);
    let m = SipMessage::parse(buf).unwrap();
    let allocs = region.change().allocations + region.change().reallocations;
    assert_eq!(m.call_id(), "3848276298220188511@atlanta.example.com");
    drop(m);
    allocs
}

// The counter is process-wide, so both measurements run in one test (no other test thread
// allocating meanwhile).
#[test]
fn allocation_counts() {
    parsing_allocates_a_constant_small_number_of_times();
    forwarding_prints_into_a_reused_buffer_without_allocating_per_header();
}

fn parsing_allocates_a_constant_small_number_of_times() {
    assert!((880..=940).contains(&INVITE.len()), "{}", INVITE.len());
    // Warm up lazily initialised statics (none expected, but keep the count honest).
    let _ = parse_allocations(INVITE);
    let plain = parse_allocations(INVITE);
    let extra20 = parse_allocations(&with_extra_headers(20));
    let extra100 = parse_allocations(&with_extra_headers(100));
    assert!(
        plain <= 4,
        "parse made {plain} allocations ({extra20} with 20 extra headers, {extra100} with 100)"
    );
    assert_eq!(plain, extra20, "allocations depend on the header count");
    assert_eq!(plain, extra100, "allocations depend on the header count");
}

fn forwarding_prints_into_a_reused_buffer_without_allocating_per_header() {
    let m = SipMessage::parse(Bytes::from_static(INVITE)).unwrap();
    let mut out = Vec::with_capacity(4096);
    let count = |out: &mut Vec<u8>| {
        let region = Region::new(GLOBAL);
        let mut ed = Editor::new(&m);
        ed.push_front(
            HeaderName::Via,
            format_args!("SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK{}", 77),
        );
        ed.set_max_forwards(69);
        ed.remove(m.header_values(HeaderName::Route).next().unwrap().0);
        ed.push_front(
            HeaderName::RecordRoute,
            format_args!("<sip:203.0.113.5;lr>"),
        );
        out.clear();
        ed.write_to(out);
        let c = region.change();
        c.allocations + c.reallocations
    };
    let first = count(&mut out);
    let second = count(&mut out);
    assert_eq!(first, second);
    // The editor's op list, text arena, removal list and one copy of the ops while printing.
    assert!(first <= 8, "forwarding made {first} allocations");
}
