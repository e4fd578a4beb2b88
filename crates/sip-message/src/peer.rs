//! Where a message comes from or goes to: a transport, an address and, on a stream
//! transport, the connection. One type for the whole server: the `transport` crate reads
//! and writes with it, the proxy routes with it (as `proxy::Destination`), the transaction
//! layer keys its transactions' destinations on it.
//!
//! Not here: sockets or connections themselves (the `transport` crate).

use std::fmt;
use std::net::SocketAddr;

/// A SIP transport protocol, as named in Via.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// SIP over UDP (unreliable, a datagram per message).
    Udp,
    /// SIP over TCP (reliable, framed by Content-Length).
    Tcp,
    /// SIP over TLS over TCP (RFC 3261 §26; framed as TCP).
    Tls,
    /// SIP over WebSocket (RFC 7118; a message per WebSocket message).
    Ws,
    /// SIP over secure WebSocket (RFC 7118, WebSocket over TLS).
    Wss,
}

impl Transport {
    /// The Via token ("UDP", "TCP", "TLS").
    pub fn as_str(&self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }

    /// Lower case, for `transport=` URI parameters and binding sources.
    pub fn lower(&self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }

    /// The URI parameter a SIP URI of ours carries for this transport: nothing for UDP
    /// (the default), else `;transport=tcp`, `;transport=tls`, ... (Contact, Record-Route).
    pub fn uri_param(&self) -> &'static str {
        match self {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
            Transport::Tls => ";transport=tls",
            Transport::Ws => ";transport=ws",
            Transport::Wss => ";transport=wss",
        }
    }

    /// Parses a Via token or a URI `transport` value, case-insensitively.
    pub fn parse(s: &str) -> Option<Transport> {
        if s.eq_ignore_ascii_case("udp") {
            Some(Transport::Udp)
        } else if s.eq_ignore_ascii_case("tcp") {
            Some(Transport::Tcp)
        } else if s.eq_ignore_ascii_case("tls") {
            Some(Transport::Tls)
        } else if s.eq_ignore_ascii_case("ws") {
            Some(Transport::Ws)
        } else if s.eq_ignore_ascii_case("wss") {
            Some(Transport::Wss)
        } else {
            None
        }
    }

    /// [`Transport::parse`] under the name the transport layer uses.
    pub fn from_via(s: &str) -> Option<Transport> {
        Transport::parse(s)
    }

    /// Reliable transports need no retransmissions (RFC 3261 §17).
    pub fn is_reliable(&self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// Stream transports carry messages on connections (framed by Content-Length).
    pub fn is_stream(&self) -> bool {
        matches!(self, Transport::Tcp | Transport::Tls)
    }

    /// WebSocket transports: connections only the client opens (RFC 7118 §5).
    pub fn is_websocket(&self) -> bool {
        matches!(self, Transport::Ws | Transport::Wss)
    }

    /// The port a URI without one means (RFC 3263 §4.2: 5061 for TLS, else 5060).
    pub fn default_port(&self) -> u16 {
        match self {
            Transport::Tls => 5061,
            Transport::Udp | Transport::Tcp => 5060,
            Transport::Ws => 80,
            Transport::Wss => 443,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies one stream connection for the lifetime of the server's transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId(pub u64);

/// The far end of a message: where it came from, or where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// The transport.
    pub transport: Transport,
    /// The remote address.
    pub addr: SocketAddr,
    /// The connection a message arrived on, or should preferably leave on (streams).
    pub conn: Option<ConnectionId>,
}

impl fmt::Display for Peer {
    /// `udp:192.0.2.1:5060`: how a binding records where a phone is, and how logs name
    /// a peer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.transport.lower(), self.addr)
    }
}

impl Peer {
    /// `udp:192.0.2.1:5060` (see the `Display` impl).
    pub fn to_source_string(&self) -> String {
        self.to_string()
    }

    /// Parses [`Peer::to_source_string`] output.
    pub fn from_source_string(s: &str) -> Option<Peer> {
        let (t, addr) = s.split_once(':')?;
        Some(Peer {
            transport: Transport::parse(t)?,
            addr: addr.parse().ok()?,
            conn: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_strings_round_trip() {
        let p = Peer {
            transport: Transport::Tcp,
            addr: "192.0.2.1:5070".parse().unwrap(),
            conn: Some(ConnectionId(4)),
        };
        assert_eq!(p.to_source_string(), "tcp:192.0.2.1:5070");
        let back = Peer::from_source_string("tcp:192.0.2.1:5070").unwrap();
        assert_eq!(
            (back.transport, back.addr, back.conn),
            (p.transport, p.addr, None)
        );
        assert_eq!(Peer::from_source_string("sctp:192.0.2.1:5070"), None);
    }

    #[test]
    fn uri_params_name_every_transport_but_udp_and_parse_back() {
        assert_eq!(Transport::Udp.uri_param(), "");
        for t in [
            Transport::Tcp,
            Transport::Tls,
            Transport::Ws,
            Transport::Wss,
        ] {
            let value = t.uri_param().strip_prefix(";transport=").unwrap();
            assert_eq!(Transport::parse(value), Some(t));
        }
    }
}
