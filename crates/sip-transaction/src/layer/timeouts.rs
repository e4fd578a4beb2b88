//! Driving the timers: firing those due and telling the caller when to wake up next. The
//! timer queue and the per-transaction slots are in `crate::timers`; what a timer does is
//! up to each state machine.

use std::time::Duration;

use super::table::Tx;
use super::TransactionLayer;

impl<D: Clone> TransactionLayer<D> {
    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        while let Some((at, id, slot)) = self.queue.peek() {
            if at > now {
                break;
            }
            self.queue.pop();
            let Some(entry) = self.txs.get_mut(&id) else {
                continue;
            };
            if entry.tx.timers().get(slot) != Some(at) {
                continue;
            }
            entry.tx.timers_mut().disarm(slot);
            let mut fx = fx!(self, id, now);
            let step = match &mut entry.tx {
                Tx::InviteClient(t) => t.on_timer(slot, &mut fx),
                Tx::NonInviteClient(t) => t.on_timer(slot, &mut fx),
                Tx::InviteServer(t) => t.on_timer(slot, &mut fx),
                Tx::NonInviteServer(t) => t.on_timer(slot),
            };
            self.finish(id, step);
        }
    }

    /// When to call [`TransactionLayer::handle_timeout`] next (`None`: no timer armed).
    /// Takes `&mut self` to drop cancelled timers, so the deadline is never spurious.
    pub fn poll_timeout(&mut self) -> Option<Duration> {
        while let Some((at, id, slot)) = self.queue.peek() {
            let live = self
                .txs
                .get(&id)
                .is_some_and(|e| e.tx.timers().get(slot) == Some(at));
            if live {
                return Some(at);
            }
            self.queue.pop();
        }
        None
    }
}
