//! The bodies of the fuzz targets in `fuzz/fuzz_targets/`, kept here so that the fuzzer and
//! the corpus replay test (`tests/fuzz_corpus.rs`) run exactly the same code. Each function
//! takes arbitrary bytes and panics only when an invariant of this crate is broken.

use bytes::Bytes;

use crate::header_name::HeaderName;
use crate::message::SipMessage;
use crate::name_addr::{parse_contact_list, ContactValue, NameAddr};
use crate::params::Params;
use crate::parse::{parse_strict, Limits};
use crate::stream::{Frame, FramingError, StreamFramer};
use crate::uri::Uri;
use crate::via::Via;
use crate::{CSeq, Editor};

/// Asserts that two parses of the same message agree on everything a hop looks at.
pub fn assert_same_message(a: &SipMessage, b: &SipMessage) {
    assert_eq!(a.start_line(), b.start_line());
    assert_eq!(a.status(), b.status());
    assert_eq!(a.method_str(), b.method_str());
    assert_eq!(a.request_uri_str(), b.request_uri_str());
    assert_eq!(a.call_id(), b.call_id());
    assert_eq!(a.cseq(), b.cseq());
    assert_eq!(a.from_tag(), b.from_tag());
    assert_eq!(a.to_tag(), b.to_tag());
    assert_eq!(a.branch(), b.branch());
    assert_eq!(a.via_count(), b.via_count());
    assert_eq!(a.max_forwards(), b.max_forwards());
    assert_eq!(a.content_length(), b.content_length());
    assert_eq!(a.body(), b.body());
    assert_eq!(a.fields().len(), b.fields().len());
    for i in 0..a.fields().len() {
        assert_eq!(a.fields()[i].name, b.fields()[i].name);
        assert_eq!(a.name_of(i), b.name_of(i));
        assert_eq!(a.value(i), b.value(i));
    }
}

fn tolerable(e: &crate::ParseError) -> bool {
    // Edits may push a message over the size or header-count limits.
    matches!(
        e,
        crate::ParseError::TooLarge | crate::ParseError::TooManyHeaders
    )
}

/// Target `message`: parse, strict parse, exact print, reparse, edit like a proxy hop, print
/// and reparse the result.
pub fn message(data: &[u8]) {
    let strict = parse_strict(Bytes::copy_from_slice(data));
    let m = match SipMessage::parse(Bytes::copy_from_slice(data)) {
        Ok(m) => m,
        Err(e) => {
            assert!(strict.is_err(), "strict parse accepted what parse refused");
            let _ = (e.status(), e.is_silent(), e.to_string());
            return;
        }
    };
    if let Ok(s) = &strict {
        assert_same_message(&m, s);
    }
    // Every lazily parsed accessor must not panic.
    let _ = (m.from(), m.to(), m.top_via(), m.request_uri(), m.expires());
    let _ = (m.method(), m.reason(), m.head(), m.start_line());
    for (i, f) in m.fields().iter().enumerate() {
        assert!(f.value.end <= f.line.end && f.line.start >= m.headers_start() as u32);
        let _ = (m.line_of(i), m.name_of(i), m.header_by_name(m.name_of(i)));
    }

    // An unedited message prints as the bytes it was parsed from (less leading CRLFs and
    // octets after Content-Length).
    let printed = m.to_vec();
    let lead = data
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    assert_eq!(&data[lead..lead + printed.len()], &printed[..]);
    let again = SipMessage::parse(Bytes::from(printed)).expect("own print reparses");
    assert_same_message(&m, &again);

    // An unedited editor prints the same bytes.
    assert_eq!(Editor::new(&m).to_vec(), m.to_vec());
    assert_eq!(&m.wire()[..], &m.to_vec()[..]);

    // Edit like a proxy hop (or like a proxy passing a response upstream).
    let mut ed = Editor::new(&m);
    let top = m.top_via_index();
    if m.is_request() {
        ed.push_front(
            HeaderName::Via,
            format_args!("SIP/2.0/UDP fuzz.invalid;branch=z9hG4bKfuzz;rport"),
        );
        ed.remove(top);
        let route = m.fields().iter().position(|f| f.name == HeaderName::Route);
        if let Some(r) = route {
            ed.remove(r);
        }
        ed.push_front(
            HeaderName::RecordRoute,
            format_args!("<sip:fuzz.invalid;lr>"),
        );
        ed.set_max_forwards(m.max_forwards().unwrap_or(70).saturating_sub(1));
        let out = ed.to_vec();
        match SipMessage::parse(Bytes::from(out)) {
            Ok(e) => {
                assert_eq!(e.branch(), Some("z9hG4bKfuzz"));
                assert_eq!(e.via_count(), m.via_count());
                assert_eq!(
                    e.max_forwards(),
                    Some(m.max_forwards().unwrap_or(70).saturating_sub(1))
                );
                assert_eq!(e.call_id(), m.call_id());
                assert_eq!(e.cseq(), m.cseq());
                assert_eq!(e.request_uri_str(), m.request_uri_str());
                assert_eq!(e.body(), m.body());
                let routes = |x: &SipMessage| x.header_values(HeaderName::Route).count();
                assert_eq!(routes(&e) + usize::from(route.is_some()), routes(&m));
                let rr = |x: &SipMessage| x.header_values(HeaderName::RecordRoute).count();
                assert_eq!(rr(&e), rr(&m) + 1);
                assert_eq!(
                    e.header(HeaderName::RecordRoute),
                    Some("<sip:fuzz.invalid;lr>")
                );
            }
            Err(e) => assert!(tolerable(&e), "edited request does not reparse: {e}"),
        }
    } else if m.via_count() > 1 {
        ed.remove(top);
        let out = ed.to_vec();
        match SipMessage::parse(Bytes::from(out)) {
            Ok(e) => {
                assert_eq!(e.via_count() + 1, m.via_count());
                assert_eq!(e.status(), m.status());
                assert_eq!(e.call_id(), m.call_id());
                assert_eq!(e.body(), m.body());
            }
            // The second Via was never validated by the lenient parser.
            Err(crate::ParseError::BadHeader { header: "Via", .. }) => {}
            Err(e) => assert!(tolerable(&e), "edited response does not reparse: {e}"),
        }
    }

    // A new body keeps the message framed.
    let mut ed = Editor::new(&m);
    ed.set_body(Some("application/x-fuzz"), b"0123456789");
    if let Ok(e) = SipMessage::parse(Bytes::from(ed.to_vec())) {
        assert_eq!(e.body().as_ref(), b"0123456789");
        assert_eq!(e.content_length(), Some(10));
    }
}

/// Target `uri`: the URI, name-addr, Contact, Via, CSeq and parameter parsers on one string.
pub fn uri(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(u) = Uri::parse(s) {
        assert_eq!(u.raw, s);
        let _ = (u.is_sip(), u.is_loose_router(), u.transport_param());
        let _ = (u.host_unbracketed(), u.param("user"), u.param("maddr"));
    }
    if let Ok(n) = NameAddr::parse(s) {
        let _ = (n.tag(), n.param("expires"), n.uri.param("lr"));
    }
    let _ = ContactValue::parse(s);
    for c in parse_contact_list(s) {
        let _ = c;
    }
    if let Ok(v) = Via::parse(s) {
        let _ = (
            v.branch(),
            v.received(),
            v.rport(),
            v.maddr(),
            v.is_rfc3261(),
        );
    }
    let _ = CSeq::parse(s);
    if Params::validate(s).is_ok() {
        for p in Params::new(s) {
            assert!(p.is_ok());
        }
    }
    for p in Params::new(s).take(64) {
        let _ = p;
    }
    let _ = HeaderName::parse(s).as_str();
    let _ = crate::text::split_commas(s).count();
}

/// Feeds `stream` to a framer in one piece, collecting frames up to the first error.
pub fn frames_whole(stream: &[u8], limits: (usize, usize)) -> Vec<Result<Frame, FramingError>> {
    frames_chunked(stream, &[stream.len().max(1)], limits)
}

/// Feeds `stream` to a framer in chunks of the given sizes (cycled; zero counts as one),
/// draining frames after each chunk, up to the first error.
pub fn frames_chunked(
    stream: &[u8],
    sizes: &[usize],
    limits: (usize, usize),
) -> Vec<Result<Frame, FramingError>> {
    let mut f = StreamFramer::new(limits.0, limits.1);
    let mut out = Vec::new();
    let mut pos = 0;
    let mut k = 0;
    while pos < stream.len() {
        let n = sizes
            .get(k % sizes.len().max(1))
            .copied()
            .unwrap_or(1)
            .max(1);
        k += 1;
        let end = (pos + n).min(stream.len());
        f.extend(&stream[pos..end]);
        pos = end;
        loop {
            match f.next_frame() {
                Ok(Some(frame)) => out.push(Ok(frame)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            }
        }
    }
    out
}

/// Target `stream_framing`: the first four bytes choose chunk sizes, the rest is the stream.
/// Any chunking must give the same frames as one piece; every message frame must parse or
/// fail cleanly.
pub fn stream_framing(data: &[u8]) {
    let (ctl, stream) = data.split_at(data.len().min(4));
    let sizes: Vec<usize> = ctl.iter().map(|&b| usize::from(b % 64) + 1).collect();
    let sizes = if sizes.is_empty() { vec![1] } else { sizes };
    let limits = (2048, 4096);
    let whole = frames_whole(stream, limits);
    let chunked = frames_chunked(stream, &sizes, limits);
    assert_eq!(whole, chunked);
    // Byte by byte is quadratic in the framer's rescans: keep it to short streams so the
    // fuzzer stays fast.
    if stream.len() <= 1024 {
        let bytewise = frames_chunked(stream, &[1], limits);
        assert_eq!(whole, bytewise);
    }
    for f in whole.iter().flatten() {
        if let Frame::Message(m) = f {
            if let Ok(msg) = SipMessage::parse_with(m.clone(), &Limits::default()) {
                let lead = m.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
                assert_eq!(msg.to_vec().len() + lead, m.len());
            }
        }
    }
}
