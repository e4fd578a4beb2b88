//! Parse errors that know the status a server answers them with.

use std::fmt;

/// Why a message could not be parsed. Each variant maps to the status code and reason
/// phrase a server sends back for a request ([`ParseError::status`]); for a response the
/// only sensible action is to drop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Nothing but whitespace was received.
    Empty,
    /// The header section does not end with an empty line.
    UnterminatedHeaders,
    /// The message is larger than the configured limit.
    TooLarge,
    /// More header fields than the configured limit.
    TooManyHeaders,
    /// The header section is not valid UTF-8 (RFC 3261 §7.3.1).
    InvalidUtf8,
    /// The request line or status line is malformed; the text says which part.
    BadStartLine(&'static str),
    /// The SIP version is not 2.0 (answered with 505).
    VersionNotSupported,
    /// The status code of a response is not three digits from 100 to 699.
    BadStatusCode,
    /// The Request-URI is malformed; the text says why.
    BadRequestUri(&'static str),
    /// A header line has no colon or its name is not a token.
    BadHeaderLine,
    /// A header value is malformed.
    BadHeader {
        /// The header's canonical name.
        header: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A mandatory header is missing.
    MissingHeader(&'static str),
    /// A header that may appear once appears several times.
    DuplicateHeader(&'static str),
    /// The CSeq method differs from the request method.
    CSeqMethodMismatch,
    /// Content-Length announces more bytes than were received.
    BodyTruncated,
}

impl ParseError {
    /// The status code a server answers a malformed request with.
    pub fn status(&self) -> u16 {
        match self {
            ParseError::VersionNotSupported => 505,
            ParseError::TooLarge => 513,
            _ => 400,
        }
    }

    /// True when no answer should be sent at all (nothing identifiable was received).
    pub fn is_silent(&self) -> bool {
        matches!(self, ParseError::Empty)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => f.write_str("Empty message"),
            ParseError::UnterminatedHeaders => f.write_str("Header section not terminated"),
            ParseError::TooLarge => f.write_str("Message Too Large"),
            ParseError::TooManyHeaders => f.write_str("Too many header fields"),
            ParseError::InvalidUtf8 => f.write_str("Header section is not UTF-8"),
            ParseError::BadStartLine(why) => write!(f, "Malformed start line: {why}"),
            ParseError::VersionNotSupported => f.write_str("Version Not Supported"),
            ParseError::BadStatusCode => f.write_str("Bad status code"),
            ParseError::BadRequestUri(why) => write!(f, "Bad Request-URI: {why}"),
            ParseError::BadHeaderLine => f.write_str("Malformed header line"),
            ParseError::BadHeader { header, why } => write!(f, "Bad {header} header: {why}"),
            ParseError::MissingHeader(h) => write!(f, "Missing {h} header"),
            ParseError::DuplicateHeader(h) => write!(f, "Duplicate {h} header"),
            ParseError::CSeqMethodMismatch => f.write_str("CSeq method does not match request"),
            ParseError::BodyTruncated => f.write_str("Content-Length larger than body"),
        }
    }
}

impl std::error::Error for ParseError {}
