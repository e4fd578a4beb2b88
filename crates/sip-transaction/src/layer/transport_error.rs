//! Transport failures reported by the caller (RFC 3261 §17.1.4, §17.2.4): they end the
//! transaction they concern. Detecting them (ICMP, connection loss) is the caller's job.

use std::time::Duration;

use super::TransactionLayer;
use crate::io::{Event, Step, TransactionId};
use crate::key::ClientKey;

impl<D: Clone> TransactionLayer<D> {
    /// The transport failed to send for transaction `id` (RFC 3261 §17.1.4, §17.2.4): the
    /// transaction ends with [`Event::TransportError`] then [`Event::Terminated`].
    pub fn handle_transport_error(&mut self, _now: Duration, id: TransactionId) {
        if self.txs.contains_key(&id) {
            self.events.push_back(Event::TransportError { id });
            self.finish(id, Step::Terminate);
        }
    }

    /// The transport failed to send a request this layer sent, known by its top Via
    /// `branch` and its `method` (all a truncated copy may show: an ICMP error carries only
    /// the first few hundred bytes of the datagram). Ends that client transaction as
    /// [`TransactionLayer::handle_transport_error`] does (RFC 3261 §17.1.3 matching).
    /// Returns the transaction, or `None` when no live client transaction sent it (already
    /// ended, or not ours).
    pub fn handle_request_transport_error(
        &mut self,
        now: Duration,
        branch: &str,
        method: &str,
    ) -> Option<TransactionId> {
        let key = ClientKey::new(branch, method);
        let id = self.client_keys.get(&key).copied()?;
        self.handle_transport_error(now, id);
        Some(id)
    }
}
