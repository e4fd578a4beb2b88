//! The Presence Information Data Format (PIDF, RFC 3863): a device's published document
//! read and checked ([`parse`], every refusal a reason phrase naming the problem), and the
//! document a watcher is NOTIFYed: all of a user's devices composed into one, their tuples
//! side by side ([`compose`]).
//!
//! What is kept of a published document: per tuple its `id`, `<basic>` status, `<contact>`
//! (with its priority), `<note>`s and `<timestamp>`; the presence-level `<note>`s.
//! Extensions (RPID and others) are dropped when composing. A user with no publication is
//! one `closed` tuple.
//!
//! Not here: who published what and until when (`publications.rs`).

use std::collections::HashSet;
use std::fmt::Write as _;

use quick_xml::escape::escape;

use super::xml::{self, Element};

/// The PUBLISH and NOTIFY body's content type.
pub const CONTENT_TYPE: &str = "application/pidf+xml";
/// The PIDF namespace.
pub const NS: &str = "urn:ietf:params:xml:ns:pidf";
/// Most tuples one published document may carry.
pub const MAX_TUPLES: usize = 32;

/// A tuple's `<basic>` status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Basic {
    /// Ready to communicate.
    Open,
    /// Not.
    Closed,
}

impl Basic {
    fn as_str(self) -> &'static str {
        match self {
            Basic::Open => "open",
            Basic::Closed => "closed",
        }
    }
}

/// A `<note>` (its `xml:lang` is not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    /// The note's text, trimmed.
    pub text: String,
}

/// One tuple of a published document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tuple {
    /// Its `id`.
    pub id: String,
    /// Its `<status><basic>`, when given.
    pub basic: Option<Basic>,
    /// Its `<contact>` and the contact's `priority`.
    pub contact: Option<(String, Option<String>)>,
    /// Its `<note>`s.
    pub notes: Vec<Note>,
    /// Its `<timestamp>`.
    pub timestamp: Option<String>,
}

/// A published document, as kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Document {
    /// Its tuples, in order.
    pub tuples: Vec<Tuple>,
    /// Its presence-level `<note>`s.
    pub notes: Vec<Note>,
}

/// Why a PIDF body was refused (the reason phrase of a 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PidfError {
    /// Not XML at all.
    Xml(xml::XmlError),
    /// The root is not `<presence>` in the PIDF namespace.
    NotPidf,
    /// `<presence>` has no `entity`.
    NoEntity,
    /// A `<tuple>` has no `id`.
    TupleWithoutId,
    /// Two tuples share an `id`.
    DuplicateTupleId,
    /// A `<tuple>` has no `<status>`.
    TupleWithoutStatus,
    /// `<basic>` is neither `open` nor `closed`.
    BadBasic,
    /// More than [`MAX_TUPLES`] tuples.
    TooManyTuples,
}

impl PidfError {
    /// The reason phrase of the 400.
    pub fn reason(self) -> &'static str {
        match self {
            PidfError::Xml(e) => e.reason(),
            PidfError::NotPidf => "Not A PIDF Presence Document",
            PidfError::NoEntity => "PIDF Presence Without Entity",
            PidfError::TupleWithoutId => "PIDF Tuple Without Id",
            PidfError::DuplicateTupleId => "PIDF Duplicate Tuple Id",
            PidfError::TupleWithoutStatus => "PIDF Tuple Without Status",
            PidfError::BadBasic => "PIDF Basic Status Not Open Or Closed",
            PidfError::TooManyTuples => "PIDF Has Too Many Tuples",
        }
    }
}

fn notes(e: &Element) -> Vec<Note> {
    e.children(NS, "note")
        .map(|n| Note {
            text: n.text.trim().to_string(),
        })
        .collect()
}

/// Reads and checks a published PIDF body.
pub(crate) fn parse(body: &[u8]) -> Result<Document, PidfError> {
    let root = xml::parse(body).map_err(PidfError::Xml)?;
    if root.ns != NS || root.name != "presence" {
        return Err(PidfError::NotPidf);
    }
    if root.attr("entity").is_none_or(|e| e.trim().is_empty()) {
        return Err(PidfError::NoEntity);
    }
    let mut doc = Document {
        notes: notes(&root),
        ..Document::default()
    };
    let mut ids = HashSet::new();
    for t in root.children(NS, "tuple") {
        if doc.tuples.len() == MAX_TUPLES {
            return Err(PidfError::TooManyTuples);
        }
        let id = t
            .attr("id")
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .ok_or(PidfError::TupleWithoutId)?;
        if !ids.insert(id.to_string()) {
            return Err(PidfError::DuplicateTupleId);
        }
        let status = t.child(NS, "status").ok_or(PidfError::TupleWithoutStatus)?;
        let basic = match status.child(NS, "basic").map(|b| b.text.trim()) {
            None => None,
            Some("open") => Some(Basic::Open),
            Some("closed") => Some(Basic::Closed),
            Some(_) => return Err(PidfError::BadBasic),
        };
        doc.tuples.push(Tuple {
            id: id.to_string(),
            basic,
            contact: t.child(NS, "contact").map(|c| {
                (
                    c.text.trim().to_string(),
                    c.attr("priority").map(str::to_string),
                )
            }),
            notes: notes(t),
            timestamp: t.child(NS, "timestamp").map(|s| s.text.trim().to_string()),
        });
    }
    Ok(doc)
}

fn write_notes(out: &mut String, notes: &[Note]) {
    for n in notes {
        let _ = write!(out, "<note>{}</note>", escape(n.text.as_str()));
    }
}

/// The composed document of `entity` (`sip:user@domain`) from its devices' documents, in
/// publication order. A tuple id met twice (two devices both say `t1`) gets a suffix.
/// No tuple at all: one `closed` tuple.
pub(crate) fn compose<'a>(entity: &str, docs: impl IntoIterator<Item = &'a Document>) -> String {
    let mut out = String::with_capacity(512);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<presence xmlns=\"{NS}\" entity=\"{}\">\n",
        escape(entity)
    );
    let mut ids: HashSet<String> = HashSet::new();
    let mut person_notes = Vec::new();
    for doc in docs {
        person_notes.extend(doc.notes.iter().cloned());
        for t in &doc.tuples {
            let mut id = t.id.clone();
            let mut n = 2;
            while ids.contains(&id) {
                id = format!("{}-{n}", t.id);
                n += 1;
            }
            ids.insert(id.clone());
            let _ = write!(out, "<tuple id=\"{}\"><status>", escape(id.as_str()));
            if let Some(b) = t.basic {
                let _ = write!(out, "<basic>{}</basic>", b.as_str());
            }
            out.push_str("</status>");
            if let Some((c, prio)) = &t.contact {
                match prio {
                    Some(p) => {
                        let _ = write!(
                            out,
                            "<contact priority=\"{}\">{}</contact>",
                            escape(p.as_str()),
                            escape(c.as_str())
                        );
                    }
                    None => {
                        let _ = write!(out, "<contact>{}</contact>", escape(c.as_str()));
                    }
                }
            }
            write_notes(&mut out, &t.notes);
            if let Some(ts) = &t.timestamp {
                let _ = write!(out, "<timestamp>{}</timestamp>", escape(ts.as_str()));
            }
            out.push_str("</tuple>\n");
        }
    }
    if ids.is_empty() {
        out.push_str("<tuple id=\"switchboard\"><status><basic>closed</basic></status></tuple>\n");
    }
    write_notes(&mut out, &person_notes);
    out.push_str("</presence>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESK: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:bob@example.com">
  <tuple id="t1">
    <status><basic>open</basic></status>
    <contact priority="0.8">sip:bob@192.0.2.5</contact>
    <note>At my desk &amp; ready</note>
  </tuple>
</presence>"#;

    const MOBILE: &str = r#"<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:p="urn:ietf:params:xml:ns:pidf" entity="pres:bob@example.com">
  <p:tuple id="t1"><p:status><p:basic>closed</p:basic></p:status><p:note>In a meeting</p:note></p:tuple>
  <note>Back at 3</note>
</presence>"#;

    #[test]
    fn two_devices_compose_into_one_document_with_both_tuples() {
        let desk = parse(DESK.as_bytes()).unwrap();
        assert_eq!(desk.tuples[0].basic, Some(Basic::Open));
        assert_eq!(desk.tuples[0].notes[0].text, "At my desk & ready");
        let mobile = parse(MOBILE.as_bytes()).unwrap();
        let doc = compose("sip:bob@example.com", [&desk, &mobile]);
        assert!(doc.contains("entity=\"sip:bob@example.com\""), "{doc}");
        assert!(doc.contains("<tuple id=\"t1\"><status><basic>open</basic></status><contact priority=\"0.8\">sip:bob@192.0.2.5</contact><note>At my desk &amp; ready</note></tuple>"), "{doc}");
        assert!(doc.contains("<tuple id=\"t1-2\"><status><basic>closed</basic></status><note>In a meeting</note></tuple>"), "{doc}");
        assert!(doc.contains("<note>Back at 3</note></presence>"), "{doc}");
        // The composition is itself a valid PIDF document with both tuples.
        assert_eq!(parse(doc.as_bytes()).unwrap().tuples.len(), 2);
    }

    #[test]
    fn nobody_published_is_closed() {
        let doc = compose("sip:bob@example.com", []);
        let back = parse(doc.as_bytes()).unwrap();
        assert_eq!(back.tuples.len(), 1);
        assert_eq!(back.tuples[0].basic, Some(Basic::Closed));
    }

    #[test]
    fn malformed_documents_name_the_problem() {
        let pidf = |inner: &str| {
            format!("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:b@x\">{inner}</presence>")
        };
        let err = |b: &str| parse(b.as_bytes()).unwrap_err().reason();
        assert_eq!(err("<presence"), "Malformed XML");
        assert_eq!(
            err("<presence entity=\"sip:b@x\"/>"),
            "Not A PIDF Presence Document"
        );
        assert_eq!(
            err("<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\"/>"),
            "Not A PIDF Presence Document"
        );
        assert_eq!(
            err("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"/>"),
            "PIDF Presence Without Entity"
        );
        assert_eq!(
            err(&pidf("<tuple><status/></tuple>")),
            "PIDF Tuple Without Id"
        );
        assert_eq!(err(&pidf("<tuple id=\"a\"/>")), "PIDF Tuple Without Status");
        assert_eq!(
            err(&pidf(
                "<tuple id=\"a\"><status><basic>busy</basic></status></tuple>"
            )),
            "PIDF Basic Status Not Open Or Closed"
        );
        assert_eq!(
            err(&pidf(
                "<tuple id=\"a\"><status/></tuple><tuple id=\"a\"><status/></tuple>"
            )),
            "PIDF Duplicate Tuple Id"
        );
        let many: String = (0..=MAX_TUPLES)
            .map(|i| format!("<tuple id=\"t{i}\"><status/></tuple>"))
            .collect();
        assert_eq!(err(&pidf(&many)), "PIDF Has Too Many Tuples");
        assert!(parse(pidf("").as_bytes()).unwrap().tuples.is_empty());
    }
}
