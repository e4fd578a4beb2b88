//! Building responses to a received request, and the CANCEL and ACK a client transaction
//! sends for a request it forwarded (RFC 3261 §8.2.6, §9.1, §17.1.1.3).

use std::fmt;

use crate::digits::push_args;
use crate::header_name::HeaderName;
use crate::message::SipMessage;

/// The RFC reason phrase for a status code ("" for unknown codes).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        493 => "Undecipherable",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => "",
    }
}

/// Builds a response to a request: the status line, the request's Via, From, To (with a
/// To tag added when the request had none and one is given), Call-ID and CSeq, then any
/// extra headers and the body.
pub struct ResponseBuilder<'m> {
    req: &'m SipMessage,
    status: u16,
    reason: &'m str,
    to_tag: Option<&'m str>,
    top_via: Option<&'m str>,
    extra: Vec<u8>,
    body: &'m [u8],
}

impl<'m> ResponseBuilder<'m> {
    /// A response to `req` with the default reason phrase.
    pub fn new(req: &'m SipMessage, status: u16) -> Self {
        ResponseBuilder {
            req,
            status,
            reason: reason_phrase(status),
            to_tag: None,
            top_via: None,
            extra: Vec::new(),
            body: b"",
        }
    }

    /// Overrides the reason phrase.
    pub fn reason(mut self, reason: &'m str) -> Self {
        self.reason = reason;
        self
    }

    /// Adds this To tag if the request's To has none.
    pub fn to_tag(mut self, tag: &'m str) -> Self {
        self.to_tag = Some(tag);
        self
    }

    /// Replaces the value of the topmost Via (with `received`/`rport` filled in).
    pub fn top_via(mut self, via: &'m str) -> Self {
        self.top_via = Some(via);
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: fmt::Arguments<'_>) -> Self {
        put(&mut self.extra, &[name, ": "]);
        push_args(&mut self.extra, value);
        self.extra.extend_from_slice(b"\r\n");
        self
    }

    /// Sets the body (Content-Type must be added with [`ResponseBuilder::header`]).
    pub fn body(mut self, body: &'m [u8]) -> Self {
        self.body = body;
        self
    }

    /// Prints the response into `out` (appending).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let req = self.req;
        let head = req.head();
        // Pieces appended by hand: `write!` cost more than the copying it does here.
        let mut status = itoa::Buffer::new();
        put(
            out,
            &[
                "SIP/2.0 ",
                status.format(self.status),
                " ",
                self.reason,
                "\r\n",
            ],
        );
        for (i, f) in req.fields().iter().enumerate() {
            match f.name {
                HeaderName::Via => match self.top_via {
                    Some(v) if i == req.top_via_index() => {
                        put(out, &["Via: ", v, "\r\n"]);
                    }
                    _ if f.values_in_line > 1 => {
                        put(out, &["Via: ", &head[f.value.range()], "\r\n"]);
                    }
                    _ => out.extend_from_slice(head[f.line.range()].as_bytes()),
                },
                HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                    out.extend_from_slice(head[f.line.range()].as_bytes());
                }
                HeaderName::To => {
                    let line = &head[f.line.range()];
                    match (self.to_tag, req.to_tag()) {
                        (Some(tag), None) => {
                            put(out, &["To: ", &head[f.value.range()], ";tag=", tag, "\r\n"]);
                        }
                        _ => out.extend_from_slice(line.as_bytes()),
                    }
                }
                _ => {}
            }
        }
        out.extend_from_slice(&self.extra);
        let mut len = itoa::Buffer::new();
        put(
            out,
            &["Content-Length: ", len.format(self.body.len()), "\r\n\r\n"],
        );
        out.extend_from_slice(self.body);
    }

    /// Prints into a new buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(512);
        self.write_to(&mut v);
        v
    }
}

fn write_request_basics(req: &SipMessage, method: &str, to_line: Option<&str>, out: &mut Vec<u8>) {
    let head = req.head();
    put(out, &[method, " ", req.request_uri_str(), " SIP/2.0\r\n"]);
    put(out, &["Via: ", req.value(req.top_via_index()), "\r\n"]);
    for f in req.fields() {
        match f.name {
            HeaderName::Route => {
                put(out, &["Route: ", &head[f.value.range()], "\r\n"]);
            }
            HeaderName::From | HeaderName::CallId => {
                out.extend_from_slice(head[f.line.range()].as_bytes());
            }
            HeaderName::To => match to_line {
                Some(t) => {
                    put(out, &["To: ", t, "\r\n"]);
                }
                None => out.extend_from_slice(head[f.line.range()].as_bytes()),
            },
            _ => {}
        }
    }
    let mut seq = itoa::Buffer::new();
    put(
        out,
        &[
            "CSeq: ",
            seq.format(req.cseq().seq),
            " ",
            method,
            "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        ],
    );
}

/// Appends the pieces in order.
fn put(out: &mut Vec<u8>, pieces: &[&str]) {
    for p in pieces {
        out.extend_from_slice(p.as_bytes());
    }
}

/// The CANCEL for a request this element sent (RFC 3261 §9.1): same Request-URI, top Via,
/// Route set, From, To, Call-ID and CSeq number.
pub fn build_cancel(req: &SipMessage, out: &mut Vec<u8>) {
    write_request_basics(req, "CANCEL", None, out);
}

/// The ACK a client INVITE transaction sends for a non-2xx final response
/// (RFC 3261 §17.1.1.3): like the INVITE, with the response's To (and its tag).
pub fn build_ack_for_failure(req: &SipMessage, response: &SipMessage, out: &mut Vec<u8>) {
    write_request_basics(req, "ACK", Some(response.value(response.to_index())), out);
}
