//! Who a message came from or goes to, and what was received.

use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;

/// A SIP transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// SIP over UDP (unreliable, datagram per message).
    Udp,
    /// SIP over TCP (reliable, framed by Content-Length).
    Tcp,
}

impl TransportKind {
    /// The transport token as written in a Via header ("UDP", "TCP").
    pub fn as_str(&self) -> &'static str {
        match self {
            TransportKind::Udp => "UDP",
            TransportKind::Tcp => "TCP",
        }
    }

    /// Whether the transport is reliable (RFC 3261 §17: no retransmissions over it).
    pub fn is_reliable(&self) -> bool {
        match self {
            TransportKind::Udp => false,
            TransportKind::Tcp => true,
        }
    }

    /// Parses a Via transport token, case-insensitively.
    pub fn from_via(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("UDP") {
            Some(TransportKind::Udp)
        } else if s.eq_ignore_ascii_case("TCP") {
            Some(TransportKind::Tcp)
        } else {
            None
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies one TCP connection for the lifetime of a [`crate::Transports`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId(pub u64);

/// The far end of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// The transport.
    pub kind: TransportKind,
    /// The remote address (source of a received message, destination of a sent one).
    pub addr: SocketAddr,
    /// The connection a message arrived on, or should preferably leave on (TCP only).
    pub conn: Option<ConnectionId>,
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.addr)?;
        if let Some(ConnectionId(id)) = self.conn {
            write!(f, "#{id}")?;
        }
        Ok(())
    }
}

/// One complete message as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The message bytes (one datagram, or one framed stream message).
    pub data: Bytes,
    /// Where it came from.
    pub peer: Peer,
    /// The local address it arrived on. For UDP this is the bound address of the
    /// receiving socket (a wildcard if bound to one); for TCP the connection's local end.
    pub local: SocketAddr,
}
