//! Errors of [`crate::Transports::send`].

use crate::peer::TransportKind;

/// Why a message could not be queued or sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The connection's bounded send queue is full (the peer is not reading fast enough).
    #[error("connection send queue is full")]
    QueueFull,
    /// A new connection would exceed `max_connections`.
    #[error("too many connections")]
    TooManyConnections,
    /// No transport of this kind (or address family) is configured, or it was shut down.
    #[error("no {0} transport available")]
    NoTransport(TransportKind),
    /// The socket refused the message.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}
