//! Server transactions in the table: matching a received request to its transaction
//! (RFC 3261 §17.2.3, with the RFC 2543 fallback for ACK), creating one for a new request,
//! and the TU's responses on it. The state machines themselves are in `server_invite.rs` and
//! `server_non_invite.rs`; the table's bookkeeping in `table.rs`.

use std::time::Duration;

use bytes::Bytes;
use sip_message::{Method, SipMessage};

use super::table::{Entry, Tx};
use super::{Error, RequestOutcome, TransactionLayer};
use crate::io::{Reliability, State, Step, TransactionId, Transmit};
use crate::key::ServerKey;
use crate::server_invite::ServerInvite;
use crate::server_non_invite::ServerNonInvite;

impl<D: Clone> TransactionLayer<D> {
    /// A request arrived over a transport of `reliability`; responses of a server
    /// transaction it creates go to `dest`.
    pub fn handle_request(
        &mut self,
        now: Duration,
        request: SipMessage,
        reliability: Reliability,
        dest: D,
    ) -> RequestOutcome {
        if !request.is_request() {
            return RequestOutcome::NotARequest { message: request };
        }
        if request.method() == Method::Ack {
            return self.handle_ack(now, request);
        }
        let key = ServerKey::of_request(&request);
        if let Some(&id) = self.server_keys.get(&key) {
            if let Some(entry) = self.txs.get_mut(&id) {
                let mut fx = fx!(self, id, now);
                match &mut entry.tx {
                    Tx::InviteServer(t) => t.on_retransmission(&mut fx),
                    Tx::NonInviteServer(t) => t.on_retransmission(&mut fx),
                    _ => {}
                }
            }
            return RequestOutcome::Absorbed;
        }
        if self.is_full() {
            return RequestOutcome::Overloaded { request };
        }
        let id = self.allocate_id();
        let mut fx = fx!(self, id, now);
        let tx = if request.method() == Method::Invite {
            Tx::InviteServer(ServerInvite::start(
                request.clone(),
                dest,
                reliability,
                self.config.auto_100_trying,
                &mut fx,
            ))
        } else {
            Tx::NonInviteServer(ServerNonInvite::start(request.clone(), dest, reliability))
        };
        self.insert_server(id, key, tx);
        if request.method() == Method::Cancel {
            let invite_tx = self
                .server_keys
                .get(&ServerKey::invite_of_cancel(&request))
                .copied();
            return RequestOutcome::Cancel {
                cancel_tx: id,
                invite_tx,
                request,
            };
        }
        RequestOutcome::New { id, request }
    }

    fn handle_ack(&mut self, now: Duration, ack: SipMessage) -> RequestOutcome {
        let (key, fallback) = ServerKey::ack_candidates(&ack);
        let found = self
            .server_keys
            .get(&key)
            .or_else(|| fallback.as_ref().and_then(|k| self.server_keys.get(k)))
            .copied();
        let Some(id) = found else {
            return RequestOutcome::Ack {
                ack,
                invite_tx: None,
            };
        };
        if let Some(Entry {
            tx: Tx::InviteServer(t),
            ..
        }) = self.txs.get_mut(&id).map(|e| &mut **e)
        {
            let mut fx = fx!(self, id, now);
            if t.on_ack(&mut fx) {
                return RequestOutcome::Ack {
                    ack,
                    invite_tx: Some(id),
                };
            }
        }
        RequestOutcome::Absorbed
    }

    /// The TU sends a response (`status` is its status code) on server transaction `id`.
    /// The layer queues it for transmission and keeps it for retransmissions.
    pub fn respond(
        &mut self,
        now: Duration,
        id: TransactionId,
        response: Bytes,
        status: u16,
    ) -> Result<(), Error> {
        if !(100..=699).contains(&status) {
            return Err(Error::BadStatus(status));
        }
        let entry = self.txs.get_mut(&id).ok_or(Error::UnknownTransaction)?;
        let mut fx = fx!(self, id, now);
        let r = match &mut entry.tx {
            Tx::InviteServer(t) => t.respond(response, status, &mut fx),
            Tx::NonInviteServer(t) => t.respond(response, status, &mut fx),
            _ => return Err(Error::WrongState),
        };
        r.map_err(|_| Error::WrongState)
    }

    /// Sends a final response on server transaction `id` and ends the transaction at once,
    /// keeping nothing to absorb retransmissions: for answers a TU can recompute at no cost,
    /// such as digest challenges (a retransmitted request simply gets a fresh one), so they
    /// do not hold a table entry for Timer J/H. The TU must absorb the ACK of such an INVITE
    /// answer itself (it arrives as [`RequestOutcome::Ack`] with no transaction).
    pub fn respond_stateless(
        &mut self,
        id: TransactionId,
        response: Bytes,
        status: u16,
    ) -> Result<(), Error> {
        if !(300..=699).contains(&status) {
            return Err(Error::BadStatus(status));
        }
        let entry = self.txs.get(&id).ok_or(Error::UnknownTransaction)?;
        let dest = match &entry.tx {
            Tx::InviteServer(t) if t.state == State::Proceeding => t.dest.clone(),
            Tx::NonInviteServer(t) if matches!(t.state, State::Trying | State::Proceeding) => {
                t.dest.clone()
            }
            _ => return Err(Error::WrongState),
        };
        self.transmits.push_back(Transmit {
            id,
            dest,
            bytes: response,
        });
        self.finish(id, Step::Terminate);
        Ok(())
    }
}
