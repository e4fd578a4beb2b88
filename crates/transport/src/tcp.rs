//! SIP over TCP and TLS: listeners, accepting within the connection bound, and outbound
//! connects (the TLS handshakes themselves are `tls.rs`'s).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::connection::{self, Opened};
use crate::handler::report_lost;
use crate::peer::{ConnectionId, Peer, TransportKind};
use crate::transports::Shared;

/// Bound on an outbound connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after an accept error (e.g. out of file descriptors) so as not to spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);
/// Listen backlog.
const BACKLOG: i32 = 1024;

/// Binds and listens on `addr`.
pub(crate) fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// Accepts forever (the task is aborted on shutdown). Connections beyond the table
/// bound are accepted then closed at once, and counted. `kind` is TCP or TLS (then each
/// connection starts with the server side of a handshake).
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, kind: TransportKind) {
    accept_each(
        listener,
        shared,
        kind,
        |shared, id, stream, remote, tx, rx| async move {
            let opened = match kind {
                TransportKind::Tls => match open_tls(&shared, stream, None).await {
                    Ok(s) => s,
                    Err(e) => {
                        shared.conns.remove(id);
                        tracing::warn!(%remote, error = %e, "tls: handshake failed");
                        return;
                    }
                },
                _ => Opened::Tcp(stream),
            };
            connection::run(shared, id, opened, remote, tx, rx).await;
        },
    )
    .await
}

/// The accept loop of every stream listener (TCP, TLS, WS, WSS): each connection gets a
/// table entry with its send queue, then `serve` runs it in a task that shutdown waits
/// for; beyond the table's bound a connection is closed at once and counted. An accept
/// error (e.g. out of file descriptors) pauses the loop briefly so as not to spin.
pub(crate) async fn accept_each<F, Fut>(
    listener: TcpListener,
    shared: Arc<Shared>,
    kind: TransportKind,
    serve: F,
) where
    F: Fn(
        Arc<Shared>,
        ConnectionId,
        TcpStream,
        SocketAddr,
        mpsc::Sender<Bytes>,
        mpsc::Receiver<Bytes>,
    ) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let name = kind.lower();
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => {
                let id = shared.next_conn_id();
                let (tx, rx) = mpsc::channel(shared.config.send_queue.max(1));
                if !shared.conns.try_insert(id, (kind, remote), tx.clone()) {
                    shared.stats.refused_connections.inc();
                    tracing::warn!(%remote, transport = name, "connection table full, refusing connection");
                    drop(stream);
                    continue;
                }
                tracing::debug!(%remote, conn = id.0, transport = name, "accepted");
                let guard = shared.active.enter();
                let task = serve(shared.clone(), id, stream, remote, tx, rx);
                shared.rt.spawn(async move {
                    let _guard = guard;
                    task.await;
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, transport = name, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Opens a connection for a table entry already made (with messages waiting in its
/// queue) and drives it; on failure removes the entry and counts the lost messages.
pub(crate) fn spawn_connect(
    shared: &Arc<Shared>,
    id: ConnectionId,
    kind: TransportKind,
    remote: SocketAddr,
    rx: mpsc::Receiver<Bytes>,
) {
    let guard = shared.active.enter();
    let shared2 = shared.clone();
    shared.rt.spawn(async move {
        let _guard = guard;
        let mut shutdown = shared2.shutdown.subscribe();
        let open = async {
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(remote)).await {
                Ok(Ok(stream)) if kind == TransportKind::Tls => {
                    open_tls(&shared2, stream, Some(remote)).await
                }
                Ok(Ok(stream)) => Ok(Opened::Tcp(stream)),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
            }
        };
        let connected = tokio::select! {
            r = open => r,
            _ = shutdown.wait_for(|s| *s) => Err(io::Error::new(io::ErrorKind::Interrupted, "shutting down")),
        };
        match connected {
            Ok(stream) => {
                tracing::debug!(%remote, conn = id.0, transport = %kind, "connected");
                // The reader's own queue handle, for keep-alive answers.
                let Some(tx) = shared2.conns.sender(id) else {
                    return;
                };
                connection::run(shared2, id, stream, remote, tx, rx).await;
            }
            Err(e) => {
                shared2.conns.remove(id);
                let lost = drain_messages(rx);
                shared2.stats.send_errors.add(lost.len() as u64);
                tracing::warn!(%remote, error = %e, lost = lost.len(), transport = %kind, "connect failed");
                let peer = Peer {
                    transport: kind,
                    addr: remote,
                    conn: None,
                };
                report_lost(&shared2, peer, lost, e.kind());
            }
        }
    });
}

/// The TLS handshake on a connected stream: the client side towards `remote`, else the
/// server side. Failures are counted.
async fn open_tls(
    shared: &Shared,
    stream: TcpStream,
    remote: Option<SocketAddr>,
) -> io::Result<Opened> {
    let Some(ctx) = &shared.tls else {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no TLS configured",
        ));
    };
    let r = match remote {
        Some(remote) => crate::tls::connect(ctx, stream, remote).await,
        None => crate::tls::accept(ctx, stream).await,
    };
    match r {
        Ok(s) => Ok(Opened::Tls(Box::new(s))),
        Err(e) => {
            shared.stats.tls_handshake_failures.inc();
            Err(e)
        }
    }
}

/// Closes a queue and returns what was left in it.
pub(crate) fn drain_messages(mut rx: mpsc::Receiver<Bytes>) -> Vec<Bytes> {
    rx.close();
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

/// Closes a queue and counts what was left in it.
pub(crate) fn drain(mut rx: mpsc::Receiver<Bytes>) -> u64 {
    rx.close();
    let mut n = 0;
    while rx.try_recv().is_ok() {
        n += 1;
    }
    n
}
