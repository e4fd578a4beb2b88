//! What was received, and from whom. The peer type itself ([`Peer`], [`TransportKind`],
//! [`ConnectionId`]) is `sip_message`'s, shared with the proxy and the transaction layer.

use std::net::SocketAddr;

use bytes::Bytes;

pub use sip_message::{ConnectionId, Peer, Transport as TransportKind};

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
