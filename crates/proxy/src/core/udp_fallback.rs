//! RFC 3261 §18.1.1's way back to UDP: a request that would have gone over UDP but was
//! sent over TCP only because it is larger than `udp_max_request_bytes`, and whose TCP
//! connection could not be made, is sent again over UDP, to the same target, as a new
//! branch. Phones that listen on UDP alone (SIPp, many desk phones) then still get a
//! browser's INVITE, whose WebRTC SDP is well over 1,300 bytes.
//!
//! Requests to the service host never switch (`send_branch_sized`): it listens on UDP
//! only, on this machine, so a browser's bridged INVITE to voicemail or a conference
//! goes there over UDP at once.
//!
//! Gateway branches are left out (their failover counts attempts per branch); a second
//! failure over UDP ends the branch as a 503 like any other (`transport_error.rs`).

use std::time::Duration;

use sip_transaction::TransactionId;

use super::Proxy;
use crate::fork::BranchState;

impl Proxy {
    /// Branch `b` of `fork_id` could not be sent: if it was on TCP for its size only,
    /// sends it again over UDP and returns true (the branch then counts for nothing).
    pub(super) fn retry_over_udp(
        &mut self,
        now: Duration,
        fork_id: TransactionId,
        b: usize,
    ) -> bool {
        if self.gateway_of(fork_id, b).is_some() {
            return false;
        }
        let Some(branch) = self
            .forks
            .get_mut(&fork_id)
            .and_then(|f| f.branches.get_mut(b))
        else {
            return false;
        };
        if matches!(branch.state, BranchState::Done(_)) {
            return false;
        }
        let Some(target) = branch.udp_fallback.take() else {
            return false;
        };
        // The TCP branch is over; it was never answered, so it takes no part in choosing
        // the best response (RFC 3261 §16.7).
        branch.state = BranchState::Done(503);
        if let Some(tx) = branch.tx {
            self.client_to_fork.remove(&tx);
        }
        tracing::info!(
            dest = %target.dest.addr,
            "large request: TCP connection failed, sent again over UDP (RFC 3261 §18.1.1)"
        );
        self.send_branch_sized(now, fork_id, target, false);
        true
    }
}
