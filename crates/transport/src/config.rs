//! Transport configuration.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// What to bind and the bounds to enforce.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// UDP addresses to bind. Port 0 is allowed: the real port is in
    /// [`crate::Transports::local_addrs`].
    pub udp: Vec<SocketAddr>,
    /// TCP addresses to listen on. Port 0 is allowed as for `udp`.
    pub tcp: Vec<SocketAddr>,
    /// TLS addresses to listen on (port 0 allowed); they need `tls_context`.
    pub tls: Vec<SocketAddr>,
    /// The certificate, key and peer checks for TLS, inbound and outbound. None: no TLS
    /// (a TLS listener is then an error, a TLS send fails with `NoTransport`).
    pub tls_context: Option<std::sync::Arc<crate::tls::TlsContext>>,
    /// WebSocket (RFC 7118) addresses to listen on.
    pub ws: Vec<SocketAddr>,
    /// Secure WebSocket addresses to listen on; they need `tls_context`.
    pub wss: Vec<SocketAddr>,
    /// Origins a WebSocket upgrade may come from (e.g. `https://phone.example.com`);
    /// empty: any. Others get 403.
    pub ws_origins: Vec<String>,
    /// Sockets per UDP address, bound with SO_REUSEPORT; 0 means the number of cores.
    pub udp_workers: usize,
    /// Bound on the TCP connection table (inbound and outbound). New inbound connections
    /// beyond it are accepted then closed, and counted in `refused_connections`.
    pub max_connections: usize,
    /// TCP connections with no traffic either way for this long are closed.
    pub tcp_idle_timeout: Duration,
    /// Bound on a message (header section, and body) for the stream framer, and the
    /// UDP receive buffer size; larger datagrams are dropped.
    pub max_message_bytes: usize,
    /// Per-connection bounded outgoing queue, in messages.
    pub send_queue: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        let any = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 5060));
        TransportConfig {
            udp: vec![any],
            tcp: vec![any],
            tls: Vec::new(),
            tls_context: None,
            ws: Vec::new(),
            wss: Vec::new(),
            ws_origins: Vec::new(),
            udp_workers: 0,
            max_connections: 4096,
            tcp_idle_timeout: Duration::from_secs(600),
            max_message_bytes: 65535,
            send_queue: 256,
        }
    }
}
