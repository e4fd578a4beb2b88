//! SIP transports for Switchboard: UDP, TCP, TLS and WebSocket (WS, WSS), over IPv4 and
//! IPv6, on tokio.
//!
//! This crate owns the bytes in and out: sockets (SO_REUSEPORT UDP workers, TCP
//! and TLS listeners, the TLS certificate and handshakes), the stream connection table (RFC 3261 §18 connection reuse, idle timeout,
//! bounded per-connection send queues) and stream framing (Content-Length framing of
//! RFC 3261 §18.3 and the CRLF keep-alives of RFC 5626) through
//! [`sip_message::StreamFramer`]. Each complete message goes to a [`Handler`] with its peer.
//!
//! It does not parse SIP beyond framing, nor hold any SIP logic (Via `received`/`rport`,
//! transactions, routing, which transport to pick): that belongs to the layers above.

mod active;
mod config;
mod connection;
mod error;
mod handler;
#[cfg(target_os = "linux")]
mod icmp;
mod peer;
mod stats;
mod stun;
mod table;
mod tcp;
mod tls;
mod tls_check;
mod transports;
mod udp;
#[cfg(target_os = "linux")]
mod udp_batch;
mod ws;

pub use config::TransportConfig;
pub use error::SendError;
pub use handler::{CloseAfter, Handler, SendFailure};
pub use peer::{ConnectionId, Peer, Received, TransportKind};
pub use stats::TransportStats;
pub use tls::{TlsContext, TlsError, TlsSettings};
pub use tls_check::{fingerprint, PeerCheck};
pub use transports::Transports;
