//! [`SipMessage`]: one received message, as ranges over its own bytes.

use std::ops::Range;

use bytes::Bytes;
use bytestring::ByteString;

use crate::cseq::CSeq;
use crate::header_name::HeaderName;
use crate::method::Method;
use crate::name_addr::{NameAddr, NameAddrSpans};
use crate::uri::Uri;
use crate::via::{Via, ViaSpans};

/// A byte range in a message's header section. `u32` keeps the index small; messages are
/// bounded far below 4 GiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// The range of `part` in `base`; `part` must be a slice of `base` or empty. An empty
    /// part that is no slice of `base` (a literal `""`, as a TEL URI's host is) becomes the
    /// empty range at 0.
    #[inline]
    pub(crate) fn within(base: &str, part: &str) -> Span {
        let start = (part.as_ptr() as usize)
            .checked_sub(base.as_ptr() as usize)
            .filter(|&s| s + part.len() <= base.len() && base.is_char_boundary(s));
        match start {
            Some(s) => Span::new(s, s + part.len()),
            None => {
                debug_assert!(part.is_empty(), "a part outside its base");
                Span::default()
            }
        }
    }

    /// `Span::within` for an optional part.
    pub(crate) fn within_opt(base: &str, part: Option<&str>) -> Option<Span> {
        part.map(|p| Span::within(base, p))
    }

    /// Builds a span from usize offsets.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The span as a range for slicing.
    pub fn range(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// One header value. Lists that proxies edit (Via, Route, Record-Route, Contact, Path) give
/// one field per comma-separated value; all fields of one line share `line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderField {
    /// The recognised name, or `Other`.
    pub name: HeaderName,
    /// The name as written.
    pub name_span: Span,
    /// This value, without surrounding whitespace.
    pub value: Span,
    /// The whole line, from the name to the CRLF inclusive (folds included).
    pub line: Span,
    /// From the first value of the line to the end of its last value.
    pub line_value: Span,
    /// What to delete to remove this value alone, keeping its neighbours well-formed.
    pub cut: Span,
    /// How many values share this line.
    pub values_in_line: u16,
}

/// The start line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine {
    /// A request line.
    Request {
        /// The method.
        method: Method,
        /// The method token as written.
        method_span: Span,
        /// The Request-URI as written.
        uri: Span,
    },
    /// A status line.
    Response {
        /// The status code, 100 to 699.
        status: u16,
        /// The reason phrase (may be empty).
        reason: Span,
    },
}

/// A parsed SIP message. Cheap to clone (the bytes are reference-counted).
#[derive(Debug, Clone)]
pub struct SipMessage {
    /// The message as parsed (start line to the end of the body), sharing the buffer of
    /// `head` and `body`: sending it again costs no copy.
    pub(crate) wire: Bytes,
    pub(crate) head: ByteString,
    pub(crate) body: Bytes,
    pub(crate) start: StartLine,
    pub(crate) headers: Vec<HeaderField>,
    /// Offset of the first header line.
    pub(crate) headers_start: u32,
    /// Offset of the CRLF that ends the header section.
    pub(crate) headers_end: u32,
    pub(crate) call_id: Span,
    pub(crate) cseq_seq: u32,
    pub(crate) cseq_method: Method,
    pub(crate) cseq_method_span: Span,
    pub(crate) from: u16,
    pub(crate) to: u16,
    /// From and To as parsed (validated) by the parser.
    pub(crate) from_parsed: NameAddrSpans,
    pub(crate) to_parsed: NameAddrSpans,
    pub(crate) from_tag: Option<Span>,
    pub(crate) to_tag: Option<Span>,
    pub(crate) top_via: u16,
    /// The top Via as parsed (validated) by the parser.
    pub(crate) top_via_parsed: ViaSpans,
    pub(crate) via_count: u16,
    pub(crate) branch: Option<Span>,
    pub(crate) max_forwards: Option<u8>,
    pub(crate) content_length: Option<u32>,
}

impl SipMessage {
    pub(crate) fn s(&self, span: Span) -> &str {
        &self.head[span.range()]
    }

    /// The header section (start line to the empty line, inclusive) as text.
    pub fn head(&self) -> &str {
        &self.head
    }

    /// The body (exactly Content-Length bytes when the header is present).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The start line.
    pub fn start_line(&self) -> StartLine {
        self.start
    }

    /// True for requests.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The request method; for a response, the CSeq method.
    pub fn method(&self) -> Method {
        match self.start {
            StartLine::Request { method, .. } => method,
            StartLine::Response { .. } => self.cseq_method,
        }
    }

    /// The method token as written (request line, or CSeq for a response).
    pub fn method_str(&self) -> &str {
        match self.start {
            StartLine::Request { method_span, .. } => self.s(method_span),
            StartLine::Response { .. } => self.s(self.cseq_method_span),
        }
    }

    /// The Request-URI text; empty for a response.
    pub fn request_uri_str(&self) -> &str {
        match self.start {
            StartLine::Request { uri, .. } => self.s(uri),
            StartLine::Response { .. } => "",
        }
    }

    /// The parsed Request-URI (it was validated when the message was parsed).
    pub fn request_uri(&self) -> Option<Uri<'_>> {
        match self.start {
            StartLine::Request { uri, .. } => Uri::parse(self.s(uri)).ok(),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code; 0 for a request.
    pub fn status(&self) -> u16 {
        match self.start {
            StartLine::Response { status, .. } => status,
            StartLine::Request { .. } => 0,
        }
    }

    /// The reason phrase; empty for a request.
    pub fn reason(&self) -> &str {
        match self.start {
            StartLine::Response { reason, .. } => self.s(reason),
            StartLine::Request { .. } => "",
        }
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        self.s(self.call_id)
    }

    /// The CSeq number and method.
    pub fn cseq(&self) -> CSeq<'_> {
        CSeq {
            seq: self.cseq_seq,
            method: self.cseq_method,
            method_str: self.s(self.cseq_method_span),
        }
    }

    /// The From header, parsed (validated at parse time).
    pub fn from(&self) -> Option<NameAddr<'_>> {
        Some(self.from_parsed.get(&self.head))
    }

    /// The To header, parsed (validated at parse time).
    pub fn to(&self) -> Option<NameAddr<'_>> {
        Some(self.to_parsed.get(&self.head))
    }

    /// The From tag.
    pub fn from_tag(&self) -> Option<&str> {
        self.from_tag.map(|s| self.s(s))
    }

    /// The To tag.
    pub fn to_tag(&self) -> Option<&str> {
        self.to_tag.map(|s| self.s(s))
    }

    /// The index of the From field.
    pub fn from_index(&self) -> usize {
        self.from as usize
    }

    /// The index of the To field.
    pub fn to_index(&self) -> usize {
        self.to as usize
    }

    /// The topmost Via value, parsed (validated at parse time).
    pub fn top_via(&self) -> Option<Via<'_>> {
        Some(self.top_via_parsed.get(&self.head))
    }

    /// The index of the topmost Via field.
    pub fn top_via_index(&self) -> usize {
        self.top_via as usize
    }

    /// The branch parameter of the topmost Via.
    pub fn branch(&self) -> Option<&str> {
        self.branch.map(|s| self.s(s))
    }

    /// How many Via values the message has.
    pub fn via_count(&self) -> usize {
        self.via_count as usize
    }

    /// Max-Forwards, if present.
    pub fn max_forwards(&self) -> Option<u8> {
        self.max_forwards
    }

    /// Content-Length, if present.
    pub fn content_length(&self) -> Option<u32> {
        self.content_length
    }

    /// All header fields in order.
    pub fn fields(&self) -> &[HeaderField] {
        &self.headers
    }

    /// The value of field `i`.
    pub fn value(&self, i: usize) -> &str {
        self.headers.get(i).map(|h| self.s(h.value)).unwrap_or("")
    }

    /// The name of field `i`, as written.
    pub fn name_of(&self, i: usize) -> &str {
        self.headers
            .get(i)
            .map(|h| self.s(h.name_span))
            .unwrap_or("")
    }

    /// The whole line of field `i`, CRLF included.
    pub fn line_of(&self, i: usize) -> &str {
        self.headers.get(i).map(|h| self.s(h.line)).unwrap_or("")
    }

    /// The first value of a recognised header.
    pub fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| self.s(h.value))
    }

    /// Every value of a recognised header, in order, with its field index.
    pub fn header_values(&self, name: HeaderName) -> impl Iterator<Item = (usize, &str)> + '_ {
        self.headers
            .iter()
            .enumerate()
            .filter(move |(_, h)| h.name == name)
            .map(|(i, h)| (i, self.s(h.value)))
    }

    /// The first value of a header by its written name (case-insensitive), for headers this
    /// crate does not recognise.
    pub fn header_by_name(&self, name: &str) -> Option<&str> {
        let known = HeaderName::parse(name);
        self.headers
            .iter()
            .find(|h| {
                h.name == known
                    && (known != HeaderName::Other
                        || self.s(h.name_span).eq_ignore_ascii_case(name))
            })
            .map(|h| self.s(h.value))
    }

    /// The Expires header as a number, if present and numeric.
    pub fn expires(&self) -> Option<u32> {
        self.header(HeaderName::Expires)
            .and_then(|v| crate::text::parse_u32(crate::text::trim_lws(v)))
    }

    /// The original bytes of the message (header section and body).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.head.as_bytes());
        out.extend_from_slice(&self.body);
    }

    /// The message's bytes without a copy (the parsed buffer, from the start line to the
    /// end of the body: leading CRLFs and bytes past Content-Length are not included).
    pub fn wire(&self) -> Bytes {
        self.wire.clone()
    }

    /// The message's bytes in one new buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.head.len() + self.body.len());
        self.write_to(&mut v);
        v
    }

    /// Offset of the first header line.
    pub fn headers_start(&self) -> usize {
        self.headers_start as usize
    }

    /// Offset of the CRLF that ends the header section.
    pub fn headers_end(&self) -> usize {
        self.headers_end as usize
    }
}
