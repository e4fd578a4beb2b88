//! One live stream connection (TCP, or TLS over TCP): a reader task framing messages,
//! and a writer task draining the bounded send queue.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sip_message::{Frame, FramingError, StreamFramer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::handler::{report_lost, CloseAfter};
use crate::peer::{ConnectionId, Peer, Received, TransportKind};
use crate::tcp::{drain, drain_messages};
use crate::transports::Shared;

/// How long a closing connection may take to flush its queue.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);
/// The answer to a double-CRLF ping (RFC 5626 §3.5.1).
pub(crate) const PONG: &[u8] = b"\r\n";
/// Spare room kept in the read buffer before each read.
const READ_CHUNK: usize = 8 * 1024;

/// The time of the last traffic either way, in milliseconds since the connection began.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// Why the reader stopped.
#[derive(Debug)]
enum Close {
    PeerClosed,
    Read(std::io::Error),
    Framing(FramingError),
    Idle,
    WriterEnded,
    Shutdown,
}

/// A connected stream, ready for SIP.
pub(crate) enum Opened {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS over TCP, handshake done.
    Tls(Box<tokio_rustls::TlsStream<TcpStream>>),
}

/// Drives a connection whose table entry exists, until it closes; then removes the
/// entry and lets the writer flush what is queued, briefly.
pub(crate) async fn run(
    shared: Arc<Shared>,
    id: ConnectionId,
    stream: Opened,
    remote: SocketAddr,
    tx: mpsc::Sender<Bytes>,
    rx: mpsc::Receiver<Bytes>,
) {
    let tcp = match &stream {
        Opened::Tcp(s) => s,
        Opened::Tls(s) => s.get_ref().0,
    };
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(%remote, error = %e, "tcp: cannot set TCP_NODELAY");
    }
    let local = match tcp.local_addr() {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(%remote, error = %e, "tcp: connection lost before start");
            shared.conns.remove(id);
            shared.stats.send_errors.add(drain(rx));
            return;
        }
    };
    match stream {
        Opened::Tcp(s) => {
            let (rd, wr) = s.into_split();
            let kind = TransportKind::Tcp;
            drive(shared, id, rd, wr, kind, local, remote, tx, rx).await;
        }
        Opened::Tls(s) => {
            let (rd, wr) = tokio::io::split(*s);
            let kind = TransportKind::Tls;
            drive(shared, id, rd, wr, kind, local, remote, tx, rx).await;
        }
    }
}

/// [`run`] on the stream's two halves.
#[allow(clippy::too_many_arguments)]
async fn drive<R, W>(
    shared: Arc<Shared>,
    id: ConnectionId,
    mut rd: R,
    wr: W,
    kind: TransportKind,
    local: SocketAddr,
    remote: SocketAddr,
    tx: mpsc::Sender<Bytes>,
    rx: mpsc::Receiver<Bytes>,
) where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity {
        start: Instant::now(),
        last_ms: AtomicU64::new(0),
    });
    let peer = Peer {
        transport: kind,
        addr: remote,
        conn: Some(id),
    };
    let mut writer = shared
        .rt
        .spawn(write_loop(shared.clone(), wr, rx, activity.clone(), peer));
    let mut writer_done = false;

    let max = shared.config.max_message_bytes;
    let idle = shared.config.tcp_idle_timeout;
    let mut framer = StreamFramer::new(max, max);
    let mut shutdown = shared.shutdown.subscribe();
    let idle_timer = tokio::time::sleep(idle);
    tokio::pin!(idle_timer);

    let why = loop {
        let buf = framer.buffer_mut();
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        tokio::select! {
            r = rd.read_buf(framer.buffer_mut()) => match r {
                Ok(0) => break Close::PeerClosed,
                Ok(_) => {
                    activity.touch();
                    if let Err(e) = deliver(&shared, &mut framer, peer, local, &tx) {
                        break Close::Framing(e);
                    }
                }
                Err(e) => break Close::Read(e),
            },
            () = &mut idle_timer => {
                let deadline = activity.last() + idle;
                if deadline <= Instant::now() {
                    break Close::Idle;
                }
                idle_timer.as_mut().reset(deadline);
            }
            _ = &mut writer => {
                writer_done = true;
                break Close::WriterEnded;
            }
            _ = shutdown.wait_for(|s| *s) => break Close::Shutdown,
        }
    };

    match &why {
        Close::Framing(e) => {
            shared.stats.framing_errors.inc();
            tracing::warn!(%remote, conn = id.0, error = %e, "tcp: framing error, closing connection");
        }
        Close::PeerClosed => tracing::debug!(%remote, conn = id.0, "tcp: peer closed"),
        Close::Read(e) => {
            tracing::debug!(%remote, conn = id.0, error = %e, "tcp: read error, closing")
        }
        other => tracing::debug!(%remote, conn = id.0, reason = ?other, "tcp: closing"),
    }
    if matches!(why, Close::Framing(_) | Close::PeerClosed) && !writer_done {
        // Answer every complete message before closing: the messages already handed on
        // are answered on this connection (still in the table), not on a new one to the
        // peer's ephemeral port (RFC 3261 §18.2.2).
        let (close, answered) = CloseAfter::new();
        shared.handler.on_stream_closing(peer, close);
        tokio::select! {
            _ = answered => {}
            _ = tokio::time::sleep(FLUSH_TIMEOUT) => {
                tracing::debug!(%remote, conn = id.0, "tcp: answers not all queued before closing");
            }
            _ = &mut writer => writer_done = true,
            _ = shutdown.wait_for(|s| *s) => {}
        }
    }
    shared.conns.remove(id);
    drop(tx);
    if !writer_done
        && tokio::time::timeout(FLUSH_TIMEOUT, &mut writer)
            .await
            .is_err()
    {
        tracing::debug!(%remote, conn = id.0, "tcp: flush timed out");
        writer.abort();
    }
}

/// Hands every complete frame in the buffer on.
fn deliver(
    shared: &Shared,
    framer: &mut StreamFramer,
    peer: Peer,
    local: SocketAddr,
    tx: &mpsc::Sender<Bytes>,
) -> Result<(), FramingError> {
    let max = shared.config.max_message_bytes;
    loop {
        match framer.next_frame()? {
            None => return Ok(()),
            Some(Frame::Message(data)) => {
                if data.len() > max {
                    return Err(FramingError::BodyTooLarge);
                }
                shared.stats.tcp_rx.inc();
                shared.handler.on_message(Received { data, peer, local });
            }
            Some(Frame::Ping) => {
                if tx.try_send(Bytes::from_static(PONG)).is_err() {
                    tracing::debug!(peer = %peer, "tcp: queue full, keep-alive answer dropped");
                }
            }
            Some(Frame::Pong) => {}
        }
    }
}

/// Most messages written with one syscall when the queue has several waiting.
const WRITE_BATCH: usize = 32;

/// Writes queued messages until every queue handle is gone (then half-closes) or a
/// write fails (then counts the lost messages). Messages already waiting together are
/// written with one syscall.
async fn write_loop<W: AsyncWrite + Unpin>(
    shared: Arc<Shared>,
    mut wr: W,
    mut rx: mpsc::Receiver<Bytes>,
    activity: Arc<Activity>,
    peer: Peer,
) {
    let remote = peer.addr;
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    let mut joined = Vec::new();
    while rx.recv_many(&mut batch, WRITE_BATCH).await > 0 {
        let result = if let [one] = &batch[..] {
            wr.write_all(one).await
        } else {
            joined.clear();
            for data in &batch {
                joined.extend_from_slice(data);
            }
            wr.write_all(&joined).await
        };
        // TLS holds records back until flushed (a no-op on plain TCP).
        let result = match result {
            Ok(()) => wr.flush().await,
            e => e,
        };
        if let Err(e) = result {
            let mut lost = std::mem::take(&mut batch);
            lost.extend(drain_messages(rx));
            shared.stats.send_errors.add(lost.len() as u64);
            tracing::warn!(%remote, error = %e, lost = lost.len(), "tcp: write failed");
            report_lost(&shared, peer, lost, e.kind());
            return;
        }
        activity.touch();
        let messages = batch.iter().filter(|d| d.as_ref() != PONG).count();
        shared.stats.tcp_tx.add(messages as u64);
        batch.clear();
        if joined.capacity() > 4 * READ_CHUNK * WRITE_BATCH {
            joined = Vec::new(); // do not keep a burst's worth of memory per connection
        }
    }
    if let Err(e) = wr.shutdown().await {
        tracing::debug!(%remote, error = %e, "tcp: shutdown failed");
    }
}
