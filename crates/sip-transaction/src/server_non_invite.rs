//! The non-INVITE server transaction (RFC 3261 §17.2.2).
//!
//! ```text
//! Trying --TU 1xx--> Proceeding --TU 200-699--> Completed --Timer J--> gone
//!    \-------------TU 200-699--------------/
//! ```
//! A retransmitted request is absorbed in Trying, re-sends the latest provisional response in
//! Proceeding and the final response in Completed.

use bytes::Bytes;
use sip_message::SipMessage;

use crate::io::{Fx, Reliability, State, Step};
use crate::server_invite::WrongState;
use crate::timers::{Slot, Timers, TxTimers};

#[derive(Debug)]
pub(crate) struct ServerNonInvite<D> {
    pub(crate) state: State,
    /// Dropped once the final response is sent: in Completed only the response is needed
    /// (Timer J keeps thousands of these alive on a busy registrar).
    pub(crate) request: Option<Box<SipMessage>>,
    pub(crate) dest: D,
    reliability: Reliability,
    last: Option<Bytes>,
    pub(crate) timers: TxTimers,
}

impl<D: Clone> ServerNonInvite<D> {
    pub(crate) fn start(request: SipMessage, dest: D, reliability: Reliability) -> Self {
        ServerNonInvite {
            state: State::Trying,
            request: Some(Box::new(request)),
            dest,
            reliability,
            last: None,
            timers: TxTimers::default(),
        }
    }

    /// The request was retransmitted.
    pub(crate) fn on_retransmission(&mut self, fx: &mut Fx<'_, D>) {
        fx.resend(&self.dest, self.last.as_ref());
    }

    /// The TU sends a response.
    pub(crate) fn respond(
        &mut self,
        bytes: Bytes,
        status: u16,
        fx: &mut Fx<'_, D>,
    ) -> Result<(), WrongState> {
        match (self.state, status) {
            (State::Trying | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
            }
            (State::Trying | State::Proceeding, _) => {
                self.state = State::Completed;
                self.request = None;
                let j = Timers::unless_reliable(fx.timers.t1x64(), self.reliability);
                fx.arm(&mut self.timers, Slot::Linger, j);
            }
            _ => return Err(WrongState),
        }
        fx.send(&self.dest, &bytes);
        self.last = Some(bytes);
        Ok(())
    }

    pub(crate) fn on_timer(&mut self, slot: Slot) -> Step {
        match (self.state, slot) {
            (State::Completed, Slot::Linger) => Step::Terminate,
            _ => Step::Continue,
        }
    }
}
