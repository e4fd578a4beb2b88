//! Round-trip properties: generated requests and responses print back byte-exact, reparse to
//! the same fields, and show exactly the edits an [`Editor`] made.
#![allow(clippy::unwrap_used)]

mod generated;

use bytes::Bytes;
use generated::{message, sip_uri, Gen};
use proptest::prelude::*;
use sip_message::{parse_strict, Editor, HeaderName, SipMessage};

fn parse(b: &[u8]) -> SipMessage {
    SipMessage::parse(Bytes::copy_from_slice(b)).unwrap_or_else(|e| {
        panic!(
            "{e}: {:?}",
            String::from_utf8_lossy(&b[..b.len().min(2000)])
        )
    })
}

fn fields_of(m: &SipMessage) -> Vec<(HeaderName, String, String)> {
    (0..m.fields().len())
        .map(|i| {
            (
                m.fields()[i].name,
                m.name_of(i).to_string(),
                m.value(i).to_string(),
            )
        })
        .collect()
}

fn check_against_model(g: &Gen, m: &SipMessage) {
    assert_eq!(m.is_request(), g.request);
    if g.request {
        assert_eq!(m.method_str(), g.method);
        assert_eq!(m.request_uri_str(), g.ruri);
        assert!(m.request_uri().is_some());
    } else {
        assert_eq!(m.status(), g.status);
    }
    assert_eq!(m.cseq().method_str, g.method);
    assert_eq!(m.call_id(), g.call_id);
    assert_eq!(m.cseq().seq, g.cseq);
    assert_eq!(m.from_tag(), Some(g.from_tag.as_str()));
    assert_eq!(m.to_tag(), g.to_tag.as_deref());
    assert_eq!(m.via_count(), g.via_count());
    assert_eq!(m.max_forwards(), g.max_forwards);
    assert_eq!(m.content_length(), g.content_length);
    assert_eq!(m.body().as_ref(), &g.body[..]);
    assert_eq!(fields_of(m), g.fields());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    /// (a) exact print, (b) reparse gives the same fields, and both match the model; the
    /// strict parser accepts every generated message.
    #[test]
    fn print_is_exact_and_reparses(g in message()) {
        let bytes = g.bytes();
        let m = parse(&bytes);
        check_against_model(&g, &m);
        prop_assert_eq!(&m.to_vec(), &bytes);
        prop_assert_eq!(&m.wire()[..], &bytes[..]);
        prop_assert_eq!(&Editor::new(&m).to_vec(), &bytes);
        let again = parse(&m.to_vec());
        sip_message::fuzzing::assert_same_message(&m, &again);
        check_against_model(&g, &again);
        let strict = parse_strict(Bytes::from(bytes.clone()));
        prop_assert!(strict.is_ok(), "{:?}", strict.err());
    }

    /// (c) a proxy's edits show up exactly, and nothing else changes.
    #[test]
    fn edits_show_exactly(g in message(), new_ruri in sip_uri(), mf in any::<u8>(),
                          body in prop::collection::vec(any::<u8>(), 0..40)) {
        let bytes = g.bytes();
        let m = parse(&bytes);
        let mut ed = Editor::new(&m);
        let fields = m.fields();
        let first_via = fields.iter().position(|f| f.name == HeaderName::Via).unwrap();
        let first_route = fields.iter().position(|f| f.name == HeaderName::Route);
        let first_rr = fields.iter().position(|f| f.name == HeaderName::RecordRoute);
        let new_via = "SIP/2.0/TCP proxy.example.net:5060;branch=z9hG4bKnew;rport";
        ed.push_front(HeaderName::Via, format_args!("{new_via}"));
        ed.remove(first_via);
        if let Some(r) = first_route {
            ed.remove(r);
        }
        ed.push_front(HeaderName::RecordRoute, format_args!("<sip:proxy.example.net;lr>"));
        ed.set_max_forwards(mf);
        if g.request {
            ed.set_request_uri(format_args!("{new_ruri}"));
        }
        ed.set_body(Some("application/x-new"), &body);
        let out = ed.to_vec();
        // Printing twice gives the same bytes (the editor is reusable).
        prop_assert_eq!(&ed.to_vec(), &out);
        let e = parse(&out);

        // The expected field list, built from the original one.
        let orig = fields_of(&m);
        let mut want: Vec<(HeaderName, String, String)> = Vec::new();
        let rr_anchor = first_rr.unwrap_or(0);
        for (i, f) in orig.iter().enumerate() {
            if i == first_via {
                want.push((HeaderName::Via, "Via".into(), new_via.into()));
            }
            if i == rr_anchor {
                want.push((HeaderName::RecordRoute, "Record-Route".into(),
                           "<sip:proxy.example.net;lr>".into()));
            }
            if i == first_via || Some(i) == first_route {
                continue;
            }
            let mut f = f.clone();
            match f.0 {
                HeaderName::MaxForwards => f.2 = mf.to_string(),
                HeaderName::ContentType => f.2 = "application/x-new".into(),
                HeaderName::ContentLength => f.2 = body.len().to_string(),
                _ => {}
            }
            want.push(f);
        }
        if g.max_forwards.is_none() {
            want.push((HeaderName::MaxForwards, "Max-Forwards".into(), mf.to_string()));
        }
        if g.body.is_empty() {
            want.push((HeaderName::ContentType, "Content-Type".into(),
                       "application/x-new".into()));
        }
        if g.content_length.is_none() {
            want.push((HeaderName::ContentLength, "Content-Length".into(),
                       body.len().to_string()));
        }
        prop_assert_eq!(fields_of(&e), want);
        prop_assert_eq!(e.body().as_ref(), &body[..]);
        prop_assert_eq!(e.max_forwards(), Some(mf));
        prop_assert_eq!(e.branch(), Some("z9hG4bKnew"));
        prop_assert_eq!(e.via_count(), m.via_count());
        prop_assert_eq!(e.call_id(), m.call_id());
        prop_assert_eq!(e.cseq(), m.cseq());
        prop_assert_eq!(e.from_tag(), m.from_tag());
        prop_assert_eq!(e.to_tag(), m.to_tag());
        if g.request {
            prop_assert_eq!(e.request_uri_str(), new_ruri.as_str());
        } else {
            prop_assert_eq!(e.status(), m.status());
            prop_assert_eq!(e.reason(), m.reason());
        }
        // Lines that were not touched are byte-identical.
        for (i, f) in m.fields().iter().enumerate() {
            let touched = matches!(f.name, HeaderName::Via | HeaderName::Route
                | HeaderName::MaxForwards | HeaderName::ContentType | HeaderName::ContentLength);
            if !touched {
                let line = m.line_of(i);
                prop_assert!(e.head().contains(line), "line {:?} lost", line);
            }
        }
    }
}
