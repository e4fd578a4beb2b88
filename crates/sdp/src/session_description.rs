//! A whole session description (RFC 4566 §5): parsing from text with CRLF or LF line ends,
//! and printing in the order the RFC gives, with CRLF line ends.
//!
//! Lines this crate does not interpret (`i=`, `u=`, `e=`, `p=`, `b=`, `k=`, `z=`, `r=` and
//! unknown type letters) are kept as [`OpaqueLine`]s in their section and printed back in
//! their place, so `print(parse(x)) == x` for a well-ordered body with CRLF line ends.

use std::fmt;

use crate::attribute::Attribute;
use crate::connection::Connection;
use crate::direction::Direction;
use crate::error::{ParseError, ParseErrorKind};
use crate::media_description::{direction_of, MediaDescription};
use crate::origin::Origin;

/// A line kept as written: its type letter and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueLine {
    /// The type letter (`b`, `i`, ...).
    pub kind: char,
    /// Everything after `=`.
    pub value: String,
}

impl fmt::Display for OpaqueLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}\r\n", self.kind, self.value)
    }
}

/// A `t=<start> <stop>` line with the `r=` lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timing {
    /// NTP start time, 0 for unbounded.
    pub start: u64,
    /// NTP stop time, 0 for unbounded.
    pub stop: u64,
    /// `r=` repeat lines, as written.
    pub repeats: Vec<String>,
}

/// A session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`.
    pub origin: Origin,
    /// `s=` (a single space or `-` when the author has nothing to say).
    pub session_name: String,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// `t=` lines (at least one).
    pub timings: Vec<Timing>,
    /// Session-level `a=` lines.
    pub attributes: Vec<Attribute>,
    /// Session-level opaque lines: `i=`, `u=`, `e=`, `p=` print before `c=`, `b=` after
    /// it, the rest (`z=`, `k=`, unknown) after the `t=` lines.
    pub opaque: Vec<OpaqueLine>,
    /// Media sections in order.
    pub media: Vec<MediaDescription>,
}

fn before_connection(kind: char) -> bool {
    matches!(kind, 'i' | 'u' | 'e' | 'p')
}

/// Where a session-level opaque line prints: before `c=`, after it (`b=`), or after `t=`.
fn print_group(kind: char) -> u8 {
    match kind {
        k if before_connection(k) => 0,
        'b' => 1,
        _ => 2,
    }
}

impl SessionDescription {
    /// The most lines a body may have: SIP bodies are small, and this bounds the work
    /// and memory a peer can cause.
    pub const MAX_LINES: usize = 1024;

    /// Parses a body. Line ends may be CRLF or LF; empty lines are skipped.
    pub fn parse_bytes(body: &[u8]) -> Result<SessionDescription, ParseError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| ParseError::new(0, "", ParseErrorKind::NotUtf8))?;
        Self::parse(text)
    }

    /// Parses a body. Line ends may be CRLF or LF; empty lines are skipped.
    pub fn parse(text: &str) -> Result<SessionDescription, ParseError> {
        let mut lines = text
            .split('\n')
            .enumerate()
            .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
            .filter(|(_, l)| !l.is_empty());
        let mut parser = Parser::default();
        let mut count = 0;
        for (n, line) in lines.by_ref() {
            count += 1;
            if count > Self::MAX_LINES {
                return Err(ParseError::new(n, line, ParseErrorKind::TooManyLines));
            }
            parser
                .line(line)
                .map_err(|kind| ParseError::new(n, line, kind))?;
        }
        parser.finish()
    }

    /// The session-level direction attribute, if given.
    pub fn direction(&self) -> Option<Direction> {
        direction_of(&self.attributes)
    }

    /// The direction in force for media section `index`: its own attribute, else the
    /// session's, else sendrecv (RFC 3264 §5.1).
    pub fn media_direction(&self, index: usize) -> Direction {
        self.media
            .get(index)
            .and_then(MediaDescription::direction)
            .or_else(|| self.direction())
            .unwrap_or_default()
    }

    /// The connection in force for media section `index`: its own, else the session's.
    pub fn media_connection(&self, index: usize) -> Option<&Connection> {
        self.media
            .get(index)
            .and_then(|m| m.connection.as_ref())
            .or(self.connection.as_ref())
    }

    /// The body as bytes (CRLF line ends).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for SessionDescription {
    /// Prints the description with CRLF line ends, in RFC 4566 order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v=0\r\no={}\r\ns={}\r\n", self.origin, self.session_name)?;
        for o in self.opaque.iter().filter(|o| before_connection(o.kind)) {
            write!(f, "{o}")?;
        }
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        for o in self.opaque.iter().filter(|o| o.kind == 'b') {
            write!(f, "{o}")?;
        }
        for t in &self.timings {
            write!(f, "t={} {}\r\n", t.start, t.stop)?;
            for r in &t.repeats {
                write!(f, "r={r}\r\n")?;
            }
        }
        for o in self
            .opaque
            .iter()
            .filter(|o| !before_connection(o.kind) && o.kind != 'b')
        {
            write!(f, "{o}")?;
        }
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        for m in &self.media {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

/// Line-by-line state: which section we are in and what has been seen.
#[derive(Default)]
struct Parser {
    seen_version: bool,
    origin: Option<Origin>,
    session_name: Option<String>,
    connection: Option<Connection>,
    timings: Vec<Timing>,
    attributes: Vec<Attribute>,
    opaque: Vec<OpaqueLine>,
    media: Vec<MediaDescription>,
}

impl Parser {
    fn line(&mut self, line: &str) -> Result<(), ParseErrorKind> {
        if line.contains(['\r', '\0']) {
            return Err(ParseErrorKind::ControlCharacter);
        }
        let mut chars = line.chars();
        let (Some(kind), Some('=')) = (chars.next(), chars.next()) else {
            return Err(ParseErrorKind::NotTypeValue);
        };
        if !kind.is_ascii_lowercase() {
            return Err(ParseErrorKind::NotTypeValue);
        }
        let value = &line[2..];
        if !self.seen_version {
            return match (kind, value) {
                ('v', "0") => {
                    self.seen_version = true;
                    Ok(())
                }
                _ => Err(ParseErrorKind::BadVersion),
            };
        }
        match self.media.last_mut() {
            None => self.session_line(kind, value),
            // An `m=` line starts a new section wherever it is.
            Some(_) if kind == 'm' => self.session_line(kind, value),
            Some(m) => media_line(m, kind, value),
        }
    }

    fn session_line(&mut self, kind: char, value: &str) -> Result<(), ParseErrorKind> {
        match kind {
            'v' => return Err(ParseErrorKind::BadVersion),
            'o' if self.origin.is_some() => return Err(ParseErrorKind::Required('o')),
            'o' => self.origin = Some(Origin::parse(value).ok_or(ParseErrorKind::BadOrigin)?),
            's' if self.session_name.is_some() => return Err(ParseErrorKind::Required('s')),
            's' => self.session_name = Some(value.to_owned()),
            'c' if self.connection.is_some() => return Err(ParseErrorKind::OutOfPlace),
            'c' => {
                self.connection =
                    Some(Connection::parse(value).ok_or(ParseErrorKind::BadConnection)?)
            }
            't' => {
                let (start, stop) = value.split_once(' ').ok_or(ParseErrorKind::BadTiming)?;
                self.timings.push(Timing {
                    start: start.parse().map_err(|_| ParseErrorKind::BadTiming)?,
                    stop: stop.parse().map_err(|_| ParseErrorKind::BadTiming)?,
                    repeats: Vec::new(),
                });
            }
            'r' => match self.timings.last_mut() {
                Some(t) => t.repeats.push(value.to_owned()),
                None => return Err(ParseErrorKind::OutOfPlace),
            },
            'a' => self.attributes.push(Attribute::parse(value)?),
            'm' => {
                if self.origin.is_none() {
                    return Err(ParseErrorKind::Required('o'));
                }
                if self.session_name.is_none() {
                    return Err(ParseErrorKind::Required('s'));
                }
                if self.timings.is_empty() {
                    return Err(ParseErrorKind::Required('t'));
                }
                self.media
                    .push(MediaDescription::parse_m_line(value).ok_or(ParseErrorKind::BadMedia)?);
            }
            other => self.opaque.push(OpaqueLine {
                kind: other,
                value: value.to_owned(),
            }),
        }
        Ok(())
    }

    fn finish(mut self) -> Result<SessionDescription, ParseError> {
        let missing = |c| ParseError::new(0, "", ParseErrorKind::Required(c));
        if !self.seen_version {
            return Err(ParseError::new(0, "", ParseErrorKind::BadVersion));
        }
        let origin = self.origin.ok_or_else(|| missing('o'))?;
        let session_name = self.session_name.ok_or_else(|| missing('s'))?;
        if self.timings.is_empty() {
            return Err(missing('t'));
        }
        // Lines out of RFC 4566 order are put in order, as printing will (a stable sort:
        // lines of one group keep their order).
        self.opaque.sort_by_key(|o| print_group(o.kind));
        for m in &mut self.media {
            m.opaque.sort_by_key(|o| o.kind != 'i');
        }
        Ok(SessionDescription {
            origin,
            session_name,
            connection: self.connection,
            timings: self.timings,
            attributes: self.attributes,
            opaque: self.opaque,
            media: self.media,
        })
    }
}

fn media_line(m: &mut MediaDescription, kind: char, value: &str) -> Result<(), ParseErrorKind> {
    match kind {
        'v' | 'm' | 'o' | 's' | 't' | 'r' | 'z' | 'u' | 'e' | 'p' => {
            return Err(ParseErrorKind::OutOfPlace)
        }
        'c' if m.connection.is_some() => return Err(ParseErrorKind::OutOfPlace),
        'c' => m.connection = Some(Connection::parse(value).ok_or(ParseErrorKind::BadConnection)?),
        'a' => m.attributes.push(Attribute::parse(value)?),
        other => m.opaque.push(OpaqueLine {
            kind: other,
            value: value.to_owned(),
        }),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
