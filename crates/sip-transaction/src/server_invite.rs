//! The INVITE server transaction (RFC 3261 §17.2.1, updated by RFC 6026 §8.5-8.7).
//!
//! ```text
//! Proceeding --TU 2xx--> Accepted --Timer L--> gone
//!     |
//!     +--TU 300-699--> Completed --ACK--> Confirmed --Timer I--> gone
//!                          \--Timer H--> gone (Event::Timeout)
//! ```
//! In Proceeding a retransmitted INVITE re-sends the latest provisional response; a 100
//! Trying is generated if the TU has not answered within the configured delay. In Completed
//! Timer G retransmits the final response (T1 doubling up to T2, unreliable transports only)
//! and a retransmitted INVITE re-sends it. In Accepted retransmitted INVITEs are absorbed and
//! further 2xx from the TU are sent (retransmitting 2xx is the TU's job); an ACK that
//! matches is passed up.

use std::time::Duration;

use bytes::Bytes;
use sip_message::{ResponseBuilder, SipMessage};

use crate::io::{Fx, Reliability, State, Step};
use crate::timers::{Slot, Timers, TxTimers};

#[derive(Debug)]
pub(crate) struct ServerInvite<D> {
    pub(crate) state: State,
    /// Dropped once a final response is sent (only the 100 Trying is built from it).
    pub(crate) request: Option<Box<SipMessage>>,
    pub(crate) dest: D,
    reliability: Reliability,
    /// The latest response sent (provisional in Proceeding, final afterwards).
    last: Option<Bytes>,
    rto: Duration,
    pub(crate) timers: TxTimers,
}

/// Why the TU may not send a response now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WrongState;

impl<D: Clone> ServerInvite<D> {
    /// A new INVITE arrived. `trying` is when to send 100 Trying (`None`: never).
    pub(crate) fn start(
        request: SipMessage,
        dest: D,
        reliability: Reliability,
        trying: Option<Duration>,
        fx: &mut Fx<'_, D>,
    ) -> Self {
        let mut tx = ServerInvite {
            state: State::Proceeding,
            request: Some(Box::new(request)),
            dest,
            reliability,
            last: None,
            rto: fx.timers.t1,
            timers: TxTimers::default(),
        };
        match trying {
            Some(d) if d.is_zero() => tx.send_trying(fx),
            Some(d) => fx.arm(&mut tx.timers, Slot::Trying, d),
            None => {}
        }
        tx
    }

    fn send_trying(&mut self, fx: &mut Fx<'_, D>) {
        let Some(request) = &self.request else {
            return;
        };
        let bytes = Bytes::from(ResponseBuilder::new(request, 100).to_vec());
        fx.send(&self.dest, &bytes);
        self.last = Some(bytes);
    }

    /// The INVITE was retransmitted.
    pub(crate) fn on_retransmission(&mut self, fx: &mut Fx<'_, D>) {
        if matches!(self.state, State::Proceeding | State::Completed) {
            fx.resend(&self.dest, self.last.as_ref());
        }
    }

    /// A matching ACK arrived. Returns true when it must be passed up (Accepted state).
    pub(crate) fn on_ack(&mut self, fx: &mut Fx<'_, D>) -> bool {
        match self.state {
            State::Completed => {
                self.state = State::Confirmed;
                self.timers.disarm_all();
                let i = Timers::unless_reliable(fx.timers.t4, self.reliability);
                fx.arm(&mut self.timers, Slot::Linger, i);
                false
            }
            State::Accepted => true,
            _ => false,
        }
    }

    /// The TU sends a response.
    pub(crate) fn respond(
        &mut self,
        bytes: Bytes,
        status: u16,
        fx: &mut Fx<'_, D>,
    ) -> Result<(), WrongState> {
        match (self.state, status) {
            (State::Proceeding, 100..=199) => {
                self.timers.disarm(Slot::Trying);
                fx.send(&self.dest, &bytes);
                self.last = Some(bytes);
            }
            (State::Proceeding, 200..=299) => {
                self.state = State::Accepted;
                self.timers.disarm_all();
                fx.send(&self.dest, &bytes);
                self.last = None;
                self.request = None;
                fx.arm(&mut self.timers, Slot::Linger, fx.timers.t1x64());
            }
            (State::Accepted, 200..=299) => fx.send(&self.dest, &bytes),
            (State::Proceeding, _) => {
                self.state = State::Completed;
                self.timers.disarm_all();
                self.request = None;
                fx.send(&self.dest, &bytes);
                self.last = Some(bytes);
                fx.arm_retransmit_and_timeout(&mut self.timers, self.reliability, self.rto);
            }
            _ => return Err(WrongState),
        }
        Ok(())
    }

    pub(crate) fn on_timer(&mut self, slot: Slot, fx: &mut Fx<'_, D>) -> Step {
        match (self.state, slot) {
            (State::Proceeding, Slot::Trying) => {
                if self.last.is_none() {
                    self.send_trying(fx);
                }
                Step::Continue
            }
            (State::Completed, Slot::Retransmit) => {
                fx.resend(&self.dest, self.last.as_ref());
                self.rto = fx.timers.backoff(self.rto, true);
                fx.arm(&mut self.timers, Slot::Retransmit, self.rto);
                Step::Continue
            }
            (State::Completed, Slot::Timeout) => fx.time_out(),
            (State::Confirmed | State::Accepted, Slot::Linger) => Step::Terminate,
            _ => Step::Continue,
        }
    }
}
