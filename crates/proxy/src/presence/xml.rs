//! A small element tree read from a PUBLISH body (PIDF, dialog-info) with quick-xml's
//! namespace-aware reader: each element's namespace and local name, its attributes
//! (unprefixed ones), its children and its text. Bounded (depth, elements, body size), so
//! a hostile body costs little; any XML error is a [`XmlError`] naming the problem.
//!
//! Not here: what a document means (`pidf.rs`, `dialog_info.rs`).

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use quick_xml::XmlVersion;

/// Largest body read (bytes).
pub const MAX_BODY: usize = 64 * 1024;
/// Deepest nesting read.
const MAX_DEPTH: usize = 16;
/// Most elements read.
const MAX_ELEMENTS: usize = 2000;

/// One element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Element {
    /// Its namespace URI (empty when unbound).
    pub ns: String,
    /// Its local name.
    pub name: String,
    /// Its unprefixed attributes, decoded.
    pub attrs: Vec<(String, String)>,
    /// Its child elements, in order.
    pub children: Vec<Element>,
    /// Its text (direct text nodes joined, not trimmed).
    pub text: String,
}

impl Element {
    /// The attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The children in namespace `ns` named `name`.
    pub fn children<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children
            .iter()
            .filter(move |c| c.ns == ns && c.name == name)
    }

    /// The first child in namespace `ns` named `name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.ns == ns && c.name == name)
    }
}

/// Why a body is not well-formed XML (its variant's text is a reason phrase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum XmlError {
    /// Larger than [`MAX_BODY`].
    TooLarge,
    /// Not UTF-8.
    NotUtf8,
    /// Not well-formed (quick-xml's error).
    Malformed,
    /// No root element.
    Empty,
    /// Nested deeper, or more elements, than the bounds.
    TooComplex,
}

impl XmlError {
    /// The reason phrase of the 400.
    pub fn reason(self) -> &'static str {
        match self {
            XmlError::TooLarge => "Body Too Large",
            XmlError::NotUtf8 => "Body Not UTF-8",
            XmlError::Malformed => "Malformed XML",
            XmlError::Empty => "Empty XML Document",
            XmlError::TooComplex => "XML Too Deeply Nested Or Too Large",
        }
    }
}

fn resolve_ns(r: &ResolveResult<'_>) -> Result<String, XmlError> {
    match r {
        ResolveResult::Bound(ns) => Ok(ns.as_ref().to_string()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(_) => Err(XmlError::Malformed),
    }
}

fn element(ns: String, start: &BytesStart<'_>) -> Result<Element, XmlError> {
    let name = start.local_name().as_ref().to_string();
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|_| XmlError::Malformed)?;
        let key = a.key.as_ref();
        if key.contains(':') || key == "xmlns" {
            continue; // namespace declarations and prefixed attributes: not read
        }
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|_| XmlError::Malformed)?;
        attrs.push((key.to_string(), value.into_owned()));
    }
    Ok(Element {
        ns,
        name,
        attrs,
        ..Element::default()
    })
}

/// Reads `body` into its root element.
pub(crate) fn parse(body: &[u8]) -> Result<Element, XmlError> {
    if body.len() > MAX_BODY {
        return Err(XmlError::TooLarge);
    }
    let text = std::str::from_utf8(body).map_err(|_| XmlError::NotUtf8)?;
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|_| XmlError::Malformed)?;
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                if root.is_some() {
                    return Err(XmlError::Malformed); // a second root
                }
                count += 1;
                if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooComplex);
                }
                let e = element(resolve_ns(&ns)?, s)?;
                if matches!(event, Event::Start(_)) {
                    stack.push(e);
                } else {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(e),
                        None => root = Some(e),
                    }
                }
            }
            Event::End(_) => {
                let done = stack.pop().ok_or(XmlError::Malformed)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let t = t.xml_content(XmlVersion::Implicit1_0);
                match stack.last_mut() {
                    Some(e) => e.text.push_str(&t),
                    None if t.trim().is_empty() => {}
                    None => return Err(XmlError::Malformed),
                }
            }
            Event::CData(c) => match stack.last_mut() {
                Some(e) => e.text.push_str(&c.xml_content(XmlVersion::Implicit1_0)),
                None => return Err(XmlError::Malformed),
            },
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.xml_content(XmlVersion::Implicit1_0);
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or(XmlError::Malformed)?
                            .to_string()
                    }
                    Err(_) => return Err(XmlError::Malformed),
                };
                match stack.last_mut() {
                    Some(e) => e.text.push_str(&resolved),
                    None => return Err(XmlError::Malformed),
                }
            }
            Event::DocType(_) => return Err(XmlError::Malformed), // no entities, no DTDs
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed);
    }
    root.ok_or(XmlError::Empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_with_namespaces_text_and_references() {
        let e = parse(
            br#"<?xml version="1.0"?>
<p:presence xmlns:p="urn:a" xmlns="urn:b" entity="sip:bob@x">
  <tuple id="t&amp;1"><note xml:lang="en">out &lt;to&gt; lunch&#33;</note><x/></tuple>
</p:presence>"#,
        )
        .unwrap();
        assert_eq!((e.ns.as_str(), e.name.as_str()), ("urn:a", "presence"));
        assert_eq!(e.attr("entity"), Some("sip:bob@x"));
        let t = e.child("urn:b", "tuple").unwrap();
        assert_eq!(t.attr("id"), Some("t&1"));
        assert_eq!(t.child("urn:b", "note").unwrap().text, "out <to> lunch!");
        assert_eq!(t.children.len(), 2);
    }

    #[test]
    fn bad_documents_say_why() {
        assert_eq!(parse(b"<a><b></a>"), Err(XmlError::Malformed));
        assert_eq!(parse(b"<a></a><b/>"), Err(XmlError::Malformed));
        assert_eq!(parse(b"  "), Err(XmlError::Empty));
        assert_eq!(parse(b"<a>"), Err(XmlError::Malformed));
        assert_eq!(parse(b"<p:a/>"), Err(XmlError::Malformed));
        assert_eq!(parse(&[0xff, 0xfe]), Err(XmlError::NotUtf8));
        assert_eq!(
            parse(b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>"),
            Err(XmlError::Malformed)
        );
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooComplex));
        assert_eq!(parse(&vec![b' '; MAX_BODY + 1]), Err(XmlError::TooLarge));
    }
}
