//! Parse errors: which line of the body is wrong and why.
//!
//! A [`ParseError`] names the 1-based line number and carries the line (cut to 80
//! characters) so that a log line shows the peer's mistake without the whole body.

use thiserror::Error;

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseErrorKind {
    /// The body is not UTF-8 text.
    #[error("not UTF-8 text")]
    NotUtf8,
    /// A line is not `<letter>=<value>`.
    #[error("not a `<type>=<value>` line")]
    NotTypeValue,
    /// The line holds a control character (NUL or a bare CR).
    #[error("control character in line")]
    ControlCharacter,
    /// The first line is not `v=0`.
    #[error("first line must be v=0")]
    BadVersion,
    /// A required line (`o=`, `s=`, `t=`) is missing or repeated.
    #[error("required `{0}=` line missing or repeated")]
    Required(char),
    /// The line appears where RFC 4566 does not allow it (e.g. `o=` in a media section).
    #[error("line out of place")]
    OutOfPlace,
    /// `o=` does not have six fields with a numeric session version.
    #[error("bad origin (o=)")]
    BadOrigin,
    /// `c=` does not have three fields.
    #[error("bad connection (c=)")]
    BadConnection,
    /// `t=` does not have two numeric fields.
    #[error("bad timing (t=)")]
    BadTiming,
    /// `m=` is not `<media> <port>[/<count>] <proto> <fmt>...`.
    #[error("bad media line (m=)")]
    BadMedia,
    /// `a=rtpmap:` is not `<pt> <encoding>/<clock>[/<channels>]`.
    #[error("bad a=rtpmap")]
    BadRtpmap,
    /// `a=fmtp:` is not `<format> <parameters>`.
    #[error("bad a=fmtp")]
    BadFmtp,
    /// `a=ptime:` is not a number of milliseconds.
    #[error("bad a=ptime")]
    BadPtime,
    /// A direction attribute (`a=sendrecv` ...) has a value.
    #[error("direction attribute with a value")]
    BadDirection,
    /// The body has more lines than [`crate::SessionDescription::MAX_LINES`].
    #[error("too many lines")]
    TooManyLines,
}

/// A body that is not a valid session description, with the line that says why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("SDP line {line_number} `{line}`: {kind}")]
pub struct ParseError {
    /// 1-based line number (0 when the error is about the whole body).
    pub line_number: usize,
    /// The offending line, cut to 80 characters.
    pub line: String,
    /// What is wrong with it.
    pub kind: ParseErrorKind,
}

impl ParseError {
    pub(crate) fn new(line_number: usize, line: &str, kind: ParseErrorKind) -> Self {
        let line = match line.char_indices().nth(80) {
            Some((cut, _)) => format!("{}...", &line[..cut]),
            None => line.to_owned(),
        };
        ParseError {
            line_number,
            line,
            kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_in_the_message() {
        let long = "a=".to_owned() + &"x".repeat(200);
        let e = ParseError::new(7, &long, ParseErrorKind::BadPtime);
        assert_eq!(e.line.len(), 83);
        assert!(e.to_string().starts_with("SDP line 7 `a=xxx"));
        assert!(e.to_string().ends_with("...`: bad a=ptime"));
    }
}
