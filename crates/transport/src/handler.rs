//! The upcalls through which received messages, late send failures and closing
//! connections leave the transport layer.

use std::io;

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::peer::{Peer, Received};

/// Receives every complete message. Called on the receiving task, so it must not block:
/// hand the message on (a channel, a spawned task) when work is more than quick.
pub trait Handler: Send + Sync + 'static {
    /// One message arrived.
    fn on_message(&self, msg: Received);

    /// A message [`crate::Transports::send`] accepted could not be delivered after all (a
    /// TCP connect or write failed, a deferred UDP send failed), one call per message. The
    /// failure is already logged and counted in `send_errors`; a SIP layer uses this to end
    /// the client transaction at once (RFC 3261 §17.1.4). Default: nothing more.
    fn on_send_failed(&self, failure: SendFailure) {
        let _ = failure;
    }

    /// A stream connection stops reading (malformed bytes, or the peer closed its side);
    /// every complete message before that point has been passed to
    /// [`Handler::on_message`]. The connection stays open for writing until `close` is
    /// dropped, so a handler that answers messages in order can drop it after answering
    /// them: the peer gets every answer, then the close (bounded by a grace period).
    /// Default: close at once.
    fn on_stream_closing(&self, peer: Peer, close: CloseAfter) {
        let _ = peer;
        drop(close);
    }
}

/// A message that could not be delivered.
#[derive(Debug, Clone)]
pub struct SendFailure {
    /// Where it was going (`conn` is the connection it was queued on, if any).
    pub peer: Peer,
    /// The message, as handed to [`crate::Transports::send`].
    pub data: Bytes,
    /// What went wrong.
    pub error: io::ErrorKind,
}

/// Keeps a closing connection open for the answers still to be sent on it; dropping it
/// lets the connection flush its queue and close. See [`Handler::on_stream_closing`].
#[derive(Debug)]
pub struct CloseAfter {
    _done: oneshot::Sender<()>,
}

impl CloseAfter {
    /// A handle, and the receiver that completes when it is dropped.
    pub(crate) fn new() -> (CloseAfter, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (CloseAfter { _done: tx }, rx)
    }
}

/// Tells the handler of each message that will never leave (keep-alive answers aside).
pub(crate) fn report_lost(
    shared: &crate::transports::Shared,
    peer: Peer,
    lost: impl IntoIterator<Item = Bytes>,
    error: io::ErrorKind,
) {
    for data in lost {
        if data.as_ref() == crate::connection::PONG {
            continue;
        }
        shared
            .handler
            .on_send_failed(SendFailure { peer, data, error });
    }
}
