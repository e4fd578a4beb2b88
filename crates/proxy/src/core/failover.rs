//! Gateway failover (issue 14): a call routed by `gateways.rs` tries its gateways one
//! serial group at a time. The fork manager calls the hooks below; they decide, for a
//! gateway call only:
//!
//! * a gateway that gives no provisional answer (other than 100) and no final answer within
//!   `[pstn] gateway_timeout_ms` is abandoned (CANCEL once it answers anything) and the next
//!   one is tried; once a gateway rings, the no-answer timer applies instead;
//! * a 408 or any 5xx (or a transport error) moves on to the next gateway; any other 4xx or
//!   a 6xx goes back to the caller with no failover (a busy or unknown number is busy or
//!   unknown on every network);
//! * when every gateway failed, the caller gets `503 Service Unavailable` with Retry-After
//!   (RFC 3261 §16.7: the proxy's own answer, not a relayed 503) unless a gateway's answer
//!   ranks better.
//!
//! Not here: choosing the gateways (`gateways.rs`), forking itself (`forking.rs`).

use std::time::Duration;

use sip_transaction::TransactionId;

use super::gateways::GATEWAYS_RETRY_AFTER;
use super::Proxy;
use crate::answer::Answer;
use crate::fork::BranchState;
use crate::pstn::Cause;

/// Whether a gateway's final status lets the call fail over to the next gateway.
pub(super) fn fails_over(status: u16) -> bool {
    status == 408 || (500..600).contains(&status)
}

impl Proxy {
    /// The fork of a gateway call starts: its first gateway has the gateway timeout.
    pub(super) fn gateway_fork_started(&mut self, now: Duration, fork_id: TransactionId) {
        if !self.pstn.legs.contains_key(&fork_id) {
            return;
        }
        let timeout = self.pstn.timeout;
        if let Some(fork) = self.forks.get_mut(&fork_id) {
            fork.deadline = Some(now + timeout);
        }
    }

    /// Branch `b` of a fork was sent (or failed to be): one attempt of its gateway, counted
    /// and reported as a call event (the call record's gateway and translated number).
    pub(super) fn gateway_branch_sent(
        &mut self,
        now: Duration,
        fork_id: TransactionId,
        b: usize,
        sent: bool,
    ) {
        let Some(name) = self.gateway_of(fork_id, b) else {
            return;
        };
        if let Some(leg) = self.pstn.legs.get(&fork_id) {
            let uri = leg.uris.get(b).map_or("", String::as_str);
            self.events
                .gateway(now, fork_id.get(), &name, &leg.number, uri);
        }
        self.pstn.count(&name, |c| {
            c.attempts += 1;
            if !sent {
                c.failed(Cause::Transport);
            }
        });
    }

    /// A provisional answer (not 100) from branch `b`: the gateway rings; the ring time
    /// (the no-answer timer) applies from now on.
    pub(super) fn gateway_provisional(&mut self, now: Duration, fork_id: TransactionId) {
        let Some(leg) = self.pstn.legs.get_mut(&fork_id) else {
            return;
        };
        if leg.ringing {
            return;
        }
        leg.ringing = true;
        let ring = self.cfg.no_answer_timeout;
        if let Some(fork) = self.forks.get_mut(&fork_id) {
            fork.deadline = Some(now + ring);
        }
    }

    /// A final answer from branch `b`, before the fork manager records it: counts it and
    /// stops the failover on an answer no other gateway would change.
    pub(super) fn gateway_final(
        &mut self,
        now: Duration,
        fork_id: TransactionId,
        b: usize,
        status: u16,
    ) {
        let Some(name) = self.gateway_of(fork_id, b) else {
            return;
        };
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        if matches!(fork.branches[b].state, BranchState::Done(_)) {
            return;
        }
        let cause = if (200..300).contains(&status) {
            None
        } else if fails_over(status) {
            // The next gateway gets its own timeout.
            fork.deadline = Some(now + self.pstn.timeout);
            if let Some(leg) = self.pstn.legs.get_mut(&fork_id) {
                leg.ringing = false;
            }
            Some(Cause::ServerError)
        } else {
            fork.pending_groups.clear();
            Some(Cause::Refused)
        };
        if let Some(c) = cause {
            tracing::info!(
                call_id = fork.request.call_id(),
                gateway = %name,
                status,
                failover = c == Cause::ServerError && !fork.pending_groups.is_empty(),
                "gateway call failed"
            );
        }
        self.pstn.count(&name, |counters| match cause {
            None => counters.answers += 1,
            Some(c) => counters.failed(c),
        });
    }

    /// The fork's timer fired. For a gateway that has not rung, that is the gateway
    /// timeout: its branch ends (408) and the next gateway is tried, or the caller gets
    /// the answer for a failed route. Returns false when the timer is the no-answer timer
    /// (the fork manager's own handling applies).
    pub(super) fn gateway_timed_out(&mut self, now: Duration, fork_id: TransactionId) -> bool {
        let ringing = match self.pstn.legs.get(&fork_id) {
            Some(leg) => leg.ringing,
            None => return false,
        };
        if ringing {
            return false;
        }
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return true;
        };
        let mut cancel = Vec::new();
        let mut abandoned = Vec::new();
        for (i, b) in fork.branches.iter_mut().enumerate() {
            match b.state {
                BranchState::Trying => b.cancel_pending = true,
                BranchState::Proceeding => cancel.push(i),
                BranchState::Done(_) => continue,
            }
            b.state = BranchState::Done(408);
            abandoned.push(i);
        }
        fork.consider(408, None);
        fork.deadline = Some(now + self.pstn.timeout);
        for i in abandoned {
            if let Some(name) = self.gateway_of(fork_id, i) {
                tracing::info!(gateway = %name, "gateway did not answer in time: failover");
                self.pstn.count(&name, |c| c.failed(Cause::Timeout));
            }
        }
        for i in cancel {
            self.send_cancel(now, fork_id, i);
        }
        self.check_complete(now, fork_id);
        self.retire_if_done(fork_id);
        true
    }

    /// The caller's answer when every gateway of a gateway call failed with a status that
    /// fails over (or none): 503 with Retry-After. None for other calls and other answers.
    pub(super) fn gateways_failed_answer(&self, fork_id: TransactionId) -> Option<Answer> {
        if !self.pstn.legs.contains_key(&fork_id) {
            return None;
        }
        let fork = self.forks.get(&fork_id)?;
        if fork.cancelled {
            return None;
        }
        let best = fork
            .best
            .as_ref()
            .map(|r| r.status())
            .or(fork.best_synthetic);
        match best {
            Some(s) if !fails_over(s) => None,
            _ => {
                tracing::warn!(
                    call_id = fork.request.call_id(),
                    "every gateway of the route failed"
                );
                Some(Answer::retry_after(
                    503,
                    "All Gateways Failed",
                    GATEWAYS_RETRY_AFTER,
                ))
            }
        }
    }

    /// The gateway of branch `b` of a gateway call (one gateway per serial group).
    pub(super) fn gateway_of(&self, fork_id: TransactionId, b: usize) -> Option<String> {
        self.pstn.legs.get(&fork_id)?.names.get(b).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::fails_over;

    #[test]
    fn only_timeouts_and_server_errors_fail_over() {
        assert!(fails_over(408));
        assert!(fails_over(500));
        assert!(fails_over(503));
        assert!(!fails_over(404));
        assert!(!fails_over(486));
        assert!(!fails_over(603));
    }
}
