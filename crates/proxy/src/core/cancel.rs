//! Ending a fork's branches: CANCEL to every branch still ringing (after a 2xx or 6xx, a
//! caller's CANCEL, or the no-answer timer), the caller's CANCEL itself (RFC 3261 §16.10),
//! and the no-answer timer (§16.8). Choosing the best response is `forking.rs`'s.

use std::time::Duration;

use bytes::Bytes;
use sip_message::{build_cancel, Method, SipMessage, WrittenMessage};
use sip_transaction::TransactionId;

use super::stage::LegEnd;
use super::{fixed_top_via, reliability, Proxy};
use crate::answer::Answer;
use crate::fork::BranchState;

impl Proxy {
    /// CANCEL every branch still ringing (after a 2xx or 6xx, a caller's CANCEL, or the
    /// no-answer timer).
    pub(super) fn cancel_branches(&mut self, now: Duration, fork_id: TransactionId) {
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        if fork.request.method() != Method::Invite {
            return;
        }
        let mut to_cancel = Vec::new();
        for (i, b) in fork.branches.iter_mut().enumerate() {
            match b.state {
                BranchState::Proceeding => to_cancel.push(i),
                BranchState::Trying => b.cancel_pending = true,
                BranchState::Done(_) => {}
            }
        }
        for i in to_cancel {
            self.send_cancel(now, fork_id, i);
        }
    }

    pub(super) fn send_cancel(&mut self, now: Duration, fork_id: TransactionId, b: usize) {
        let Some(fork) = self.forks.get(&fork_id) else {
            return;
        };
        let branch = &fork.branches[b];
        let Some(req) = branch.request.as_ref().and_then(WrittenMessage::get) else {
            return;
        };
        let mut buf = Vec::with_capacity(400);
        build_cancel(req, &mut buf);
        if let Ok(cancel) = SipMessage::parse(Bytes::from(buf)) {
            let dest = branch.dest;
            if let Err(e) = self
                .layer
                .send_request(now, cancel, dest, reliability(&dest))
            {
                tracing::debug!(?e, "CANCEL not sent");
            }
        }
    }

    pub(super) fn cancel_fork(&mut self, now: Duration, invite_tx: TransactionId) {
        if let Some(p) = self.unpark_request(invite_tx) {
            // The parked call started (with its caller's identity) when it was parked.
            self.events
                .started(now, invite_tx.get(), &p.req, None, &p.source, true);
            self.reply_on(
                now,
                invite_tx,
                &p.req,
                fixed_top_via(&p.req, &p.source, self.cfg.force_rport).as_deref(),
                &Answer::status(487),
            );
            return;
        }
        let Some(fork) = self.forks.get_mut(&invite_tx) else {
            return;
        };
        if fork.final_sent {
            return;
        }
        fork.cancelled = true;
        fork.pending_groups.clear();
        let any_ringing = fork
            .branches
            .iter()
            .any(|b| b.state == BranchState::Proceeding);
        self.cancel_branches(now, invite_tx);
        if !any_ringing {
            // Nobody answered anything yet: end the caller's transaction now with 487.
            let Some(fork) = self.forks.get_mut(&invite_tx) else {
                return;
            };
            fork.final_sent = true;
            self.answer_fork(now, invite_tx, Answer::status(487));
        }
    }

    pub(super) fn no_answer(&mut self, now: Duration, fork_id: TransactionId) {
        // A gateway that has not rung: the next gateway (`failover.rs`).
        if self.gateway_timed_out(now, fork_id) {
            return;
        }
        // The response side (call services: the next find-me step, or no-answer
        // forwarding).
        if self.run_final_route(now, fork_id, LegEnd::NoAnswer) {
            return;
        }
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        fork.timed_out = true;
        fork.pending_groups.clear();
        // Branches that never answered count as timed out now (RFC 3261 §16.8).
        for b in fork.branches.iter_mut() {
            if b.state == BranchState::Trying {
                b.state = BranchState::Done(408);
                b.cancel_pending = false;
            }
        }
        fork.consider(408, None);
        self.cancel_branches(now, fork_id);
        self.check_complete(now, fork_id);
        self.retire_if_done(fork_id);
    }
}
