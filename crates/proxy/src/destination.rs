//! Where the proxy sends a message: the server's one peer type,
//! [`sip_message::Peer`], under the name the proxy gives it. The server hands it to the
//! transports as it is.

pub use sip_message::Transport;

/// A next hop (or a request's source): transport, address and, for connections, which
/// one.
pub type Destination = sip_message::Peer;
