//! The response side of the engine: when a fork's current leg ends (every branch failed
//! with no serial group left, or the ring time ran out), the stages of [`FINAL_ROUTE`]
//! decide, in order, before the fork manager sends the best answer upstream. A stage may
//! retarget the call (a new leg on the same server transaction), end it with an answer of
//! its own, or wait for a query (parked like a request, `query.rs`).
//!
//! Not here: what each stage decides (its own file) or best-response selection
//! (`forking.rs`).

use std::time::Duration;

use sip_transaction::TransactionId;

use super::media_services::EarlyMediaFailure;
use super::messages::OfflineMessages;
use super::query::{Parked, MAX_QUERIES_PER_REQUEST};
use super::services::CallServices;
use super::stage::{FinalCtx, FinalFlow, LegEnd, Retarget, Stage};
use super::Proxy;
use crate::answer::Answer;
use crate::error::CallError;
use crate::fork::BranchState;

/// The stages asked when a leg ends. Gateway failover (issue 14) goes here too.
pub(super) const FINAL_ROUTE: &[&dyn Stage] = &[
    // Find-me's next step; forwarding on busy, no answer, unavailable.
    &CallServices,
    // `[announcements] early_media`: 183 and the announcement before the phones' failure.
    &EarlyMediaFailure,
    // A MESSAGE whose phones answered 408 or 480: stored for the next REGISTER (202).
    &OfflineMessages,
];

impl Proxy {
    /// A leg of fork `fork_id` ended. True when a stage took it over (or one already waits
    /// for a query); false: the fork manager answers the caller.
    pub(super) fn run_final_route(
        &mut self,
        now: Duration,
        fork_id: TransactionId,
        end: LegEnd,
    ) -> bool {
        let cx = FinalCtx {
            now,
            fork_id,
            end,
            found: Vec::new(),
            resolved: Vec::new(),
            stored: None,
        };
        self.final_route_from(cx, 0)
    }

    fn final_route_from(&mut self, mut cx: FinalCtx, from: usize) -> bool {
        match self.forks.get(&cx.fork_id) {
            Some(f) if f.waiting => return true,
            Some(f) if !f.final_sent && !f.cancelled => {}
            _ => return false,
        }
        let (now, fork_id) = (cx.now, cx.fork_id);
        for (i, stage) in FINAL_ROUTE.iter().enumerate().skip(from) {
            match stage.on_final(self, &mut cx) {
                FinalFlow::Continue => {}
                FinalFlow::Retarget(leg) => {
                    self.start_leg(now, fork_id, leg);
                    return true;
                }
                FinalFlow::Reply(answer) => {
                    self.end_with(now, fork_id, answer);
                    return true;
                }
                FinalFlow::Need(query) => {
                    if cx.found.len() + cx.resolved.len() >= MAX_QUERIES_PER_REQUEST {
                        self.end_with(now, fork_id, CallError::TooManyLookups.answer());
                        return true;
                    }
                    if !self.can_park() {
                        self.end_with(now, fork_id, CallError::Overloaded.answer());
                        return true;
                    }
                    if let Some(fork) = self.forks.get_mut(&fork_id) {
                        fork.waiting = true;
                        // The no-answer timer has done its job: the answer decides now.
                        fork.deadline = None;
                    }
                    let parked = Parked::Final {
                        cx: Box::new(cx),
                        stage: i,
                        query: query.clone(),
                    };
                    self.park(parked, query);
                    return true;
                }
            }
        }
        false
    }

    /// A parked response-side decision got its answer: the stage runs again (or, if the
    /// caller cancelled meanwhile, the fork ends as a cancelled one does).
    pub(super) fn resume_final(&mut self, cx: FinalCtx, stage: usize) {
        let (now, fork_id) = (cx.now, cx.fork_id);
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        fork.waiting = false;
        if fork.final_sent {
            return;
        }
        if fork.cancelled {
            self.check_complete(now, fork_id);
        } else if !self.final_route_from(cx, stage) {
            // Every stage passed: the answer the fork manager would have sent.
            self.check_complete(now, fork_id);
        }
        self.retire_if_done(fork_id);
    }

    /// Starts a new leg: the current one is retired, the caller hears of a forwarding.
    fn start_leg(&mut self, now: Duration, fork_id: TransactionId, leg: Box<Retarget>) {
        self.retire_leg(now, fork_id);
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        let mut groups = leg.groups;
        groups.reverse();
        let first = groups.pop().unwrap_or_default();
        fork.pending_groups = groups;
        fork.deadline = Some(now + leg.ring);
        let forwarded = leg.forwarded.is_some();
        if let Some(req) = leg.forwarded {
            fork.request = req;
            fork.best = None;
            fork.best_synthetic = None;
        }
        if forwarded {
            self.send_181(now, fork_id);
        }
        self.start_group(now, fork_id, first);
    }

    /// Ends the call with `answer`: the current leg is retired.
    fn end_with(&mut self, now: Duration, fork_id: TransactionId, answer: Answer) {
        self.retire_leg(now, fork_id);
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        fork.best = None;
        fork.best_synthetic = None;
        fork.final_sent = true;
        self.answer_fork(now, fork_id, answer);
    }

    /// Tells the caller the call is being forwarded.
    pub(super) fn send_181(&mut self, now: Duration, fork_id: TransactionId) {
        let Some(fork) = self.forks.get(&fork_id) else {
            return;
        };
        if fork.final_sent || fork.cancelled {
            return;
        }
        self.answer_fork(now, fork_id, Answer::new(181, "Call Is Being Forwarded"));
    }

    /// True when branch `b` belongs to an earlier leg (its provisional answers stay here).
    pub(super) fn retired_branch(&self, fork_id: TransactionId, b: usize) -> bool {
        self.calls.get(&fork_id).is_some_and(|st| b < st.base)
    }

    /// Ends the current leg: ringing branches are cancelled, silent ones will be when they
    /// answer; all count as done and their answers are absorbed.
    fn retire_leg(&mut self, now: Duration, fork_id: TransactionId) {
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        let mut to_cancel = Vec::new();
        for (i, b) in fork.branches.iter_mut().enumerate() {
            match b.state {
                BranchState::Proceeding => {
                    to_cancel.push(i);
                    b.state = BranchState::Done(487);
                }
                BranchState::Trying => {
                    b.cancel_pending = true;
                    b.state = BranchState::Done(408);
                }
                BranchState::Done(_) => {}
            }
        }
        fork.pending_groups.clear();
        let n = fork.branches.len();
        for i in to_cancel {
            self.send_cancel(now, fork_id, i);
        }
        if let Some(st) = self.calls.get_mut(&fork_id) {
            st.base = n;
        }
    }
}
