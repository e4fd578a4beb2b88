//! The INVITE client transaction (RFC 3261 §17.1.1, updated by RFC 6026 §8.4).
//!
//! ```text
//! Calling --1xx--> Proceeding --2xx--> Accepted --Timer M--> gone
//!    |  \---------------2xx-----------/
//!    +--300-699 (send ACK)--> Completed --Timer D--> gone
//! Calling --Timer B--> gone (Event::Timeout)
//! ```
//! Timer A retransmits the INVITE in Calling over unreliable transports (T1, 2T1, 4T1, ...).
//! Every 2xx, retransmissions included, is passed up in Accepted: the TU (or the proxy core)
//! ACKs or forwards each one.

use bytes::Bytes;
use sip_message::{build_ack_for_failure, SipMessage, WrittenMessage};

use crate::io::{Fx, Reliability, State, Step};
use crate::timers::{Slot, Timers, TxTimers};

#[derive(Debug)]
pub(crate) struct ClientInvite<D> {
    pub(crate) state: State,
    /// Dropped with `bytes` once a final response arrived (an answered call keeps its
    /// transaction 32 s in Accepted, where neither is needed).
    pub(crate) request: Option<Box<WrittenMessage>>,
    bytes: Bytes,
    dest: D,
    reliability: Reliability,
    rto: std::time::Duration,
    ack: Option<Bytes>,
    pub(crate) timers: TxTimers,
}

impl<D: Clone> ClientInvite<D> {
    /// Sends the INVITE and arms timers A and B.
    pub(crate) fn start(
        request: WrittenMessage,
        bytes: Bytes,
        dest: D,
        reliability: Reliability,
        fx: &mut Fx<'_, D>,
    ) -> Self {
        let mut tx = ClientInvite {
            state: State::Calling,
            request: Some(Box::new(request)),
            bytes,
            dest,
            reliability,
            rto: fx.timers.t1,
            ack: None,
            timers: TxTimers::default(),
        };
        fx.send(&tx.dest, &tx.bytes);
        fx.arm_retransmit_and_timeout(&mut tx.timers, reliability, tx.rto);
        tx
    }

    /// A response matched. Returns whether to pass it up, and the next step.
    pub(crate) fn on_response(&mut self, msg: &SipMessage, fx: &mut Fx<'_, D>) -> (bool, Step) {
        let status = msg.status();
        match (self.state, status) {
            (State::Calling | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                self.timers.disarm(Slot::Retransmit);
                self.timers.disarm(Slot::Timeout);
                (true, Step::Continue)
            }
            (State::Calling | State::Proceeding, 200..=299) => {
                self.state = State::Accepted;
                self.timers.disarm_all();
                self.request = None;
                self.bytes = Bytes::new();
                fx.arm(&mut self.timers, Slot::Linger, fx.timers.t1x64());
                (true, Step::Continue)
            }
            (State::Calling | State::Proceeding, _) => {
                self.state = State::Completed;
                self.timers.disarm_all();
                if let Some(request) = self.request.take().as_deref().and_then(WrittenMessage::get)
                {
                    let mut ack = Vec::with_capacity(512);
                    build_ack_for_failure(request, msg, &mut ack);
                    let ack = Bytes::from(ack);
                    fx.send(&self.dest, &ack);
                    self.ack = Some(ack);
                }
                self.bytes = Bytes::new();
                let d = Timers::unless_reliable(fx.timers.timer_d, self.reliability);
                fx.arm(&mut self.timers, Slot::Linger, d);
                (true, Step::Continue)
            }
            (State::Accepted, 200..=299) => (true, Step::Continue),
            (State::Completed, 300..=699) => {
                if let Some(ack) = &self.ack {
                    fx.send(&self.dest, ack);
                }
                (false, Step::Continue)
            }
            _ => (false, Step::Continue),
        }
    }

    pub(crate) fn on_timer(&mut self, slot: Slot, fx: &mut Fx<'_, D>) -> Step {
        match (self.state, slot) {
            (State::Calling, Slot::Retransmit) => {
                fx.send(&self.dest, &self.bytes);
                self.rto = fx.timers.backoff(self.rto, false);
                fx.arm(&mut self.timers, Slot::Retransmit, self.rto);
                Step::Continue
            }
            (State::Calling, Slot::Timeout) => fx.time_out(),
            (State::Completed | State::Accepted, Slot::Linger) => Step::Terminate,
            _ => Step::Continue,
        }
    }
}
