//! Where the proxy sends a message: the server's one peer type,
//! [`sip_message::Peer`], under the name the proxy gives it. The server hands it to the
//! transports as it is.

pub use sip_message::Transport;

/// A next hop (or a request's source): transport, address and, for connections, which
/// one.
pub type Destination = sip_message::Peer;

/// A phone at 192.0.2.1:5060 over UDP, for unit tests' subscriptions.
#[cfg(test)]
pub(crate) fn test_phone() -> Destination {
    Destination {
        transport: Transport::Udp,
        addr: "192.0.2.1:5060".parse().unwrap_or_else(|_| unreachable!()),
        conn: None,
    }
}
