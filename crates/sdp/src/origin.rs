//! The origin line `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>`
//! (RFC 4566 §5.2), and the version increment every changed re-offer needs (RFC 3264 §8).

use std::fmt;

/// The `o=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `<username>` (`-` when there is none).
    pub username: String,
    /// `<sess-id>`: kept as text because peers send numbers wider than 64 bits.
    pub session_id: String,
    /// `<sess-version>`: incremented by each changed description of the session.
    pub session_version: u64,
    /// `<nettype>`, `IN`.
    pub net_type: String,
    /// `<addrtype>`, `IP4` or `IP6`.
    pub address_type: String,
    /// `<unicast-address>`.
    pub address: String,
}

impl Origin {
    pub(crate) fn parse(value: &str) -> Option<Origin> {
        let mut f = value.split(' ');
        let o = Origin {
            username: token(f.next())?,
            session_id: token(f.next())?,
            session_version: f.next()?.parse().ok()?,
            net_type: token(f.next())?,
            address_type: token(f.next())?,
            address: token(f.next())?,
        };
        f.next().is_none().then_some(o)
    }

    /// The same origin with the session version incremented (wrapping), for a re-offer or
    /// a changed answer (RFC 3264 §8).
    pub fn next_version(&self) -> Origin {
        Origin {
            session_version: self.session_version.wrapping_add(1),
            ..self.clone()
        }
    }
}

fn token(s: Option<&str>) -> Option<String> {
    s.filter(|t| !t.is_empty()).map(str::to_owned)
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username,
            self.session_id,
            self.session_version,
            self.net_type,
            self.address_type,
            self.address
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let s = "- 8000 8000 IN IP4 192.0.2.10";
        let o = Origin::parse(s).unwrap();
        assert_eq!(o.session_version, 8000);
        assert_eq!(o.to_string(), s);
        assert_eq!(o.next_version().session_version, 8001);
        assert_eq!(o.next_version().session_id, "8000");
    }

    #[test]
    fn refuses_short_long_and_non_numeric() {
        assert!(Origin::parse("- 1 2 IN IP4").is_none());
        assert!(Origin::parse("- 1 2 IN IP4 h extra").is_none());
        assert!(Origin::parse("- 1 x IN IP4 h").is_none());
        assert!(Origin::parse("-  1 2 IN IP4 h").is_none());
    }
}
