//! Attribute lines `a=<name>[:<value>]` (RFC 4566 §5.13, §6) with the ones a G.711 media
//! engine needs typed: `rtpmap`, `fmtp`, `ptime` and the direction attributes. Every other
//! attribute is kept by name and value so that printing gives it back.

use std::fmt;

use crate::direction::Direction;
use crate::error::ParseErrorKind;

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtpmap {
    /// RTP payload type, 0 to 127.
    pub payload_type: u8,
    /// Encoding name as written (`PCMU`, `telephone-event`); compare case-insensitively.
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channels (audio), when given.
    pub channels: Option<u32>,
}

impl Rtpmap {
    fn parse(value: &str) -> Option<Rtpmap> {
        let (pt, rest) = value.split_once(' ')?;
        let payload_type: u8 = pt.parse().ok().filter(|&p| p <= 127)?;
        let mut parts = rest.trim().split('/');
        let encoding = parts.next().filter(|e| !e.is_empty() && !e.contains(' '))?;
        let clock_rate = parts.next()?.parse().ok()?;
        let channels = match parts.next() {
            Some(c) => Some(c.parse().ok()?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Rtpmap {
            payload_type,
            encoding: encoding.to_owned(),
            clock_rate,
            channels,
        })
    }

    /// Whether this maps the named encoding at this clock rate (mono or unspecified).
    pub fn is(&self, encoding: &str, clock_rate: u32) -> bool {
        self.encoding.eq_ignore_ascii_case(encoding)
            && self.clock_rate == clock_rate
            && self.channels.is_none_or(|c| c == 1)
    }
}

/// `a=fmtp:<format> <format specific parameters>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp {
    /// The format (payload type) the parameters apply to.
    pub format: String,
    /// The parameters, as written (e.g. `0-16` for telephone-event).
    pub parameters: String,
}

/// One `a=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `a=rtpmap:`.
    Rtpmap(Rtpmap),
    /// `a=fmtp:`.
    Fmtp(Fmtp),
    /// `a=ptime:<milliseconds>`.
    Ptime(u32),
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive`.
    Direction(Direction),
    /// Any other attribute, kept as written.
    Other {
        /// The name, before the first `:`.
        name: String,
        /// The value after the first `:`, if there is a `:`.
        value: Option<String>,
    },
}

impl Attribute {
    pub(crate) fn parse(line: &str) -> Result<Attribute, ParseErrorKind> {
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (line, None),
        };
        if name.is_empty() {
            return Err(ParseErrorKind::NotTypeValue);
        }
        match (name, value) {
            ("rtpmap", Some(v)) => Rtpmap::parse(v)
                .map(Attribute::Rtpmap)
                .ok_or(ParseErrorKind::BadRtpmap),
            ("rtpmap", None) => Err(ParseErrorKind::BadRtpmap),
            ("fmtp", Some(v)) => {
                let (format, parameters) = v.split_once(' ').unwrap_or((v, ""));
                if format.is_empty() {
                    return Err(ParseErrorKind::BadFmtp);
                }
                Ok(Attribute::Fmtp(Fmtp {
                    format: format.to_owned(),
                    parameters: parameters.trim_start().to_owned(),
                }))
            }
            ("fmtp", None) => Err(ParseErrorKind::BadFmtp),
            ("ptime", v) => v
                .and_then(|v| v.trim().parse().ok())
                .map(Attribute::Ptime)
                .ok_or(ParseErrorKind::BadPtime),
            (n, v) => match Direction::from_name(n) {
                Some(d) if v.is_none() => Ok(Attribute::Direction(d)),
                Some(_) => Err(ParseErrorKind::BadDirection),
                None => Ok(Attribute::Other {
                    name: n.to_owned(),
                    value: v.map(str::to_owned),
                }),
            },
        }
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attribute::Rtpmap(r) => {
                write!(
                    f,
                    "rtpmap:{} {}/{}",
                    r.payload_type, r.encoding, r.clock_rate
                )?;
                match r.channels {
                    Some(c) => write!(f, "/{c}"),
                    None => Ok(()),
                }
            }
            Attribute::Fmtp(p) if p.parameters.is_empty() => write!(f, "fmtp:{}", p.format),
            Attribute::Fmtp(p) => write!(f, "fmtp:{} {}", p.format, p.parameters),
            Attribute::Ptime(ms) => write!(f, "ptime:{ms}"),
            Attribute::Direction(d) => f.write_str(d.as_str()),
            Attribute::Other { name, value: None } => f.write_str(name),
            Attribute::Other {
                name,
                value: Some(v),
            } => write!(f, "{name}:{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) -> Attribute {
        let a = Attribute::parse(s).unwrap();
        assert_eq!(a.to_string(), s);
        a
    }

    #[test]
    fn typed_attributes() {
        let Attribute::Rtpmap(r) = round_trip("rtpmap:101 telephone-event/8000") else {
            panic!("not rtpmap")
        };
        assert_eq!(r.payload_type, 101);
        assert!(r.is("TELEPHONE-EVENT", 8000));
        assert!(matches!(
            round_trip("rtpmap:8 PCMA/8000/1"),
            Attribute::Rtpmap(Rtpmap {
                channels: Some(1),
                ..
            })
        ));
        assert!(!Rtpmap::parse("9 G722/8000/2").unwrap().is("G722", 8000));
        assert_eq!(
            round_trip("fmtp:101 0-16"),
            Attribute::Fmtp(Fmtp {
                format: "101".into(),
                parameters: "0-16".into()
            })
        );
        assert_eq!(round_trip("ptime:20"), Attribute::Ptime(20));
        assert_eq!(
            round_trip("sendonly"),
            Attribute::Direction(Direction::SendOnly)
        );
        assert_eq!(
            round_trip("rtcp:53020 IN IP4 126.16.64.4"),
            Attribute::Other {
                name: "rtcp".into(),
                value: Some("53020 IN IP4 126.16.64.4".into())
            }
        );
        round_trip("ice-lite");
        round_trip("x-empty:");
    }

    #[test]
    fn bad_attributes_say_which() {
        use ParseErrorKind::*;
        assert_eq!(Attribute::parse("rtpmap:0"), Err(BadRtpmap));
        assert_eq!(Attribute::parse("rtpmap:128 X/8000"), Err(BadRtpmap));
        assert_eq!(Attribute::parse("rtpmap:0 PCMU"), Err(BadRtpmap));
        assert_eq!(Attribute::parse("rtpmap:0 PCMU/8k"), Err(BadRtpmap));
        assert_eq!(Attribute::parse("rtpmap:0 PCMU/8000/1/2"), Err(BadRtpmap));
        assert_eq!(Attribute::parse("fmtp: 0-15"), Err(BadFmtp));
        assert_eq!(Attribute::parse("ptime:twenty"), Err(BadPtime));
        assert_eq!(Attribute::parse("sendonly:yes"), Err(BadDirection));
        assert_eq!(Attribute::parse(":x"), Err(NotTypeValue));
    }
}
