//! One media description: the `m=` line and the `i=`, `c=`, `b=`, `k=` and `a=` lines that
//! follow it (RFC 4566 §5.14), with typed access to what offer/answer needs.

use std::fmt;

use crate::attribute::{Attribute, Fmtp, Rtpmap};
use crate::connection::Connection;
use crate::direction::Direction;
use crate::session_description::OpaqueLine;

/// A media section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// `<media>`: `audio`, `video`, ...
    pub media: String,
    /// `<port>`; 0 rejects or disables the stream (RFC 3264 §6, §8.2).
    pub port: u16,
    /// The `/<number of ports>` suffix, when given.
    pub port_count: Option<u16>,
    /// `<proto>`: `RTP/AVP`, `RTP/SAVP`, `udptl`, ...
    pub proto: String,
    /// `<fmt>` list: payload type numbers for RTP.
    pub formats: Vec<String>,
    /// Media-level `c=`, overriding the session's.
    pub connection: Option<Connection>,
    /// `a=` lines in order.
    pub attributes: Vec<Attribute>,
    /// `i=`, `b=`, `k=` (and unknown) lines, kept as written; `i=` prints before `c=`.
    pub opaque: Vec<OpaqueLine>,
}

impl MediaDescription {
    /// A media section with no connection, attributes or opaque lines.
    pub fn new(media: &str, port: u16, proto: &str, formats: Vec<String>) -> Self {
        MediaDescription {
            media: media.into(),
            port,
            port_count: None,
            proto: proto.into(),
            formats,
            connection: None,
            attributes: Vec::new(),
            opaque: Vec::new(),
        }
    }

    /// Parses the value of an `m=` line.
    pub(crate) fn parse_m_line(value: &str) -> Option<MediaDescription> {
        let mut f = value.split(' ');
        let media = f.next().filter(|m| !m.is_empty())?;
        let port_field = f.next()?;
        let (port, port_count) = match port_field.split_once('/') {
            Some((p, n)) => (p.parse().ok()?, Some(n.parse().ok()?)),
            None => (port_field.parse().ok()?, None),
        };
        let proto = f.next().filter(|p| !p.is_empty())?;
        let formats: Vec<String> = f.map(str::to_owned).collect();
        if formats.is_empty() || formats.iter().any(String::is_empty) {
            return None;
        }
        let mut m = MediaDescription::new(media, port, proto, formats);
        m.port_count = port_count;
        Some(m)
    }

    /// The `a=rtpmap` for this payload type.
    pub fn rtpmap(&self, payload_type: u8) -> Option<&Rtpmap> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Rtpmap(r) if r.payload_type == payload_type => Some(r),
            _ => None,
        })
    }

    /// The `a=fmtp` for this format.
    pub fn fmtp(&self, format: &str) -> Option<&Fmtp> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Fmtp(p) if p.format == format => Some(p),
            _ => None,
        })
    }

    /// The `a=ptime` in milliseconds, if given.
    pub fn ptime(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Ptime(ms) => Some(*ms),
            _ => None,
        })
    }

    /// The media-level direction attribute, if given.
    pub fn direction(&self) -> Option<Direction> {
        direction_of(&self.attributes)
    }

    /// Sets the direction attribute, replacing any present.
    pub fn set_direction(&mut self, direction: Direction) {
        set_direction(&mut self.attributes, direction);
    }

    /// The formats that are RTP payload type numbers (0-127), in order.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| f.parse().ok().filter(|&p: &u8| p <= 127))
    }

    /// Whether the stream is rejected or disabled (port 0).
    pub fn is_rejected(&self) -> bool {
        self.port == 0
    }
}

pub(crate) fn direction_of(attributes: &[Attribute]) -> Option<Direction> {
    attributes.iter().find_map(|a| match a {
        Attribute::Direction(d) => Some(*d),
        _ => None,
    })
}

pub(crate) fn set_direction(attributes: &mut Vec<Attribute>, direction: Direction) {
    attributes.retain(|a| !matches!(a, Attribute::Direction(_)));
    attributes.push(Attribute::Direction(direction));
}

impl fmt::Display for MediaDescription {
    /// Prints the section with CRLF line ends, in RFC 4566 order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.media, self.port)?;
        if let Some(n) = self.port_count {
            write!(f, "/{n}")?;
        }
        write!(f, " {}", self.proto)?;
        for fmt in &self.formats {
            write!(f, " {fmt}")?;
        }
        f.write_str("\r\n")?;
        for o in self.opaque.iter().filter(|o| o.kind == 'i') {
            write!(f, "{o}")?;
        }
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        for o in self.opaque.iter().filter(|o| o.kind != 'i') {
            write!(f, "{o}")?;
        }
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m_line_fields() {
        let m = MediaDescription::parse_m_line("audio 49170/2 RTP/AVP 0 8 101").unwrap();
        assert_eq!((m.port, m.port_count), (49170, Some(2)));
        assert_eq!(m.payload_types().collect::<Vec<_>>(), [0, 8, 101]);
        assert!(MediaDescription::parse_m_line("audio 49170 RTP/AVP").is_none());
        assert!(MediaDescription::parse_m_line("audio 70000 RTP/AVP 0").is_none());
        assert!(MediaDescription::parse_m_line("audio 1 RTP/AVP 0  8").is_none());
        let image = MediaDescription::parse_m_line("image 0 udptl t38").unwrap();
        assert!(image.is_rejected());
        assert_eq!(image.payload_types().count(), 0);
    }

    #[test]
    fn set_direction_replaces() {
        let mut m = MediaDescription::new("audio", 4000, "RTP/AVP", vec!["0".into()]);
        assert_eq!(m.direction(), None);
        m.set_direction(Direction::SendOnly);
        m.set_direction(Direction::Inactive);
        assert_eq!(m.direction(), Some(Direction::Inactive));
        assert_eq!(m.attributes.len(), 1);
    }
}
