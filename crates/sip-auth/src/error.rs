//! Errors produced while parsing challenge and credentials header values.

use thiserror::Error;

/// Why a `WWW-Authenticate` / `Proxy-Authenticate` / `Authorization` /
/// `Proxy-Authorization` header value could not be parsed.
///
/// Offsets are byte offsets into the header value that was passed in.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthParseError {
    /// The value is empty or consists only of whitespace.
    #[error("empty authentication header value")]
    Empty,
    /// The value is longer than [`crate::MAX_HEADER_VALUE_LEN`].
    #[error("authentication header value too long ({len} bytes)")]
    TooLong {
        /// Length of the rejected input.
        len: usize,
    },
    /// The byte input is not valid UTF-8.
    #[error("authentication header value is not valid UTF-8")]
    InvalidUtf8,
    /// The scheme is not `Digest`.
    #[error("unknown authentication scheme {0:?}")]
    UnknownScheme(String),
    /// A byte that the grammar does not allow at this position.
    #[error("unexpected character at offset {offset}, expected {expected}")]
    UnexpectedCharacter {
        /// Byte offset of the offending character.
        offset: usize,
        /// What the parser expected instead.
        expected: &'static str,
    },
    /// A CR or LF that is not part of a folded line (CRLF followed by SP/HT).
    #[error("line break not followed by whitespace at offset {offset}")]
    UnexpectedLineBreak {
        /// Byte offset of the CR or LF.
        offset: usize,
    },
    /// A quoted string without its closing `"`.
    #[error("unterminated quoted string starting at offset {offset}")]
    UnterminatedQuote {
        /// Byte offset of the opening quote.
        offset: usize,
    },
    /// A backslash escape of a character that a quoted-pair may not carry.
    #[error("invalid escape in quoted string at offset {offset}")]
    InvalidEscape {
        /// Byte offset of the backslash.
        offset: usize,
    },
    /// An auth-param with `=` but no value.
    #[error("parameter {name:?} has no value")]
    MissingValue {
        /// Name of the parameter as written.
        name: String,
    },
    /// A parameter that the scheme requires is absent.
    #[error("missing parameter {0}")]
    MissingParameter(&'static str),
    /// A known parameter appears more than once.
    #[error("duplicate parameter {0}")]
    DuplicateParameter(&'static str),
    /// `nc` is not exactly 8 hexadecimal digits.
    #[error("bad nonce count {0:?}: expected 8 hex digits")]
    BadNonceCount(String),
    /// The `algorithm` value is not one this crate supports.
    #[error("unknown algorithm {0:?}")]
    UnknownAlgorithm(String),
    /// The `qop` value of credentials is neither `auth` nor `auth-int`.
    #[error("unknown qop {0:?}")]
    UnknownQop(String),
    /// A boolean parameter (`stale`, `userhash`) whose value is not `true`/`false`.
    #[error("parameter {0} is not a boolean")]
    BadBoolean(&'static str),
}
