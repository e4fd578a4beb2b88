//! [`Transports`]: starting the sockets, sending, and shutting down.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::active::ActiveTasks;
use crate::config::TransportConfig;
use crate::error::SendError;
use crate::handler::Handler;
use crate::peer::{ConnectionId, Peer, TransportKind};
use crate::stats::{Stats, TransportStats};
use crate::table::{ConnTable, Routed};
use crate::udp::UdpEndpoint;
use crate::{tcp, udp};

/// How long shutdown waits for connections to flush and close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// State shared by the handle and every task.
pub(crate) struct Shared {
    pub config: TransportConfig,
    pub handler: Arc<dyn Handler>,
    pub stats: Stats,
    pub conns: ConnTable,
    pub udp: Vec<UdpEndpoint>,
    pub tcp: Vec<SocketAddr>,
    pub tls_listens: Vec<SocketAddr>,
    pub ws_listens: Vec<(TransportKind, SocketAddr)>,
    pub tls: Option<Arc<crate::tls::TlsContext>>,
    pub rt: Handle,
    pub shutdown: watch::Sender<bool>,
    pub active: Arc<ActiveTasks>,
    closing: AtomicBool,
    next_conn: AtomicU64,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    pub fn next_conn_id(&self) -> ConnectionId {
        ConnectionId(self.next_conn.fetch_add(1, Ordering::Relaxed))
    }
}

/// The running transports: UDP sockets, TCP listeners and the connection table.
/// Cheap to clone. Tasks run until [`Transports::shutdown`].
#[derive(Clone)]
pub struct Transports {
    shared: Arc<Shared>,
}

impl fmt::Debug for Transports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transports")
            .field("local_addrs", &self.local_addrs())
            .field("connections", &self.connection_count())
            .finish_non_exhaustive()
    }
}

impl Transports {
    /// Binds every configured address and starts receiving; must be called within a
    /// tokio runtime (whose handle is kept for the tasks `send` spawns).
    pub async fn start(
        config: TransportConfig,
        handler: Arc<dyn Handler>,
    ) -> io::Result<Transports> {
        let workers = match config.udp_workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        #[cfg(not(all(unix, not(any(target_os = "solaris", target_os = "illumos")))))]
        let workers = 1; // no SO_REUSEPORT here
        let udp = config
            .udp
            .iter()
            .map(|a| udp::bind(*a, workers))
            .collect::<io::Result<Vec<_>>>()?;
        let listeners = config
            .tcp
            .iter()
            .map(|a| tcp::listen(*a))
            .collect::<io::Result<Vec<_>>>()?;
        let tcp = listeners
            .iter()
            .map(|l| l.local_addr())
            .collect::<io::Result<Vec<_>>>()?;
        if !(config.tls.is_empty() && config.wss.is_empty()) && config.tls_context.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "TLS listeners need a certificate and key",
            ));
        }
        let tls_listeners = config
            .tls
            .iter()
            .map(|a| tcp::listen(*a))
            .collect::<io::Result<Vec<_>>>()?;
        let tls_listens = tls_listeners
            .iter()
            .map(|l| l.local_addr())
            .collect::<io::Result<Vec<_>>>()?;
        let ws_listeners = config
            .ws
            .iter()
            .map(|a| (TransportKind::Ws, a))
            .chain(config.wss.iter().map(|a| (TransportKind::Wss, a)))
            .map(|(k, a)| tcp::listen(*a).map(|l| (k, l)))
            .collect::<io::Result<Vec<_>>>()?;
        let ws_listens = ws_listeners
            .iter()
            .map(|(k, l)| l.local_addr().map(|a| (*k, a)))
            .collect::<io::Result<Vec<_>>>()?;
        let (shutdown, _) = watch::channel(false);
        let tls = config.tls_context.clone();
        let shared = Arc::new(Shared {
            conns: ConnTable::new(config.max_connections),
            config,
            handler,
            stats: Stats::default(),
            udp,
            tcp,
            tls_listens,
            ws_listens,
            tls,
            rt: Handle::current(),
            shutdown,
            active: Arc::new(ActiveTasks::default()),
            closing: AtomicBool::new(false),
            next_conn: AtomicU64::new(1),
            tasks: Mutex::new(Vec::new()),
        });
        let mut tasks = Vec::new();
        for ep in &shared.udp {
            for socket in &ep.sockets {
                let task = udp::receive_loop(socket.clone(), ep.local, shared.clone());
                tasks.push(shared.rt.spawn(task));
            }
        }
        for listener in listeners {
            let accept = tcp::accept_loop(listener, shared.clone(), TransportKind::Tcp);
            tasks.push(shared.rt.spawn(accept));
        }
        for (kind, listener) in ws_listeners {
            let accept = crate::ws::accept_loop(listener, shared.clone(), kind);
            tasks.push(shared.rt.spawn(accept));
        }
        for listener in tls_listeners {
            let accept = tcp::accept_loop(listener, shared.clone(), TransportKind::Tls);
            tasks.push(shared.rt.spawn(accept));
        }
        *shared.tasks.lock() = tasks;
        let transports = Transports { shared };
        for (kind, addr) in transports.local_addrs() {
            tracing::info!(%addr, transport = kind.as_str(), "listening");
        }
        Ok(transports)
    }

    /// The bound addresses, one per configured address, with real ports.
    pub fn local_addrs(&self) -> Vec<(TransportKind, SocketAddr)> {
        let udp = self
            .shared
            .udp
            .iter()
            .map(|e| (TransportKind::Udp, e.local));
        let tcp = self.shared.tcp.iter().map(|a| (TransportKind::Tcp, *a));
        let tls = self
            .shared
            .tls_listens
            .iter()
            .map(|a| (TransportKind::Tls, *a));
        let ws = self.shared.ws_listens.iter().copied();
        udp.chain(tcp).chain(tls).chain(ws).collect()
    }

    /// The bound address of every UDP worker socket (`udp_workers` per UDP address).
    pub fn udp_worker_addrs(&self) -> Vec<SocketAddr> {
        self.shared
            .udp
            .iter()
            .flat_map(|e| e.sockets.iter())
            .filter_map(|s| s.local_addr().ok())
            .collect()
    }

    /// Sends one message; never blocks.
    ///
    /// UDP: `send_to` from a socket of the destination's address family (the first UDP
    /// address of that family), asynchronously if the socket buffer is full.
    /// TCP: on `peer.conn` if it names a live connection; else on an existing connection
    /// to `peer.addr`, inbound or outbound (RFC 3261 §18 connection reuse); else on a new
    /// connection, opened in a spawned task while the message waits in its queue.
    /// Errors known at once are returned; later failures are logged and counted in
    /// `send_errors`. Sending TCP needs at least one TCP listener configured.
    pub fn send(&self, peer: &Peer, data: Bytes) -> Result<(), SendError> {
        let r = self.send_inner(peer, data);
        if r.is_err() {
            self.shared.stats.send_errors.inc();
        }
        r
    }

    /// Sends several messages in order (and empties `msgs`), as [`Transports::send`]
    /// would one by one, but UDP datagrams leaving the same socket go out in one system
    /// call where the platform allows (Linux `sendmmsg`). Each message refused at once is
    /// handed to `failed` with the error `send` would have returned.
    pub fn send_batch(
        &self,
        msgs: &mut Vec<(Peer, Bytes)>,
        mut failed: impl FnMut(Peer, Bytes, SendError),
    ) {
        let all_udp = msgs.iter().all(|(p, _)| p.transport == TransportKind::Udp);
        if msgs.len() < 2 || !all_udp || self.shared.closing.load(Ordering::Relaxed) {
            for (peer, data) in msgs.drain(..) {
                if let Err(e) = self.send(&peer, data.clone()) {
                    failed(peer, data, e);
                }
            }
            return;
        }
        let mut udp: Vec<(SocketAddr, Bytes)> = msgs.drain(..).map(|(p, d)| (p.addr, d)).collect();
        let stats = &self.shared.stats;
        udp::send_many(&self.shared, &mut udp, &mut |addr, data, e| {
            stats.send_errors.inc();
            let peer = Peer {
                transport: TransportKind::Udp,
                addr,
                conn: None,
            };
            failed(peer, data, e)
        });
    }

    fn send_inner(&self, peer: &Peer, data: Bytes) -> Result<(), SendError> {
        let shared = &self.shared;
        if shared.closing.load(Ordering::Relaxed) {
            return Err(SendError::NoTransport(peer.transport));
        }
        match peer.transport {
            TransportKind::Udp => udp::send(shared, peer.addr, data),
            kind @ (TransportKind::Ws | TransportKind::Wss) => {
                let key = (kind, peer.addr);
                let data = match peer.conn {
                    Some(id) => match shared.conns.send_on(id, data) {
                        Ok(routed) => return self.routed(key, routed),
                        Err(data) => data,
                    },
                    None => data,
                };
                match shared.conns.send_existing(key, data) {
                    Ok(routed) => self.routed(key, routed),
                    // Only the browser connects: no connection, no way to it.
                    Err(_) => Err(SendError::NoTransport(kind)),
                }
            }
            kind @ (TransportKind::Tcp | TransportKind::Tls) => {
                let configured = match kind {
                    TransportKind::Tls => shared.tls.is_some(),
                    _ => !shared.tcp.is_empty(),
                };
                if !configured {
                    return Err(SendError::NoTransport(kind));
                }
                let key = (kind, peer.addr);
                let data = match peer.conn {
                    Some(id) => match shared.conns.send_on(id, data) {
                        Ok(routed) => return self.routed(key, routed),
                        Err(data) => data, // gone: fall back to the address
                    },
                    None => data,
                };
                let routed = shared.conns.send_or_reserve(
                    key,
                    data,
                    || shared.next_conn_id(),
                    shared.config.send_queue,
                );
                self.routed(key, routed)
            }
        }
    }

    fn routed(
        &self,
        (kind, remote): (TransportKind, SocketAddr),
        routed: Routed,
    ) -> Result<(), SendError> {
        match routed {
            Routed::Queued => Ok(()),
            Routed::Full => Err(SendError::QueueFull),
            Routed::TableFull => Err(SendError::TooManyConnections),
            Routed::New(id, rx) => {
                tcp::spawn_connect(&self.shared, id, kind, remote, rx);
                Ok(())
            }
        }
    }

    /// The TLS configuration in force, if TLS is configured (to reload it).
    pub fn tls_context(&self) -> Option<&Arc<crate::tls::TlsContext>> {
        self.shared.tls.as_ref()
    }

    /// Live TCP connections (inbound, outbound, and outbound still connecting).
    pub fn connection_count(&self) -> usize {
        self.shared.conns.len()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> TransportStats {
        self.shared.stats.snapshot()
    }

    /// Stops receiving and accepting, lets connections flush their queues briefly, and
    /// closes them. Later sends fail with [`SendError::NoTransport`]. The UDP sockets
    /// themselves are released when the last clone of this handle is dropped.
    pub async fn shutdown(&self) {
        let shared = &self.shared;
        shared.closing.store(true, Ordering::Relaxed);
        let tasks = std::mem::take(&mut *shared.tasks.lock());
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            let _ = task.await; // cancelled
        }
        shared.shutdown.send_replace(true);
        if !shared.active.wait_idle(SHUTDOWN_GRACE).await {
            tracing::warn!("shutdown: connections still closing after the grace period");
        }
    }
}
