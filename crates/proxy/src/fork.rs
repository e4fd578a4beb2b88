//! The fork manager's state: one [`Fork`] per proxied request, one [`Branch`] per target,
//! best-response selection (RFC 3261 §16.7), and a user's bindings turned into a fork's
//! targets ([`contact_groups`]).

use std::time::Duration;

use model::Binding;
use sip_message::{NameAddr, SipMessage, Uri, WrittenMessage};
use sip_transaction::TransactionId;

use crate::destination::Destination;
use crate::route::uri_destination;

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
    pub request: Option<WrittenMessage>,
    pub dest: Destination,
    pub state: BranchState,
    /// CANCEL requested before any provisional arrived (RFC 3261 §9.1: wait for one).
    pub cancel_pending: bool,
    /// The UDP target of a branch sent over TCP only for its size (RFC 3261 §18.1.1): if
    /// the TCP connection fails, the request goes again over UDP (`udp_fallback.rs`).
    pub udp_fallback: Option<Target>,
    /// It carries the caller's own SDP in a partly bridged call (not the relay's).
    pub direct: bool,
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
    /// A response-side stage waits for a query's answer: it decides what comes next.
    pub waiting: bool,
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
    /// A partly bridged call: which branches get the caller's own SDP (`core/relay.rs`).
    pub direct: Option<Box<crate::media_profile::DirectBranches>>,
    /// The flow token for the caller-facing Record-Route (RFC 5626 §5.3): the request
    /// came over an outbound flow.
    pub flow_token: Option<String>,
    /// The request goes over the flow a token named: a failed send is a 430.
    pub to_flow: bool,
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

/// A user's contacts as a fork's serial groups by q (best first), parallel within a
/// group: the plan of the location stage, of forwarding to a local user and of find-me.
pub(crate) fn contact_groups(mut bindings: Vec<Binding>) -> Vec<Vec<Target>> {
    bindings.sort_by(|a, b| b.q.cmp(&a.q).then(b.expires_at.cmp(&a.expires_at)));
    let mut groups: Vec<Vec<Target>> = Vec::new();
    for b in bindings {
        let contact_dest = Uri::parse(&b.contact).ok().map(|u| uri_destination(&u));
        // A phone behind NAT is reached where its REGISTER came from.
        let dest = match (Destination::from_source_string(&b.source), contact_dest) {
            (Some(src), _) => src,
            (None, Some(Ok(d))) => d,
            _ => continue,
        };
        let dest = match b
            .path
            .first()
            .and_then(|p| NameAddr::parse(p).ok())
            .map(|na| uri_destination(&na.uri))
        {
            Some(Ok(d)) => d,
            _ => dest,
        };
        let t = Target {
            request_uri: Some(
                b.contact
                    .split('?')
                    .next()
                    .unwrap_or(&b.contact)
                    .to_string(),
            ),
            dest,
            routes: b.path.clone(),
            q: b.q,
        };
        match groups.last_mut() {
            Some(g) if g[0].q == t.q => g.push(t),
            _ => groups.push(vec![t]),
        }
    }
    groups
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
