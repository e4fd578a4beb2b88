//! The fork manager's state: one [`Fork`] per proxied request, one [`Branch`] per target,
//! and best-response selection (RFC 3261 §16.7).

use std::time::Duration;

use sip_message::SipMessage;
use sip_transaction::TransactionId;

use crate::destination::Destination;

/// One place the request is sent.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// New Request-URI (a contact), or None to keep the request's.
    pub request_uri: Option<String>,
    /// Where to send.
    pub dest: Destination,
    /// Route entries to pre-load (a binding's Path), topmost first.
    pub routes: Vec<String>,
    /// Preference, 0..=1000.
    pub q: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BranchState {
    /// Sent, no response yet.
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived (or was synthesised).
    Done(u16),
}

/// One client transaction of a fork.
#[derive(Debug)]
pub(crate) struct Branch {
    pub tx: Option<TransactionId>,
    pub request: Option<SipMessage>,
    pub dest: Destination,
    pub state: BranchState,
    /// CANCEL requested before any provisional arrived (RFC 3261 §9.1: wait for one).
    pub cancel_pending: bool,
}

/// A proxied request and what its branches answered.
#[derive(Debug)]
pub(crate) struct Fork {
    pub server_tx: TransactionId,
    pub request: SipMessage,
    pub hash: u64,
    pub branches: Vec<Branch>,
    /// Serial groups not started yet (lower q), next first.
    pub pending_groups: Vec<Vec<Target>>,
    /// The best final response so far, from a branch.
    pub best: Option<SipMessage>,
    /// The best status so far when synthesised (408 for a silent branch).
    pub best_synthetic: Option<u16>,
    /// A final response went upstream.
    pub final_sent: bool,
    /// The caller cancelled.
    pub cancelled: bool,
    /// The no-answer timer fired.
    pub timed_out: bool,
    /// When the no-answer timer fires (INVITE only).
    pub deadline: Option<Duration>,
    /// Route fields to strip and Request-URI to restore, from route pre-processing.
    pub remove_routes: Vec<usize>,
    /// Request-URI rewritten by strict-router recovery.
    pub new_request_uri: Option<String>,
    /// The received top Via rewritten with received/rport.
    pub fixed_top_via: Option<String>,
    /// The transport the request arrived on (double Record-Route when it differs).
    pub inbound: crate::destination::Transport,
    /// Our host as the caller reaches it (the caller-facing Record-Route).
    pub inbound_host: std::sync::Arc<str>,
}

/// The rank of a final status for best-response selection: lower wins. 6xx beat all; then
/// the lowest class; within 4xx, answers the caller can act on (auth challenges, 486)
/// beat the proxy's own timeouts.
pub(crate) fn rank(status: u16) -> u32 {
    let class = u32::from(status / 100);
    let class_rank = match class {
        6 => 0,
        3 => 1,
        4 => 2,
        5 => 3,
        _ => 4,
    };
    let within = match status {
        401 | 407 => 0,
        486 | 600 | 603 => 1,
        408 => 8,
        487 => 7,
        480 => 6,
        _ => 5,
    };
    class_rank * 100 + within
}

impl Fork {
    /// True while no branch of the current group awaits a final response.
    pub fn group_done(&self) -> bool {
        self.branches
            .iter()
            .all(|b| matches!(b.state, BranchState::Done(_)))
    }

    /// Records a final response (or a synthetic status) if it beats the best so far.
    pub fn consider(&mut self, status: u16, response: Option<SipMessage>) {
        let current = match (&self.best, self.best_synthetic) {
            (Some(r), _) => Some(r.status()),
            (None, s) => s,
        };
        if current.is_none_or(|c| rank(status) < rank(c)) {
            match response {
                Some(r) => {
                    self.best = Some(r);
                    self.best_synthetic = None;
                }
                None => {
                    self.best = None;
                    self.best_synthetic = Some(status);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rank;

    #[test]
    fn best_response_order() {
        assert!(rank(603) < rank(302));
        assert!(rank(302) < rank(486));
        assert!(rank(486) < rank(404));
        assert!(rank(404) < rank(480));
        assert!(rank(480) < rank(408));
        assert!(rank(407) < rank(486));
        assert!(rank(486) < rank(503));
    }
}
