//! Client transactions in the table: starting one for a request the TU sends, and matching a
//! received response to its transaction (RFC 3261 §17.1.3). The state machines themselves
//! are in `client_invite.rs` and `client_non_invite.rs`; the table's bookkeeping in
//! `table.rs`.

use std::time::Duration;

use sip_message::{Method, SipMessage, WrittenMessage};

use super::table::Tx;
use super::{Error, ResponseOutcome, TransactionLayer};
use crate::client_invite::ClientInvite;
use crate::client_non_invite::ClientNonInvite;
use crate::io::{Reliability, Step, TransactionId};
use crate::key::ClientKey;

impl<D: Clone> TransactionLayer<D> {
    /// A response arrived.
    pub fn handle_response(&mut self, now: Duration, response: SipMessage) -> ResponseOutcome {
        if response.is_request() {
            return ResponseOutcome::Stray { response };
        }
        let id = ClientKey::of_response(&response).and_then(|k| self.client_keys.get(&k).copied());
        let Some(entry) = id.and_then(|id| self.txs.get_mut(&id).map(|e| (id, e))) else {
            return ResponseOutcome::Stray { response };
        };
        let (id, entry) = entry;
        let mut fx = fx!(self, id, now);
        let (pass_up, step) = match &mut entry.tx {
            Tx::InviteClient(t) => t.on_response(&response, &mut fx),
            Tx::NonInviteClient(t) => t.on_response(&response, &mut fx),
            _ => (false, Step::Continue),
        };
        self.finish(id, step);
        if pass_up {
            ResponseOutcome::Matched { id, response }
        } else {
            ResponseOutcome::Absorbed
        }
    }

    /// Starts a client transaction for `request` (with a unique Via branch) and queues its
    /// first transmission to `dest`. For INVITE the layer builds the ACK of 3xx-6xx
    /// responses; a CANCEL (see [`sip_message::build_cancel`]) is a client transaction of
    /// its own.
    pub fn send_request(
        &mut self,
        now: Duration,
        request: SipMessage,
        dest: D,
        reliability: Reliability,
    ) -> Result<TransactionId, Error> {
        if !request.is_request() {
            return Err(Error::NotARequest);
        }
        if request.method() == Method::Ack {
            return Err(Error::AckIsNotATransaction);
        }
        let key = ClientKey::of_request(&request).ok_or(Error::MissingBranch)?;
        let method = request.method();
        self.start_client(
            now,
            key,
            method,
            WrittenMessage::parsed(request),
            dest,
            reliability,
        )
    }

    /// Starts a client transaction for a request this element wrote (a proxy's branch),
    /// whose top Via branch and method the caller knows because it wrote them. The request
    /// is parsed only if the transaction needs it: for the ACK of a 3xx-6xx answer, or when
    /// [`TransactionLayer::request`] is asked (to build a CANCEL).
    pub fn send_written(
        &mut self,
        now: Duration,
        request: WrittenMessage,
        method: &str,
        branch: &str,
        dest: D,
        reliability: Reliability,
    ) -> Result<TransactionId, Error> {
        let m = Method::from_token(method);
        if m == Method::Ack {
            return Err(Error::AckIsNotATransaction);
        }
        if branch.is_empty() {
            return Err(Error::MissingBranch);
        }
        self.start_client(
            now,
            ClientKey::new(branch, method),
            m,
            request,
            dest,
            reliability,
        )
    }

    /// Refuses a branch in use and a full table, then starts the transaction.
    fn start_client(
        &mut self,
        now: Duration,
        key: ClientKey,
        method: Method,
        request: WrittenMessage,
        dest: D,
        reliability: Reliability,
    ) -> Result<TransactionId, Error> {
        if self.client_keys.contains_key(&key) {
            return Err(Error::DuplicateBranch);
        }
        if self.is_full() {
            return Err(Error::Overloaded);
        }
        let bytes = request.wire().clone();
        let id = self.allocate_id();
        let mut fx = fx!(self, id, now);
        let tx = if method == Method::Invite {
            Tx::InviteClient(Box::new(ClientInvite::start(
                request,
                bytes,
                dest,
                reliability,
                &mut fx,
            )))
        } else {
            Tx::NonInviteClient(ClientNonInvite::start(
                request,
                bytes,
                dest,
                reliability,
                &mut fx,
            ))
        };
        self.insert_client(id, key, tx);
        Ok(id)
    }
}
