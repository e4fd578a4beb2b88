//! Framing SIP messages on a byte stream (TCP, TLS, RFC 3261 §18.3) with the CRLF
//! keep-alives of RFC 5626 §3.5.1.

use bytes::{Buf, Bytes, BytesMut};

use crate::header_name::HeaderName;
use crate::text::{parse_u32, trim_lws};

/// What the framer found at the front of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// One complete message (header section and exactly Content-Length bytes of body).
    Message(Bytes),
    /// A double-CRLF keep-alive ping: answer with a single CRLF (RFC 5626 §3.5.1).
    Ping,
    /// A single-CRLF keep-alive pong.
    Pong,
}

/// Why the stream cannot be framed; the connection must be closed (RFC 3261 §18.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramingError {
    /// The header section grew past the limit without ending.
    HeaderTooLarge,
    /// Content-Length is above the body limit.
    BodyTooLarge,
    /// A stream message must carry Content-Length.
    MissingContentLength,
    /// Content-Length is not a number, or appears twice.
    BadContentLength,
}

impl std::fmt::Display for FramingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FramingError::HeaderTooLarge => "header section too large",
            FramingError::BodyTooLarge => "body too large",
            FramingError::MissingContentLength => "missing Content-Length on a stream transport",
            FramingError::BadContentLength => "bad Content-Length",
        })
    }
}

impl std::error::Error for FramingError {}

/// Accumulates stream bytes and cuts them into messages.
#[derive(Debug)]
pub struct StreamFramer {
    buf: BytesMut,
    max_header: usize,
    max_body: usize,
    /// Bytes at the front already searched for the empty line, in vain: the next search
    /// starts there, so a message trickling in byte by byte costs linear time.
    scanned: usize,
    /// Length of the frame at the front, once its header section has been read.
    frame_len: Option<usize>,
}

impl StreamFramer {
    /// A framer with bounds on the header section and body sizes.
    pub fn new(max_header: usize, max_body: usize) -> Self {
        StreamFramer {
            buf: BytesMut::with_capacity(4096),
            max_header,
            max_body,
            scanned: 0,
            frame_len: None,
        }
    }

    /// Appends received bytes.
    pub fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The buffer to read into directly (then call nothing else: the bytes are already in).
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes waiting for a complete frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FramingError> {
        if let Some(total) = self.frame_len {
            if self.buf.len() < total {
                return Ok(None);
            }
            self.frame_len = None;
            self.scanned = 0;
            return Ok(Some(Frame::Message(self.buf.split_to(total).freeze())));
        }
        if self.buf.starts_with(b"\r\n\r\n") {
            self.buf.advance(4);
            return Ok(Some(Frame::Ping));
        }
        if self.buf.starts_with(b"\r\n") {
            if self.buf.len() < 4 && b"\r\n\r\n".starts_with(&self.buf[..]) {
                return Ok(None); // could still become a ping
            }
            self.buf.advance(2);
            return Ok(Some(Frame::Pong));
        }
        let from = self.scanned.saturating_sub(3);
        let Some(end) = crate::parse::end_of_headers(&self.buf[from..]).map(|e| e + from) else {
            if self.buf.len() > self.max_header {
                return Err(FramingError::HeaderTooLarge);
            }
            self.scanned = self.buf.len();
            return Ok(None);
        };
        if end + 4 > self.max_header {
            return Err(FramingError::HeaderTooLarge);
        }
        let cl = content_length(&self.buf[..end + 2])?;
        if cl > self.max_body {
            return Err(FramingError::BodyTooLarge);
        }
        let total = end + 4 + cl;
        if self.buf.len() < total {
            self.buf.reserve(total - self.buf.len());
        }
        self.frame_len = Some(total);
        self.next_frame()
    }
}

/// Finds Content-Length (or `l`) in a header section without parsing the rest.
fn content_length(head: &[u8]) -> Result<usize, FramingError> {
    let mut found: Option<usize> = None;
    let mut pos = memchr::memmem::find(head, b"\r\n")
        .map(|p| p + 2)
        .unwrap_or(head.len());
    while pos < head.len() {
        let end = memchr::memmem::find(&head[pos..], b"\r\n")
            .map(|e| pos + e)
            .unwrap_or(head.len());
        let line = &head[pos..end];
        if let Some(colon) = memchr::memchr(b':', line) {
            let name = std::str::from_utf8(&line[..colon]).unwrap_or("");
            if HeaderName::parse(name.trim_end_matches([' ', '\t'])) == HeaderName::ContentLength {
                if found.is_some() {
                    return Err(FramingError::BadContentLength);
                }
                // A folded Content-Length is absurd but legal; values are short.
                let mut vend = end;
                while vend + 2 < head.len() && matches!(head[vend + 2], b' ' | b'\t') {
                    vend = memchr::memmem::find(&head[vend + 2..], b"\r\n")
                        .map(|e| vend + 2 + e)
                        .unwrap_or(head.len());
                }
                let v = std::str::from_utf8(&head[pos + colon + 1..vend])
                    .map_err(|_| FramingError::BadContentLength)?;
                let n = parse_u32(trim_lws(v)).ok_or(FramingError::BadContentLength)?;
                found = Some(n as usize);
            }
        }
        pos = end + 2;
    }
    found.ok_or(FramingError::MissingContentLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_messages_and_keepalives() {
        let mut f = StreamFramer::new(8192, 8192);
        f.extend(b"\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nl: 3\r\n\r\nabcOPT");
        assert_eq!(f.next_frame().unwrap(), Some(Frame::Ping));
        match f.next_frame().unwrap() {
            Some(Frame::Message(m)) => assert!(m.ends_with(b"\r\n\r\nabc")),
            other => panic!("{other:?}"),
        }
        assert_eq!(f.next_frame().unwrap(), None);
        assert_eq!(f.pending(), 3);
    }

    #[test]
    fn complete_messages_come_out_before_the_error_behind_them() {
        let mut f = StreamFramer::new(8192, 8192);
        f.extend(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\nC\r\n\r\n");
        assert!(matches!(f.next_frame(), Ok(Some(Frame::Message(m))) if m.starts_with(b"OPTIONS")));
        assert_eq!(f.next_frame(), Err(FramingError::MissingContentLength));
    }

    #[test]
    fn errors() {
        let mut f = StreamFramer::new(8192, 10);
        f.extend(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 11\r\n\r\n");
        assert_eq!(f.next_frame(), Err(FramingError::BodyTooLarge));
        let mut f = StreamFramer::new(8192, 10);
        f.extend(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n");
        assert_eq!(f.next_frame(), Err(FramingError::MissingContentLength));
        let mut f = StreamFramer::new(8192, 10);
        f.extend(b"OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx");
        assert_eq!(f.next_frame(), Err(FramingError::BadContentLength));
        let mut f = StreamFramer::new(16, 10);
        f.extend(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x");
        assert_eq!(f.next_frame(), Err(FramingError::HeaderTooLarge));
    }
}
