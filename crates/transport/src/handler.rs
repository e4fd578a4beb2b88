//! The upcall through which received messages leave the transport layer.

use crate::peer::Received;

/// Receives every complete message. Called on the receiving task, so it must not block:
/// hand the message on (a channel, a spawned task) when work is more than quick.
pub trait Handler: Send + Sync + 'static {
    /// One message arrived.
    fn on_message(&self, msg: Received);
}
