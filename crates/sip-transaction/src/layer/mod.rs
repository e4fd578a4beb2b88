//! The transaction table: matches messages to transactions, drives their timers, and queues
//! what to send and what to tell the transaction user (TU).
//!
//! Driving loop (quinn-proto style):
//! 1. feed inputs: [`TransactionLayer::handle_request`], [`TransactionLayer::handle_response`],
//!    [`TransactionLayer::send_request`], [`TransactionLayer::respond`],
//!    [`TransactionLayer::handle_transport_error`], and [`TransactionLayer::handle_timeout`]
//!    when the deadline from [`TransactionLayer::poll_timeout`] has passed;
//! 2. then drain [`TransactionLayer::poll_transmit`] and [`TransactionLayer::poll_event`], and
//!    re-read [`TransactionLayer::poll_timeout`].
//!
//! Time is a [`Duration`](std::time::Duration) since an epoch the caller chooses. Zero-length timers (D, I, J, K
//! over reliable transports) fire at the next `handle_timeout` with the same `now`.
//!
//! This module owns the [`TransactionLayer`] itself and its queues of transmits and events;
//! its parts live beside it: `config.rs`, `error.rs`, `outcome.rs` (what the TU is told),
//! `table.rs` (the bounded table), `server_side.rs` (request matching), `client_side.rs`
//! (response matching), `timeouts.rs` and `transport_error.rs`.

use std::collections::{HashMap, VecDeque};

use sip_message::SipMessage;

use crate::io::{Event, State, TransactionId, Transmit};
use crate::key::{ClientKey, ServerKey};
use crate::timers::TimerQueue;

/// The effect sink for transaction `$id` at `$now`, borrowing the layer's queues.
macro_rules! fx {
    ($self:ident, $id:expr, $now:expr) => {
        crate::io::Fx {
            id: $id,
            now: $now,
            timers: &$self.config.timers,
            transmits: &mut $self.transmits,
            events: &mut $self.events,
            queue: &mut $self.queue,
        }
    };
}

mod client_side;
mod config;
mod error;
pub(crate) mod id_hash;
mod outcome;
mod server_side;
mod table;
mod timeouts;
mod transport_error;

pub use config::Config;
pub use error::Error;
pub use outcome::{RequestOutcome, ResponseOutcome};

use id_hash::IdHash;
use table::Entry;

/// The RFC 3261 §17 transaction layer: a bounded table of client and server transactions.
/// `D` is the caller's destination type (address, transport, connection id, ...), handed
/// back unchanged in every [`Transmit`].
///
/// ```
/// use std::time::Duration;
/// use bytes::Bytes;
/// use sip_message::{ResponseBuilder, SipMessage};
/// use sip_transaction::{Config, Reliability, RequestOutcome, TransactionLayer};
///
/// let mut layer: TransactionLayer<&str> = TransactionLayer::new(Config::default());
/// let text = "OPTIONS sip:bob@example.com SIP/2.0\r\n\
///     Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n\
///     To: <sip:bob@example.com>\r\nFrom: <sip:alice@example.com>;tag=a\r\n\
///     Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
/// let request = SipMessage::parse(Bytes::from(text)).expect("valid");
/// let now = Duration::ZERO;
/// if let RequestOutcome::New { id, request } =
///     layer.handle_request(now, request, Reliability::Unreliable, "192.0.2.1:5060")
/// {
///     let ok = ResponseBuilder::new(&request, 200).to_tag("x").to_vec();
///     layer.respond(now, id, Bytes::from(ok), 200).expect("first final");
/// }
/// while let Some(t) = layer.poll_transmit() {
///     assert_eq!(t.dest, "192.0.2.1:5060"); // socket.send_to(&t.bytes, t.dest)
/// }
/// // Timer J: the transaction lingers 64*T1 to absorb retransmissions.
/// assert_eq!(layer.poll_timeout(), Some(Duration::from_secs(32)));
/// layer.handle_timeout(Duration::from_secs(32));
/// assert!(layer.is_empty());
/// ```
#[derive(Debug)]
pub struct TransactionLayer<D> {
    config: Config,
    next_id: u64,
    /// Boxed: an entry is ~480 bytes and a hash table holds up to twice its length in
    /// slots, so inline entries cost ~1 KB per transaction at a bad moment of growth.
    txs: HashMap<TransactionId, Box<Entry<D>>, IdHash>,
    server_keys: HashMap<ServerKey, TransactionId>,
    client_keys: HashMap<ClientKey, TransactionId>,
    queue: TimerQueue,
    transmits: VecDeque<Transmit<D>>,
    events: VecDeque<Event>,
}

impl<D: Clone> TransactionLayer<D> {
    /// An empty layer.
    pub fn new(config: Config) -> Self {
        TransactionLayer {
            config,
            next_id: 0,
            txs: HashMap::with_hasher(IdHash),
            server_keys: HashMap::new(),
            client_keys: HashMap::new(),
            queue: TimerQueue::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit<D>> {
        self.transmits.pop_front()
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// How many transactions are alive.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// True when no transaction is alive.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// The state of transaction `id`; `None` once it terminated.
    pub fn state(&self, id: TransactionId) -> Option<State> {
        self.txs.get(&id).map(|e| e.tx.state())
    }

    /// The request of transaction `id`: the one received (server) or sent (client, e.g. to
    /// build its CANCEL with [`sip_message::build_cancel`]). Every transaction forgets its
    /// request once the final response is sent or received: `None` from then on.
    pub fn request(&self, id: TransactionId) -> Option<&SipMessage> {
        self.txs.get(&id).and_then(|e| e.tx.request())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;

    #[test]
    fn stale_timers_are_skipped() {
        let mut layer: TransactionLayer<()> = TransactionLayer::new(Config::default());
        assert_eq!(layer.poll_timeout(), None);
        assert!(layer.is_empty());
        assert_eq!(
            layer.respond(Duration::ZERO, TransactionId(9), Bytes::new(), 200),
            Err(Error::UnknownTransaction)
        );
        assert_eq!(
            layer.respond(Duration::ZERO, TransactionId(9), Bytes::new(), 99),
            Err(Error::BadStatus(99))
        );
    }
}
