//! Timer values (RFC 3261 §17.1.1.1, Table 4) and the timer queue.
//!
//! Times are [`Duration`]s since an epoch the caller chooses (a virtual clock in tests).
//! The queue is a binary heap with lazy deletion: re-arming or cancelling a timer only
//! changes the deadline recorded in the transaction; heap entries that no longer match are
//! dropped when they reach the top. Every operation is O(log n).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use crate::io::{Reliability, TransactionId};

/// The base timer values. Every other timer derives from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate: first retransmission interval (A, E, G); 64*T1 is the transaction
    /// timeout (B, F, H, J, L, M). Default 500 ms.
    pub t1: Duration,
    /// Maximum retransmission interval for non-INVITE requests and INVITE responses
    /// (E, G). Default 4 s.
    pub t2: Duration,
    /// Maximum time a message stays in the network (I, K). Default 5 s.
    pub t4: Duration,
    /// Timer D: how long a client INVITE transaction absorbs retransmitted final responses
    /// over unreliable transports. RFC 3261 requires at least 32 s. Default 32 s.
    pub timer_d: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            timer_d: Duration::from_secs(32),
        }
    }
}

impl Timers {
    /// 64*T1: timers B, F, H, J, L and M.
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }

    /// `d` over unreliable transports, zero over reliable ones (timers D, I, J, K).
    pub(crate) fn unless_reliable(d: Duration, rel: Reliability) -> Duration {
        match rel {
            Reliability::Unreliable => d,
            Reliability::Reliable => Duration::ZERO,
        }
    }

    /// The next retransmission interval after `rto`: doubled, capped at T2 when `capped`.
    pub(crate) fn backoff(&self, rto: Duration, capped: bool) -> Duration {
        let next = rto.saturating_mul(2);
        if capped {
            next.min(self.t2)
        } else {
            next
        }
    }
}

/// The timer slots of one transaction; each holds at most one deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Slot {
    /// A (client INVITE), E (client non-INVITE), G (server INVITE).
    Retransmit = 0,
    /// B, F (client), H (server INVITE): the transaction failed.
    Timeout = 1,
    /// D, I, J, K, L, M: how long a finished transaction lingers before it is removed.
    Linger = 2,
    /// The 200 ms delayed 100 Trying of a server INVITE transaction.
    Trying = 3,
}

/// The deadlines one transaction has armed, in nanoseconds since the caller's epoch
/// ([`UNARMED`] for none): 32 bytes where four `Option<Duration>` took 64, in every entry
/// of a table that holds tens of thousands (Timer J).
#[derive(Debug, Clone)]
pub(crate) struct TxTimers([u64; 4]);

/// A slot with no deadline.
const UNARMED: u64 = u64::MAX;

/// The latest deadline a slot can hold (about 584 years after the epoch).
const LATEST: Duration = Duration::from_nanos(UNARMED - 1);

impl Default for TxTimers {
    fn default() -> Self {
        TxTimers([UNARMED; 4])
    }
}

impl TxTimers {
    pub(crate) fn get(&self, slot: Slot) -> Option<Duration> {
        match self.0[slot as usize] {
            UNARMED => None,
            n => Some(Duration::from_nanos(n)),
        }
    }

    fn set(&mut self, slot: Slot, at: Duration) {
        // `at` is at most LATEST (see `TimerQueue::arm`): its nanoseconds fit.
        self.0[slot as usize] = u64::try_from(at.as_nanos()).unwrap_or(UNARMED - 1);
    }

    pub(crate) fn disarm(&mut self, slot: Slot) {
        self.0[slot as usize] = UNARMED;
    }

    pub(crate) fn disarm_all(&mut self) {
        self.0 = [UNARMED; 4];
    }
}

/// All armed timers of the layer, earliest first. An entry is 16 bytes: the deadline in
/// nanoseconds, and the transaction id shifted left by two with the slot below it (ids
/// count up from 1 and never reach 2⁶²).
#[derive(Debug, Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
}

fn slot_of(bits: u64) -> Slot {
    match bits & 3 {
        0 => Slot::Retransmit,
        1 => Slot::Timeout,
        2 => Slot::Linger,
        _ => Slot::Trying,
    }
}

fn unpack((at, tagged): (u64, u64)) -> (Duration, TransactionId, Slot) {
    (
        Duration::from_nanos(at),
        TransactionId(tagged >> 2),
        slot_of(tagged),
    )
}

impl TimerQueue {
    /// Arms `slot` of transaction `id` at `at`, replacing any earlier deadline of that slot.
    pub(crate) fn arm(
        &mut self,
        timers: &mut TxTimers,
        id: TransactionId,
        slot: Slot,
        at: Duration,
    ) {
        let at = at.min(LATEST);
        timers.set(slot, at);
        let nanos = u64::try_from(at.as_nanos()).unwrap_or(UNARMED - 1);
        self.heap.push(Reverse((nanos, (id.0 << 2) | slot as u64)));
    }

    /// The earliest entry, stale or not.
    pub(crate) fn peek(&self) -> Option<(Duration, TransactionId, Slot)> {
        self.heap.peek().map(|Reverse(e)| unpack(*e))
    }

    pub(crate) fn pop(&mut self) -> Option<(Duration, TransactionId, Slot)> {
        self.heap.pop().map(|Reverse(e)| unpack(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_backoff() {
        let t = Timers::default();
        assert_eq!(t.t1x64(), Duration::from_secs(32));
        let mut rto = t.t1;
        let mut seq = vec![];
        for _ in 0..6 {
            seq.push(rto.as_millis());
            rto = t.backoff(rto, true);
        }
        assert_eq!(seq, [500, 1000, 2000, 4000, 4000, 4000]);
        assert_eq!(
            t.backoff(Duration::from_secs(4), false),
            Duration::from_secs(8)
        );
        assert_eq!(
            Timers::unless_reliable(t.t4, Reliability::Reliable),
            Duration::ZERO
        );
    }

    #[test]
    fn queue_orders_by_deadline() {
        let mut q = TimerQueue::default();
        let mut a = TxTimers::default();
        let mut b = TxTimers::default();
        q.arm(
            &mut a,
            TransactionId(1),
            Slot::Timeout,
            Duration::from_secs(3),
        );
        q.arm(
            &mut b,
            TransactionId(2),
            Slot::Retransmit,
            Duration::from_secs(1),
        );
        assert_eq!(q.peek().map(|e| e.1), Some(TransactionId(2)));
        assert_eq!(a.get(Slot::Timeout), Some(Duration::from_secs(3)));
        a.disarm(Slot::Timeout);
        assert_eq!(a.get(Slot::Timeout), None);
    }
}
