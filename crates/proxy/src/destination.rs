//! Where the proxy sends a message: the server maps this to a socket or a connection.

use std::net::SocketAddr;

/// A transport protocol, as named in Via.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP
    Udp,
    /// TCP
    Tcp,
}

impl Transport {
    /// The Via token.
    pub fn as_str(&self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    /// Lowercase name for `transport=` URI parameters and binding sources.
    pub fn lower(&self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }

    /// Parses a Via token or URI `transport` value.
    pub fn parse(s: &str) -> Option<Transport> {
        if s.eq_ignore_ascii_case("udp") {
            Some(Transport::Udp)
        } else if s.eq_ignore_ascii_case("tcp") {
            Some(Transport::Tcp)
        } else {
            None
        }
    }

    /// Stream transports need no retransmissions.
    pub fn is_reliable(&self) -> bool {
        matches!(self, Transport::Tcp)
    }
}

/// A next hop: transport, address and, for connections, which one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Destination {
    /// The transport.
    pub transport: Transport,
    /// The address.
    pub addr: SocketAddr,
    /// The connection the message came in on, to answer on it (stream transports).
    pub conn: Option<u64>,
}

impl std::fmt::Display for Destination {
    /// `udp:192.0.2.1:5060` — how a binding records where a phone is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.transport.lower(), self.addr)
    }
}

impl Destination {
    /// `udp:192.0.2.1:5060` — how a binding records where a phone is.
    pub fn to_source_string(&self) -> String {
        self.to_string()
    }

    /// Parses [`Destination::to_source_string`] output.
    pub fn from_source_string(s: &str) -> Option<Destination> {
        let (t, addr) = s.split_once(':')?;
        Some(Destination {
            transport: Transport::parse(t)?,
            addr: addr.parse().ok()?,
            conn: None,
        })
    }
}
