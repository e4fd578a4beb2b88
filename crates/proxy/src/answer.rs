//! [`Answer`]: a response the proxy writes itself (a refusal, a challenge, a registrar's
//! 200, a redirect), as data: status, reason phrase and a typed header list. The one place
//! that prints it is the proxy's reply path, through `sip_message::ResponseBuilder`; no
//! header text with CRLF travels between stages or crates.
//!
//! Not here: responses relayed from a branch (the fork manager edits those).

use std::fmt;

/// A response of the proxy's own making.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// Status code.
    pub status: u16,
    /// Reason phrase; None: the standard one for `status`.
    pub reason: Option<&'static str>,
    /// Extra header fields, in order: name and value (no CRLF).
    pub headers: Vec<(&'static str, String)>,
}

impl Answer {
    /// `status` with its standard reason phrase and no extra header.
    pub fn status(status: u16) -> Answer {
        Answer {
            status,
            reason: None,
            headers: Vec::new(),
        }
    }

    /// `status` with `reason`.
    pub fn new(status: u16, reason: &'static str) -> Answer {
        Answer {
            status,
            reason: Some(reason),
            headers: Vec::new(),
        }
    }

    /// Adds a header field.
    pub fn with(mut self, name: &'static str, value: impl fmt::Display) -> Answer {
        self.headers.push((name, value.to_string()));
        self
    }

    /// Adds header fields.
    pub fn with_all(mut self, headers: impl IntoIterator<Item = (&'static str, String)>) -> Answer {
        self.headers.extend(headers);
        self
    }

    /// A refusal that a client may retry after `secs` (overload, shutdown).
    pub fn retry_after(status: u16, reason: &'static str, secs: u32) -> Answer {
        Answer::new(status, reason).with("Retry-After", secs)
    }
}

impl From<(u16, &'static str)> for Answer {
    fn from((status, reason): (u16, &'static str)) -> Answer {
        Answer::new(status, reason)
    }
}
