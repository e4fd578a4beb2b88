//! Parse and forward cost of a realistic INVITE with SDP (`tests/data/invite_sdp.sip`, 913
//! bytes: Via with rport, Max-Forwards, Route, Record-Route, Contact, From/To with tags,
//! Call-ID, CSeq, Allow, Supported, User-Agent, Content-Type, Content-Length and the SDP of
//! a softphone), against the `rsip` 0.4 crate on the same bytes.
//!
//! Benchmark ids are stable, for comparing runs:
//! `parse/invite_sdp_900B/{switchboard,switchboard_strict,rsip}` and
//! `parse_add_via_print/{switchboard,rsip}`.
//!
//! Run: `cargo bench -p sip-message --bench parse -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_main, Criterion, Throughput};
use rsip::headers::UntypedHeader;
use sip_message::{parse_strict, Editor, HeaderName, SipMessage};

const INVITE: &[u8] = include_bytes!("../tests/data/invite_sdp.sip");
const NEW_VIA: &str = "SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-bench-1";

fn parse(c: &mut Criterion) {
    // Both parsers must accept the message, or the comparison is meaningless.
    SipMessage::parse(Bytes::from_static(INVITE)).expect("switchboard parses the INVITE");
    rsip::SipMessage::try_from(INVITE).expect("rsip parses the INVITE");

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(INVITE.len() as u64));
    g.bench_function("invite_sdp_900B/switchboard", |b| {
        b.iter(|| SipMessage::parse(black_box(Bytes::from_static(INVITE))))
    });
    g.bench_function("invite_sdp_900B/switchboard_strict", |b| {
        b.iter(|| parse_strict(black_box(Bytes::from_static(INVITE))))
    });
    g.bench_function("invite_sdp_900B/rsip", |b| {
        b.iter(|| rsip::SipMessage::try_from(black_box(INVITE)))
    });
    g.finish();
}

fn switchboard_add_via_print(out: &mut Vec<u8>) {
    let m = SipMessage::parse(Bytes::from_static(INVITE)).expect("parses");
    let mut ed = Editor::new(&m);
    ed.push_front(HeaderName::Via, format_args!("{NEW_VIA}"));
    out.clear();
    ed.write_to(out);
}

fn rsip_add_via_print() -> String {
    let msg = rsip::SipMessage::try_from(INVITE).expect("parses");
    let rsip::SipMessage::Request(mut req) = msg else {
        unreachable!("the INVITE is a request")
    };
    let mut headers: Vec<rsip::Header> = std::mem::take(&mut req.headers).into();
    headers.insert(0, rsip::Header::Via(rsip::headers::Via::new(NEW_VIA)));
    req.headers = headers.into();
    req.to_string()
}

fn parse_add_via_print(c: &mut Criterion) {
    // Same result from both (modulo header order, rsip puts the Via first).
    let mut out = Vec::new();
    switchboard_add_via_print(&mut out);
    let ours = String::from_utf8(out.clone()).expect("utf-8");
    let theirs = rsip_add_via_print();
    assert!(ours.contains(&format!("\r\nVia: {NEW_VIA}\r\n")));
    assert!(theirs.contains(&format!("\r\nVia: {NEW_VIA}\r\n")));
    assert_eq!(ours.len(), theirs.len(), "{ours}\n---\n{theirs}");

    let mut g = c.benchmark_group("parse_add_via_print");
    g.throughput(Throughput::Bytes(INVITE.len() as u64));
    g.bench_function("switchboard", |b| {
        b.iter(|| switchboard_add_via_print(black_box(&mut out)))
    });
    g.bench_function("rsip", |b| b.iter(rsip_add_via_print));
    g.finish();
}

// The macro defines an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::parse, super::parse_add_via_print);
}
criterion_main!(group::benches);
