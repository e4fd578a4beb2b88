//! The transaction table: its entries (one of the four state machines plus the key it is
//! matched by), the bound on its size, and adding and removing entries so that the two key
//! maps and the table always agree. It does not match messages (see `server_side.rs` and
//! `client_side.rs`) nor fire timers (`timeouts.rs`).

use sip_message::{SipMessage, WrittenMessage};

use super::TransactionLayer;
use crate::client_invite::ClientInvite;
use crate::client_non_invite::ClientNonInvite;
use crate::io::{Event, State, Step, TransactionId};
use crate::key::{ClientKey, ServerKey};
use crate::server_invite::ServerInvite;
use crate::server_non_invite::ServerNonInvite;
use crate::timers::TxTimers;

/// One of the four RFC 3261 §17 state machines. The largest, the INVITE client, is boxed:
/// every entry is as large as the largest variant, and a registrar holds tens of thousands
/// of non-INVITE server entries for Timer J (192 bytes each instead of 224).
#[derive(Debug)]
pub(super) enum Tx<D> {
    InviteClient(Box<ClientInvite<D>>),
    NonInviteClient(ClientNonInvite<D>),
    InviteServer(ServerInvite<D>),
    NonInviteServer(ServerNonInvite<D>),
}

impl<D> Tx<D> {
    pub(super) fn timers(&self) -> &TxTimers {
        match self {
            Tx::InviteClient(t) => &t.timers,
            Tx::NonInviteClient(t) => &t.timers,
            Tx::InviteServer(t) => &t.timers,
            Tx::NonInviteServer(t) => &t.timers,
        }
    }

    pub(super) fn timers_mut(&mut self) -> &mut TxTimers {
        match self {
            Tx::InviteClient(t) => &mut t.timers,
            Tx::NonInviteClient(t) => &mut t.timers,
            Tx::InviteServer(t) => &mut t.timers,
            Tx::NonInviteServer(t) => &mut t.timers,
        }
    }

    pub(super) fn state(&self) -> State {
        match self {
            Tx::InviteClient(t) => t.state,
            Tx::NonInviteClient(t) => t.state,
            Tx::InviteServer(t) => t.state,
            Tx::NonInviteServer(t) => t.state,
        }
    }

    pub(super) fn request(&self) -> Option<&SipMessage> {
        match self {
            Tx::InviteClient(t) => t.request.as_deref().and_then(WrittenMessage::get),
            Tx::NonInviteClient(t) => t.request.as_deref().and_then(WrittenMessage::get),
            Tx::InviteServer(t) => t.request.as_deref(),
            Tx::NonInviteServer(t) => t.request.as_deref(),
        }
    }
}

/// The key an entry is found by, kept to remove it from the right key map.
#[derive(Debug)]
pub(super) enum Key {
    Client(ClientKey),
    Server(ServerKey),
}

/// A row of the table.
#[derive(Debug)]
pub(super) struct Entry<D> {
    pub(super) key: Key,
    pub(super) tx: Tx<D>,
}

impl<D: Clone> TransactionLayer<D> {
    /// True when the table holds `max_transactions` transactions: a new one is refused.
    pub(super) fn is_full(&self) -> bool {
        self.txs.len() >= self.config.max_transactions
    }

    pub(super) fn allocate_id(&mut self) -> TransactionId {
        self.next_id += 1;
        TransactionId(self.next_id)
    }

    /// Adds a new server transaction under `key`.
    pub(super) fn insert_server(&mut self, id: TransactionId, key: ServerKey, tx: Tx<D>) {
        self.server_keys.insert(key.clone(), id);
        self.txs.insert(
            id,
            Box::new(Entry {
                key: Key::Server(key),
                tx,
            }),
        );
    }

    /// Adds a new client transaction under `key`.
    pub(super) fn insert_client(&mut self, id: TransactionId, key: ClientKey, tx: Tx<D>) {
        self.client_keys.insert(key.clone(), id);
        self.txs.insert(
            id,
            Box::new(Entry {
                key: Key::Client(key),
                tx,
            }),
        );
    }

    /// Removes a terminated transaction.
    pub(super) fn finish(&mut self, id: TransactionId, step: Step) {
        if step == Step::Continue {
            return;
        }
        let Some(entry) = self.txs.remove(&id) else {
            return;
        };
        match entry.key {
            Key::Client(k) => {
                if self.client_keys.get(&k) == Some(&id) {
                    self.client_keys.remove(&k);
                }
            }
            Key::Server(k) => {
                if self.server_keys.get(&k) == Some(&id) {
                    self.server_keys.remove(&k);
                }
            }
        }
        self.events.push_back(Event::Terminated { id });
    }
}
