//! Transport counters.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the transport counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Datagrams handed to the handler (keep-alives not included).
    pub udp_rx: u64,
    /// Datagrams sent.
    pub udp_tx: u64,
    /// Stream messages handed to the handler (keep-alives not included).
    pub tcp_rx: u64,
    /// Stream messages written (keep-alive answers not included).
    pub tcp_tx: u64,
    /// Connections closed on a framing error, and oversized datagrams dropped.
    pub framing_errors: u64,
    /// Inbound connections refused because the table was full.
    pub refused_connections: u64,
    /// Messages that failed to go out, at once or later (connect or write failure).
    pub send_errors: u64,
    /// TLS handshakes that failed, inbound or outbound (a certificate refused, a peer
    /// that does not speak TLS, a timeout).
    pub tls_handshake_failures: u64,
    /// STUN Binding requests answered on a UDP port (RFC 5626 §8 keep-alives).
    pub stun_answered: u64,
}

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub udp_rx: Counter,
    pub udp_tx: Counter,
    pub tcp_rx: Counter,
    pub tcp_tx: Counter,
    pub framing_errors: Counter,
    pub refused_connections: Counter,
    pub send_errors: Counter,
    pub tls_handshake_failures: Counter,
    pub stun_answered: Counter,
}

impl Stats {
    pub fn snapshot(&self) -> TransportStats {
        TransportStats {
            udp_rx: self.udp_rx.get(),
            udp_tx: self.udp_tx.get(),
            tcp_rx: self.tcp_rx.get(),
            tcp_tx: self.tcp_tx.get(),
            framing_errors: self.framing_errors.get(),
            refused_connections: self.refused_connections.get(),
            send_errors: self.send_errors.get(),
            tls_handshake_failures: self.tls_handshake_failures.get(),
            stun_answered: self.stun_answered.get(),
        }
    }
}

/// A relaxed monotonic counter.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
