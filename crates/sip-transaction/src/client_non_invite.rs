//! The non-INVITE client transaction (RFC 3261 §17.1.2).
//!
//! ```text
//! Trying --1xx--> Proceeding --200-699--> Completed --Timer K--> gone
//!    \------------200-699-------------/
//! Trying/Proceeding --Timer F--> gone (Event::Timeout)
//! ```
//! Timer E retransmits over unreliable transports: T1 doubling up to T2 in Trying, every T2
//! in Proceeding.

use std::time::Duration;

use bytes::Bytes;
use sip_message::{SipMessage, WrittenMessage};

use crate::io::{Fx, Reliability, State, Step};
use crate::timers::{Slot, Timers, TxTimers};

#[derive(Debug)]
pub(crate) struct ClientNonInvite<D> {
    pub(crate) state: State,
    /// Dropped with `bytes` once a final response arrived.
    pub(crate) request: Option<Box<WrittenMessage>>,
    bytes: Bytes,
    dest: D,
    reliability: Reliability,
    rto: Duration,
    pub(crate) timers: TxTimers,
}

impl<D: Clone> ClientNonInvite<D> {
    /// Sends the request and arms timers E and F.
    pub(crate) fn start(
        request: WrittenMessage,
        bytes: Bytes,
        dest: D,
        reliability: Reliability,
        fx: &mut Fx<'_, D>,
    ) -> Self {
        let mut tx = ClientNonInvite {
            state: State::Trying,
            request: Some(Box::new(request)),
            bytes,
            dest,
            reliability,
            rto: fx.timers.t1,
            timers: TxTimers::default(),
        };
        fx.send(&tx.dest, &tx.bytes);
        fx.arm_retransmit_and_timeout(&mut tx.timers, reliability, tx.rto);
        tx
    }

    /// A response matched. Returns whether to pass it up, and the next step.
    pub(crate) fn on_response(&mut self, msg: &SipMessage, fx: &mut Fx<'_, D>) -> (bool, Step) {
        match (self.state, msg.status()) {
            (State::Trying | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                (true, Step::Continue)
            }
            (State::Trying | State::Proceeding, _) => {
                self.state = State::Completed;
                self.timers.disarm_all();
                self.request = None;
                self.bytes = Bytes::new();
                let k = Timers::unless_reliable(fx.timers.t4, self.reliability);
                fx.arm(&mut self.timers, Slot::Linger, k);
                (true, Step::Continue)
            }
            _ => (false, Step::Continue),
        }
    }

    pub(crate) fn on_timer(&mut self, slot: Slot, fx: &mut Fx<'_, D>) -> Step {
        match (self.state, slot) {
            (State::Trying | State::Proceeding, Slot::Retransmit) => {
                fx.send(&self.dest, &self.bytes);
                self.rto = match self.state {
                    State::Proceeding => fx.timers.t2,
                    _ => fx.timers.backoff(self.rto, true),
                };
                fx.arm(&mut self.timers, Slot::Retransmit, self.rto);
                Step::Continue
            }
            (State::Trying | State::Proceeding, Slot::Timeout) => fx.time_out(),
            (State::Completed, Slot::Linger) => Step::Terminate,
            _ => Step::Continue,
        }
    }
}
