//! The connection line `c=<nettype> <addrtype> <connection-address>` (RFC 4566 §5.7) and
//! the old hold form `c=IN IP4 0.0.0.0` (RFC 2543, RFC 3264 §8.4).

use std::fmt;
use std::net::IpAddr;

/// The `c=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `<nettype>`, `IN`.
    pub net_type: String,
    /// `<addrtype>`, `IP4` or `IP6`.
    pub address_type: String,
    /// `<connection-address>`, possibly with `/ttl` or `/count` for multicast.
    pub address: String,
}

impl Connection {
    /// An `IN IP4` or `IN IP6` connection to this address.
    pub fn new(ip: IpAddr) -> Connection {
        Connection {
            net_type: "IN".into(),
            address_type: if ip.is_ipv4() { "IP4" } else { "IP6" }.into(),
            address: ip.to_string(),
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Connection> {
        let mut f = value.split(' ');
        let c = Connection {
            net_type: token(f.next())?,
            address_type: token(f.next())?,
            address: token(f.next())?,
        };
        f.next().is_none().then_some(c)
    }

    /// The unicast IP address, if the address is one (not a host name, not multicast
    /// with a TTL suffix).
    pub fn ip(&self) -> Option<IpAddr> {
        if self.net_type != "IN" {
            return None;
        }
        self.address.parse().ok()
    }

    /// Whether this is the RFC 2543 hold form: the unspecified address `0.0.0.0` (or `::`),
    /// meaning "do not send me media".
    pub fn is_hold(&self) -> bool {
        self.ip().is_some_and(|ip| ip.is_unspecified())
    }
}

fn token(s: Option<&str>) -> Option<String> {
    s.filter(|t| !t.is_empty()).map(str::to_owned)
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.net_type, self.address_type, self.address
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ip_and_hold_form() {
        let c = Connection::parse("IN IP4 192.0.2.1").unwrap();
        assert_eq!(c.ip(), Some("192.0.2.1".parse().unwrap()));
        assert!(!c.is_hold());
        assert!(Connection::parse("IN IP4 0.0.0.0").unwrap().is_hold());
        assert!(Connection::parse("IN IP6 ::").unwrap().is_hold());
        let named = Connection::parse("IN IP4 host.example").unwrap();
        assert_eq!(named.ip(), None);
        assert!(!named.is_hold());
        assert!(Connection::parse("IN IP4").is_none());
        assert_eq!(
            Connection::new("::1".parse().unwrap()).to_string(),
            "IN IP6 ::1"
        );
    }
}
