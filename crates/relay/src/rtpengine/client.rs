//! The rtpengine backend of [`MediaRelay`]: one UDP socket to rtpengine's `ng` port,
//! requests matched to replies by cookie, each retransmitted (same cookie, so rtpengine
//! answers from its reply cache rather than acting twice) until it is answered or its
//! time is up.
//!
//! The table of requests in flight is bounded ([`RtpEngineConfig::max_pending`]); past
//! it, and when rtpengine does not answer, the request fails with
//! [`RelayError::Unavailable`] (a 503 for the call). Not here: the messages themselves
//! (`ng.rs`), deciding when to relay.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::bencode::Value;
use super::ng;
use crate::{CallKey, CallStats, MediaRelay, RelayError, RelayFuture, RelayRequest};

/// Largest reply datagram read (rtpengine's replies carry one SDP body or a call's
/// statistics).
const MAX_REPLY: usize = 65_535;

/// Where rtpengine is and how long to wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpEngineConfig {
    /// rtpengine's `ng` listener (`[relay] rtpengine`, e.g. `127.0.0.1:2223`).
    pub address: SocketAddr,
    /// Resend an unanswered request after this long.
    pub retransmit: Duration,
    /// Give up on a request after this long in all (then 503).
    pub timeout: Duration,
    /// Requests in flight at most; more fail at once.
    pub max_pending: usize,
}

impl RtpEngineConfig {
    /// The defaults for rtpengine at `address`: resend every 500 ms, give up after 3 s,
    /// 1,024 requests in flight.
    pub fn new(address: SocketAddr) -> RtpEngineConfig {
        RtpEngineConfig {
            address,
            retransmit: Duration::from_millis(500),
            timeout: Duration::from_secs(3),
            max_pending: 1024,
        }
    }
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>;

/// The `ng` client.
pub struct RtpEngine {
    config: RtpEngineConfig,
    socket: Arc<UdpSocket>,
    pending: Pending,
    /// Cookies are `PREFIX-N`: the prefix differs per client, so a restarted server never
    /// reuses a cookie whose reply rtpengine still has cached.
    prefix: String,
    next: AtomicU64,
    reader: JoinHandle<()>,
}

impl RtpEngine {
    /// Opens the socket towards `config.address` and starts reading replies (inside a
    /// tokio runtime).
    pub async fn connect(config: RtpEngineConfig) -> std::io::Result<RtpEngine> {
        let local: SocketAddr = if config.address.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = Arc::new(UdpSocket::bind(local).await?);
        socket.connect(config.address).await?;
        let pending: Pending = Arc::default();
        let reader = tokio::spawn(read_replies(socket.clone(), pending.clone()));
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Ok(RtpEngine {
            prefix: format!("sb{}-{:x}", std::process::id(), nanos),
            config,
            socket,
            pending,
            next: AtomicU64::new(1),
            reader,
        })
    }

    /// Asks rtpengine for a `pong` (start-up check, health probes).
    pub async fn ping(&self) -> Result<(), RelayError> {
        let reply = self.request(ng::ping()).await?;
        ng::check(&reply)
    }

    /// Requests in flight now.
    pub fn pending(&self) -> usize {
        self.pending.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Sends `message` and waits for its reply, resending on the retransmit interval.
    async fn request(&self, message: Value) -> Result<Value, RelayError> {
        let cookie = format!(
            "{}-{}",
            self.prefix,
            self.next.fetch_add(1, Ordering::Relaxed)
        );
        let (tx, mut rx) = oneshot::channel();
        {
            let mut pending = self
                .pending
                .lock()
                .map_err(|_| RelayError::Unavailable("ng client poisoned".into()))?;
            if pending.len() >= self.config.max_pending {
                return Err(RelayError::Unavailable(format!(
                    "{} rtpengine requests already in flight",
                    pending.len()
                )));
            }
            pending.insert(cookie.clone(), tx);
        }
        // Whatever happens (answer, timeout, the caller dropping this future), the
        // cookie leaves the table.
        let _entry = PendingEntry {
            pending: &self.pending,
            cookie: &cookie,
        };
        let wire = ng::frame(&cookie, &message);
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        loop {
            if let Err(e) = self.socket.send(&wire).await {
                tracing::debug!(error = %e, "rtpengine: send failed, will resend");
            }
            let wake = (tokio::time::Instant::now() + self.config.retransmit).min(deadline);
            match tokio::time::timeout_at(wake, &mut rx).await {
                Ok(Ok(reply)) => return Ok(reply),
                Ok(Err(_)) => return Err(RelayError::Unavailable("ng reader stopped".into())),
                Err(_) if tokio::time::Instant::now() >= deadline => {
                    return Err(RelayError::Unavailable(format!(
                        "no answer from rtpengine at {} within {:?}",
                        self.config.address, self.config.timeout
                    )));
                }
                Err(_) => {}
            }
        }
    }
}

impl Drop for RtpEngine {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

struct PendingEntry<'a> {
    pending: &'a Pending,
    cookie: &'a str,
}

impl Drop for PendingEntry<'_> {
    fn drop(&mut self) {
        if let Ok(mut p) = self.pending.lock() {
            p.remove(self.cookie);
        }
    }
}

/// Hands each reply to the request waiting for its cookie; late replies (to a request
/// already answered or given up) and garbage are dropped.
async fn read_replies(socket: Arc<UdpSocket>, pending: Pending) {
    let mut buf = vec![0u8; MAX_REPLY];
    loop {
        let n = match socket.recv(&mut buf).await {
            Ok(n) => n,
            // ICMP port unreachable (rtpengine not running) surfaces here on a connected
            // socket: the request's own timeout answers for it.
            Err(e) => {
                tracing::debug!(error = %e, "rtpengine: receive failed");
                continue;
            }
        };
        let (cookie, reply) = match ng::unframe(&buf[..n]) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "rtpengine: unreadable ng reply dropped");
                continue;
            }
        };
        let waiter = pending.lock().ok().and_then(|mut p| p.remove(&cookie));
        match waiter {
            Some(tx) => {
                let _ = tx.send(reply);
            }
            None => tracing::debug!(%cookie, "rtpengine: late or unknown reply dropped"),
        }
    }
}

impl MediaRelay for RtpEngine {
    fn name(&self) -> &'static str {
        "rtpengine"
    }

    fn offer(&self, request: RelayRequest) -> RelayFuture<'_, String> {
        Box::pin(async move { ng::reply_sdp(&self.request(ng::offer(&request)).await?) })
    }

    fn answer(&self, request: RelayRequest) -> RelayFuture<'_, String> {
        Box::pin(async move { ng::reply_sdp(&self.request(ng::answer(&request)).await?) })
    }

    fn delete(&self, call: CallKey) -> RelayFuture<'_, CallStats> {
        Box::pin(async move {
            let reply = self.request(ng::delete(&call)).await?;
            ng::reply_stats(&reply, &call.from_tag)
        })
    }
}
