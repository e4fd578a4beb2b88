//! What reaches the core task ([`CoreInput`]) and the transports' handler that feeds it
//! ([`CoreFeed`]): received messages into the bounded core queue, dropped and counted
//! ([`Drops`]) when it is full; the requests an overloaded server may drop.
//!
//! Not here: the core loop that drains the queue (`run.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use transport::{CloseAfter, Handler, Peer, Received, SendFailure};

use crate::control;

/// What reaches the core task.
pub enum CoreInput {
    /// A message from the network, and when it was read.
    Message(Received, Instant),
    /// A request from the control socket, answered on the channel.
    Control(control::Command, oneshot::Sender<String>),
    /// A query of the proxy ran (shared-database mode: a location lookup).
    QueryAnswer(u64, proxy::QueryAnswer),
    /// The transport could not deliver a message it had accepted (TCP connect or write
    /// failed, an ICMP unreachable for a UDP datagram): a forwarded request's branch ends
    /// as a 503 at once.
    SendFailed(SendFailure),
    /// The instant-message task read or counted stored messages.
    Messages(crate::instant_messages::ImReport),
    /// A TCP connection stops reading; dropped once the messages queued before it have
    /// been answered, so the connection closes after their answers.
    CloseAfter(CloseAfter),
    /// SIGINT or SIGTERM (named): finish the calls in progress, then stop.
    Shutdown(&'static str),
}

/// Forwards SIGINT and SIGTERM to the core as [`CoreInput::Shutdown`], so that the core
/// loop waits on its queue and its timer only: polling two signal streams on each of its
/// wake-ups cost more than the timer. The task holds the queue weakly: the queue still
/// closes when everything else that feeds it is gone.
pub fn forward_signals(core: &mpsc::Sender<CoreInput>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let core = core.downgrade();
    tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                _ = sigint.recv() => "SIGINT",
                _ = sigterm.recv() => "SIGTERM",
            };
            let Some(core) = core.upgrade() else { return };
            if core.send(CoreInput::Shutdown(name)).await.is_err() {
                return;
            }
        }
    });
    Ok(())
}

/// Messages the server dropped before the proxy saw them, by reason.
#[derive(Debug, Default)]
pub struct Drops {
    /// The core queue was full.
    pub core_queue_full: AtomicU64,
    /// A new request waited in the core queue longer than `[server] max_queue_delay_ms`.
    pub queue_delay: AtomicU64,
}

/// Feeds received messages into the core queue, dropping (and counting) on overflow.
pub struct CoreFeed {
    /// The core queue.
    pub tx: mpsc::Sender<CoreInput>,
    /// Drop counters.
    pub drops: Arc<Drops>,
}

impl Handler for CoreFeed {
    fn on_message(&self, msg: Received) {
        if self
            .tx
            .try_send(CoreInput::Message(msg, Instant::now()))
            .is_err()
        {
            self.drops.core_queue_full.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn on_send_failed(&self, failure: SendFailure) {
        if self.tx.try_send(CoreInput::SendFailed(failure)).is_err() {
            // The branch then ends by Timer B/F, as before.
            self.drops.core_queue_full.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn on_stream_closing(&self, _peer: Peer, close: CloseAfter) {
        // Queued behind the connection's last messages; if the queue is full the handle
        // is dropped here and the connection closes at once.
        let _ = self.tx.try_send(CoreInput::CloseAfter(close));
    }
}

/// Requests that start new work, which an overloaded server may drop unanswered (their
/// senders retransmit): everything else (responses, ACK, CANCEL, BYE, in-dialog NOTIFY,
/// PRACK, ...) finishes work already accepted, and is always handled.
pub fn starts_new_work(data: &[u8]) -> bool {
    [
        &b"INVITE "[..],
        b"REGISTER ",
        b"SUBSCRIBE ",
        b"OPTIONS ",
        b"MESSAGE ",
        b"PUBLISH ",
    ]
    .iter()
    .any(|m| data.starts_with(m))
}
