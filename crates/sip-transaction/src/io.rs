//! What crosses the boundary of the layer: identifiers, outgoing datagrams, events, and the
//! effect sink the state machines write into.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;

use crate::timers::{Slot, TimerQueue, Timers, TxTimers};

/// Identifies one transaction for its whole life. Never reused by a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(pub(crate) u64);

impl TransactionId {
    /// The raw number (unique within one [`crate::TransactionLayer`]).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tx#{}", self.0)
    }
}

/// Whether the transport of a transaction retransmits by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reliability {
    /// UDP and other datagram transports: the layer retransmits (timers A, E, G) and lingers
    /// to absorb retransmissions (timers D, I, J, K).
    Unreliable,
    /// TCP, TLS, WebSocket, SCTP: no retransmissions, D, I, J and K are zero.
    Reliable,
}

/// The state of a live transaction (terminated transactions are removed from the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Client INVITE: request sent, no response yet.
    Calling,
    /// Client or server non-INVITE: no response yet.
    Trying,
    /// A provisional response was received (client) or the TU owns the request (server).
    Proceeding,
    /// A final response (3xx-6xx for INVITE) was received or sent.
    Completed,
    /// Server INVITE: the ACK for the 3xx-6xx final response arrived.
    Confirmed,
    /// INVITE: a 2xx was received or sent (RFC 6026).
    Accepted,
}

/// Bytes to send to a destination. `dest` is whatever the caller gave the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<D> {
    /// The transaction this transmission belongs to.
    pub id: TransactionId,
    /// Where to send.
    pub dest: D,
    /// One complete SIP message.
    pub bytes: Bytes,
}

/// Something the transaction user must learn about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// Timer B or F fired on a client transaction: the TU acts as if a 408 was received.
    /// Timer H fired on a server INVITE transaction: the ACK for its 3xx-6xx never came.
    Timeout {
        /// The transaction, which is now terminated.
        id: TransactionId,
    },
    /// The caller reported a transport failure with
    /// [`crate::TransactionLayer::handle_transport_error`]; the transaction is terminated.
    TransportError {
        /// The transaction.
        id: TransactionId,
    },
    /// The transaction was removed from the table (always the last event of a transaction).
    Terminated {
        /// The transaction.
        id: TransactionId,
    },
}

/// Whether a state machine keeps running after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Continue,
    Terminate,
}

/// The effect sink handed to a state machine for one step.
pub(crate) struct Fx<'a, D> {
    pub id: TransactionId,
    pub now: Duration,
    pub timers: &'a Timers,
    pub transmits: &'a mut VecDeque<Transmit<D>>,
    pub events: &'a mut VecDeque<Event>,
    pub queue: &'a mut TimerQueue,
}

impl<D: Clone> Fx<'_, D> {
    pub(crate) fn send(&mut self, dest: &D, bytes: &Bytes) {
        self.transmits.push_back(Transmit {
            id: self.id,
            dest: dest.clone(),
            bytes: bytes.clone(),
        });
    }

    /// Arms `slot` to fire `after` from now.
    pub(crate) fn arm(&mut self, timers: &mut TxTimers, slot: Slot, after: Duration) {
        self.queue
            .arm(timers, self.id, slot, self.now.saturating_add(after));
    }

    pub(crate) fn event(&mut self, e: Event) {
        self.events.push_back(e);
    }

    /// Arms the retransmission timer at `rto` (unreliable transports only) and the
    /// transaction timeout at 64*T1: timers A and B (RFC 3261 §17.1.1.2), E and F
    /// (§17.1.2.2), G and H (§17.2.1).
    pub(crate) fn arm_retransmit_and_timeout(
        &mut self,
        timers: &mut TxTimers,
        reliability: Reliability,
        rto: Duration,
    ) {
        if reliability == Reliability::Unreliable {
            self.arm(timers, Slot::Retransmit, rto);
        }
        let timeout = self.timers.t1x64();
        self.arm(timers, Slot::Timeout, timeout);
    }

    /// Timer B, F or H fired: tells the TU and ends the transaction.
    pub(crate) fn time_out(&mut self) -> Step {
        self.event(Event::Timeout { id: self.id });
        Step::Terminate
    }

    /// Re-sends the latest response of a server transaction, if it sent one.
    pub(crate) fn resend(&mut self, dest: &D, last: Option<&Bytes>) {
        if let Some(last) = last {
            self.send(dest, last);
        }
    }
}
