//! The message parser: start line, header index, the headers every hop needs, and framing.
//!
//! Parsing is one pass over the header section. Each header line becomes a [`HeaderField`]
//! of byte ranges (no allocation per header: the field vector is reserved once). Only Via,
//! From, To, Call-ID, CSeq, Max-Forwards and Content-Length are parsed here, because every
//! proxy hop needs them; [`parse_strict`] additionally validates every typed header and is
//! what the RFC 4475 conformance test applies.

use bytes::Bytes;
use bytestring::ByteString;

use crate::cseq::CSeq;
use crate::error::ParseError;
use crate::header_name::HeaderName;
use crate::message::{HeaderField, SipMessage, Span, StartLine};
use crate::method::Method;
use crate::name_addr::{ContactValue, NameAddr, NameAddrSpans};
use crate::text::{is_lws, is_token, split_commas, trim_lws};
use crate::uri::Uri;
use crate::via::{Via, ViaSpans};

/// Bounds applied while parsing.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest message accepted, header section and body together.
    pub max_message_bytes: usize,
    /// Most header fields (after splitting lists) accepted.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 65_535,
            max_headers: 256,
        }
    }
}

/// Where the header section ends (the empty line). The searcher is built once: building
/// one per message cost more than the search itself.
pub(crate) fn end_of_headers(buf: &[u8]) -> Option<usize> {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\r\n\r\n"));
    FINDER.find(buf)
}

impl SipMessage {
    /// Parses one message from a datagram (or a frame cut by [`crate::StreamFramer`]) with
    /// default limits. Octets after Content-Length bytes of body are ignored (RFC 3261
    /// §18.3); without Content-Length the body is the rest of the datagram.
    pub fn parse(buf: Bytes) -> Result<SipMessage, ParseError> {
        Self::parse_with(buf, &Limits::default())
    }

    /// Parses with explicit limits.
    pub fn parse_with(mut buf: Bytes, limits: &Limits) -> Result<SipMessage, ParseError> {
        if buf.len() > limits.max_message_bytes {
            return Err(ParseError::TooLarge);
        }
        // RFC 3261 §7.5: ignore CRLFs before the start line (keep-alives).
        let lead = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if lead == buf.len() {
            return Err(ParseError::Empty);
        }
        let _ = buf.split_to(lead);
        let end = end_of_headers(&buf).ok_or(ParseError::UnterminatedHeaders)?;
        let head_len = end + 4;
        let whole = buf.clone();
        let rest = buf.split_off(head_len);
        let head = ByteString::try_from(buf).map_err(|_| ParseError::InvalidUtf8)?;
        let mut msg = Parser {
            head: &head,
            limits,
        }
        .run(head.clone(), rest)?;
        msg.wire = whole.slice(..head_len + msg.body.len());
        Ok(msg)
    }
}

/// The headers [`Parser::note`] reads (every other header is only indexed).
fn noted(hn: HeaderName) -> bool {
    matches!(
        hn,
        HeaderName::Via
            | HeaderName::CallId
            | HeaderName::CSeq
            | HeaderName::From
            | HeaderName::To
            | HeaderName::MaxForwards
            | HeaderName::ContentLength
    )
}

struct Parser<'h> {
    head: &'h str,
    limits: &'h Limits,
}

/// What the parser remembers about the headers every hop needs.
#[derive(Default)]
struct Essentials {
    call_id: Option<Span>,
    cseq: Option<(u32, Method, Span)>,
    from: Option<usize>,
    to: Option<usize>,
    top_via: Option<usize>,
    via_count: usize,
    max_forwards: Option<u8>,
    content_length: Option<u32>,
}

impl<'h> Parser<'h> {
    fn run(&self, head_owned: ByteString, rest: Bytes) -> Result<SipMessage, ParseError> {
        let head = self.head;
        let b = head.as_bytes();
        let nl = memchr::memchr(b'\n', b).unwrap_or(0);
        if nl == 0 || b[nl - 1] != b'\r' {
            return Err(ParseError::BadStartLine("start line must end with CRLF"));
        }
        let sl_end = nl - 1;
        let start = self.start_line(&head[..sl_end])?;
        let headers_start = sl_end + 2;
        let headers_end = head.len() - 2;
        // One allocation for the whole index: reserve a field per line (folds included) and
        // a few more for comma-separated Via/Route/Contact values, so the count of
        // allocations does not grow with the number of headers.
        let lines =
            memchr::memchr_iter(b'\n', &b[headers_start.min(headers_end)..headers_end]).count();
        let mut headers: Vec<HeaderField> =
            Vec::with_capacity((lines + 8).min(self.limits.max_headers + 1));
        let mut ess = Essentials::default();

        let mut pos = headers_start;
        while pos < headers_end {
            // One logical line: up to a CRLF not followed by SP/HT (folding).
            let mut nl = pos;
            loop {
                let off = memchr::memchr(b'\n', &b[nl..headers_end + 2])
                    .ok_or(ParseError::BadHeaderLine)?;
                nl += off;
                if nl == 0 || b[nl - 1] != b'\r' {
                    return Err(ParseError::BadHeaderLine);
                }
                if nl + 1 < headers_end && (b[nl + 1] == b' ' || b[nl + 1] == b'\t') {
                    nl += 1;
                    continue;
                }
                break;
            }
            let line = Span::new(pos, nl + 1);
            let content = &head[pos..nl - 1];
            let colon =
                memchr::memchr(b':', content.as_bytes()).ok_or(ParseError::BadHeaderLine)?;
            let mut name_end = colon;
            while name_end > 0 && matches!(b[pos + name_end - 1], b' ' | b'\t') {
                name_end -= 1;
            }
            let name = &content[..name_end];
            if name.is_empty() || !name.bytes().all(is_token) {
                return Err(ParseError::BadHeaderLine);
            }
            let hn = HeaderName::parse(name);
            let name_span = Span::within(head, name);
            let value = trim_lws(&content[colon + 1..]);
            let value_span = if value.is_empty() {
                Span::new(pos + colon + 1, pos + colon + 1)
            } else {
                Span::within(head, value)
            };
            if hn.is_split_list() && !value.is_empty() {
                let first = headers.len();
                for (_, piece) in split_commas(value) {
                    let t = trim_lws(piece);
                    if t.is_empty() {
                        return Err(ParseError::BadHeader {
                            header: hn.as_str(),
                            why: "empty list element",
                        });
                    }
                    headers.push(HeaderField {
                        name: hn,
                        name_span,
                        value: Span::within(head, t),
                        line,
                        line_value: value_span,
                        cut: line,
                        values_in_line: 1,
                    });
                }
                let n = headers.len() - first;
                if n > 1 {
                    for k in 0..n {
                        let i = first + k;
                        headers[i].values_in_line = n as u16;
                        headers[i].cut = if k + 1 < n {
                            Span {
                                start: headers[i].value.start,
                                end: headers[i + 1].value.start,
                            }
                        } else {
                            Span {
                                start: headers[i - 1].value.end,
                                end: headers[i].value.end,
                            }
                        };
                    }
                }
                if noted(hn) {
                    for i in first..headers.len() {
                        self.note(hn, i, &headers, &mut ess)?;
                    }
                }
            } else {
                headers.push(HeaderField {
                    name: hn,
                    name_span,
                    value: value_span,
                    line,
                    line_value: value_span,
                    cut: line,
                    values_in_line: 1,
                });
                if noted(hn) {
                    self.note(hn, headers.len() - 1, &headers, &mut ess)?;
                }
            }
            if headers.len() > self.limits.max_headers {
                return Err(ParseError::TooManyHeaders);
            }
            pos = nl + 1;
        }

        let call_id = ess.call_id.ok_or(ParseError::MissingHeader("Call-ID"))?;
        let (cseq_seq, cseq_method, cseq_method_span) =
            ess.cseq.ok_or(ParseError::MissingHeader("CSeq"))?;
        let from = ess.from.ok_or(ParseError::MissingHeader("From"))?;
        let to = ess.to.ok_or(ParseError::MissingHeader("To"))?;
        let top_via = ess.top_via.ok_or(ParseError::MissingHeader("Via"))?;
        if let StartLine::Request {
            method,
            method_span,
            ..
        } = start
        {
            let same = if method == Method::Extension {
                head[method_span.range()] == head[cseq_method_span.range()]
            } else {
                method == cseq_method
            };
            if !same {
                return Err(ParseError::CSeqMethodMismatch);
            }
        }
        // The tags and the branch are found while the parameters are checked.
        let (from_na, from_tag) =
            NameAddr::parse_finding(&head[headers[from].value.range()], "tag").map_err(|why| {
                ParseError::BadHeader {
                    header: "From",
                    why,
                }
            })?;
        let (to_na, to_tag) = NameAddr::parse_finding(&head[headers[to].value.range()], "tag")
            .map_err(|why| ParseError::BadHeader { header: "To", why })?;
        let (via, branch) = Via::parse_finding(&head[headers[top_via].value.range()], "branch")
            .map_err(|why| ParseError::BadHeader { header: "Via", why })?;
        let from_tag = from_tag.flatten().map(|t| Span::within(head, t));
        let to_tag = to_tag.flatten().map(|t| Span::within(head, t));
        let branch = branch.flatten().map(|t| Span::within(head, t));
        let top_via_parsed = ViaSpans::of(head, &via);
        let from_parsed = NameAddrSpans::of(head, &from_na);
        let to_parsed = NameAddrSpans::of(head, &to_na);

        let body = match ess.content_length {
            Some(cl) => {
                let cl = cl as usize;
                if cl > rest.len() {
                    return Err(ParseError::BodyTruncated);
                }
                rest.slice(..cl)
            }
            None => rest,
        };
        Ok(SipMessage {
            wire: Bytes::new(),
            head: head_owned,
            body,
            start,
            headers,
            headers_start: headers_start as u32,
            headers_end: headers_end as u32,
            call_id,
            cseq_seq,
            cseq_method,
            cseq_method_span,
            from: from as u16,
            to: to as u16,
            from_parsed,
            to_parsed,
            from_tag,
            to_tag,
            top_via: top_via as u16,
            top_via_parsed,
            via_count: ess.via_count as u16,
            branch,
            max_forwards: ess.max_forwards,
            content_length: ess.content_length,
        })
    }

    fn note(
        &self,
        hn: HeaderName,
        i: usize,
        headers: &[HeaderField],
        ess: &mut Essentials,
    ) -> Result<(), ParseError> {
        let v = &self.head[headers[i].value.range()];
        match hn {
            HeaderName::Via => {
                if ess.top_via.is_none() {
                    ess.top_via = Some(i);
                }
                ess.via_count += 1;
            }
            HeaderName::CallId => {
                if ess.call_id.is_some() {
                    return Err(ParseError::DuplicateHeader("Call-ID"));
                }
                if v.is_empty() || v.bytes().any(is_lws) {
                    return Err(ParseError::BadHeader {
                        header: "Call-ID",
                        why: "empty or contains whitespace",
                    });
                }
                ess.call_id = Some(headers[i].value);
            }
            HeaderName::CSeq => {
                if ess.cseq.is_some() {
                    return Err(ParseError::DuplicateHeader("CSeq"));
                }
                let c = CSeq::parse(v).map_err(|why| ParseError::BadHeader {
                    header: "CSeq",
                    why,
                })?;
                ess.cseq = Some((c.seq, c.method, Span::within(self.head, c.method_str)));
            }
            HeaderName::From if ess.from.replace(i).is_some() => {
                return Err(ParseError::DuplicateHeader("From"));
            }
            HeaderName::To if ess.to.replace(i).is_some() => {
                return Err(ParseError::DuplicateHeader("To"));
            }
            HeaderName::MaxForwards => {
                if ess.max_forwards.is_some() {
                    return Err(ParseError::DuplicateHeader("Max-Forwards"));
                }
                let n = crate::text::parse_u32(v)
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or(ParseError::BadHeader {
                        header: "Max-Forwards",
                        why: "not a number from 0 to 255",
                    })?;
                ess.max_forwards = Some(n);
            }
            HeaderName::ContentLength => {
                if ess.content_length.is_some() {
                    return Err(ParseError::DuplicateHeader("Content-Length"));
                }
                let n = crate::text::parse_u32(v).ok_or(ParseError::BadHeader {
                    header: "Content-Length",
                    why: "not a non-negative number",
                })?;
                ess.content_length = Some(n);
            }
            _ => {}
        }
        Ok(())
    }

    fn start_line(&self, line: &str) -> Result<StartLine, ParseError> {
        let head = self.head;
        if line.len() >= 4 && line.as_bytes()[..4].eq_ignore_ascii_case(b"SIP/") {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
            let (version, rest) = line
                .split_once(' ')
                .ok_or(ParseError::BadStartLine("missing status code"))?;
            if !version.eq_ignore_ascii_case("SIP/2.0") {
                return Err(ParseError::VersionNotSupported);
            }
            let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ParseError::BadStatusCode);
            }
            let status: u16 = code.parse().map_err(|_| ParseError::BadStatusCode)?;
            if !(100..=699).contains(&status) {
                return Err(ParseError::BadStatusCode);
            }
            let reason_span = if reason.is_empty() {
                Span::new(line.len(), line.len())
            } else {
                Span::within(head, reason)
            };
            return Ok(StartLine::Response {
                status,
                reason: reason_span,
            });
        }
        // Request-Line = Method SP Request-URI SP SIP-Version: exactly two single spaces.
        let first = line
            .find(' ')
            .ok_or(ParseError::BadStartLine("missing Request-URI"))?;
        let last = line.rfind(' ').unwrap_or(first);
        if last == first {
            return Err(ParseError::BadStartLine("missing SIP version"));
        }
        let method = &line[..first];
        let uri = &line[first + 1..last];
        let version = &line[last + 1..];
        if method.is_empty() || !method.bytes().all(is_token) {
            return Err(ParseError::BadStartLine("bad method"));
        }
        if !version.eq_ignore_ascii_case("SIP/2.0") {
            let b = version.as_bytes();
            let looks_like_version = b.len() > 4
                && b[..4].eq_ignore_ascii_case(b"SIP/")
                && version[4..].split_once('.').is_some_and(|(a, c)| {
                    !a.is_empty()
                        && !c.is_empty()
                        && a.bytes().chain(c.bytes()).all(|x| x.is_ascii_digit())
                });
            return Err(if looks_like_version {
                ParseError::VersionNotSupported
            } else {
                ParseError::BadStartLine("bad SIP version")
            });
        }
        Uri::parse_request_uri(uri).map_err(ParseError::BadRequestUri)?;
        Ok(StartLine::Request {
            method: Method::from_token(method),
            method_span: Span::within(head, method),
            uri: Span::within(head, uri),
        })
    }
}

/// Parses and validates every header this crate knows how to type (all Via values,
/// Contact, Route, Record-Route, Path, Expires, ...). This is the verdict the RFC 4475
/// conformance test checks; the server applies the same checks lazily, where each header
/// is used.
pub fn parse_strict(buf: Bytes) -> Result<SipMessage, ParseError> {
    let m = SipMessage::parse(buf)?;
    for (i, f) in m.fields().iter().enumerate() {
        let v = m.value(i);
        let bad = |why| ParseError::BadHeader {
            header: f.name.as_str(),
            why,
        };
        match f.name {
            HeaderName::Via => {
                Via::parse(v).map_err(bad)?;
            }
            HeaderName::Contact => {
                ContactValue::parse(v).map_err(bad)?;
            }
            HeaderName::Route | HeaderName::RecordRoute | HeaderName::Path => {
                let na = NameAddr::parse(v).map_err(bad)?;
                if !na.bracketed {
                    return Err(bad("must be enclosed in <>"));
                }
            }
            HeaderName::ReferTo | HeaderName::ReplyTo => {
                NameAddr::parse(v).map_err(bad)?;
            }
            HeaderName::Expires | HeaderName::MinExpires => {
                crate::text::parse_u32(v).ok_or(bad("not a number"))?;
            }
            _ => {}
        }
    }
    Ok(m)
}
