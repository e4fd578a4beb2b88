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
//! Time is a [`Duration`] since an epoch the caller chooses. Zero-length timers (D, I, J, K
//! over reliable transports) fire at the next `handle_timeout` with the same `now`.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use sip_message::{Method, SipMessage};

use crate::client_invite::ClientInvite;
use crate::client_non_invite::ClientNonInvite;
use crate::io::{Event, Fx, Reliability, State, Step, TransactionId, Transmit};
use crate::key::{ClientKey, ServerKey};
use crate::server_invite::ServerInvite;
use crate::server_non_invite::ServerNonInvite;
use crate::timers::{TimerQueue, Timers, TxTimers};

/// Configuration of a [`TransactionLayer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// T1, T2, T4 and Timer D.
    pub timers: Timers,
    /// The most transactions (client and server) alive at once. When the table is full a new
    /// request yields [`RequestOutcome::Overloaded`] and [`TransactionLayer::send_request`]
    /// fails with [`Error::Overloaded`]. Default 1,048,576: RFC 3261 keeps a
    /// transaction 32 s after its final response (Timer J, or RFC 6026's Timer L/M), so a
    /// sustained N calls/s holds ~110·N of them and N registrations/s ~32·N.
    pub max_transactions: usize,
    /// When the server INVITE transaction sends `100 Trying` by itself if the TU has sent no
    /// provisional response yet: `Some(Duration::ZERO)` at once, `Some(d)` after `d`
    /// (RFC 3261 §17.2.1 suggests 200 ms, the default), `None` never (the TU sends it).
    /// The generated 100 copies the request's Via unchanged (no `received`/`rport`).
    pub auto_100_trying: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timers: Timers::default(),
            max_transactions: 1 << 20,
            auto_100_trying: Some(Duration::from_millis(200)),
        }
    }
}

/// Why a call into the layer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No live transaction has this id (it may have terminated).
    UnknownTransaction,
    /// The transaction is a client transaction, or its state forbids this response
    /// (e.g. a second final response, a provisional after the final).
    WrongState,
    /// The status code is not within 100..=699.
    BadStatus(u16),
    /// The table holds `max_transactions` transactions.
    Overloaded,
    /// The request to send has no branch parameter in its top Via.
    MissingBranch,
    /// A client transaction with this branch and method already exists.
    DuplicateBranch,
    /// A response was given where a request was expected.
    NotARequest,
    /// ACK is never a transaction of its own: send it without the layer.
    AckIsNotATransaction,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownTransaction => f.write_str("unknown transaction"),
            Error::WrongState => f.write_str("response not allowed in this transaction state"),
            Error::BadStatus(s) => write!(f, "bad status code {s}"),
            Error::Overloaded => f.write_str("transaction table full"),
            Error::MissingBranch => f.write_str("request has no Via branch"),
            Error::DuplicateBranch => f.write_str("a client transaction with this branch exists"),
            Error::NotARequest => f.write_str("not a request"),
            Error::AckIsNotATransaction => f.write_str("ACK does not start a transaction"),
        }
    }
}

impl std::error::Error for Error {}

/// What the TU must do with a request given to [`TransactionLayer::handle_request`].
#[derive(Debug, Clone)]
pub enum RequestOutcome {
    /// A new request (not ACK, not CANCEL): a server transaction was created; the TU answers
    /// it with [`TransactionLayer::respond`].
    New {
        /// The new server transaction.
        id: TransactionId,
        /// The request.
        request: SipMessage,
    },
    /// A new CANCEL: its own non-INVITE server transaction (the TU answers it 200, or 481
    /// when `invite_tx` is `None`), plus the INVITE server transaction it cancels, if any
    /// (check [`TransactionLayer::state`]: once a final response was sent, it has no effect).
    Cancel {
        /// The CANCEL's server transaction.
        cancel_tx: TransactionId,
        /// The INVITE server transaction with the same key.
        invite_tx: Option<TransactionId>,
        /// The CANCEL.
        request: SipMessage,
    },
    /// A retransmission (or the ACK of a 3xx-6xx): handled here. Any response to re-send is
    /// queued in [`TransactionLayer::poll_transmit`].
    Absorbed,
    /// An ACK that is not absorbed: with `invite_tx: None` it matches no transaction (the ACK
    /// of a 2xx: a proxy forwards it statelessly); with `Some`, it matched an INVITE server
    /// transaction in Accepted state (RFC 6026) and is passed up as well.
    Ack {
        /// The ACK.
        ack: SipMessage,
        /// The Accepted INVITE server transaction it matched, if any.
        invite_tx: Option<TransactionId>,
    },
    /// The table is full: answer `503 Service Unavailable` with `Retry-After` statelessly.
    Overloaded {
        /// The request.
        request: SipMessage,
    },
    /// The message is a response: use [`TransactionLayer::handle_response`].
    NotARequest {
        /// The message.
        message: SipMessage,
    },
}

/// What the TU must do with a response given to [`TransactionLayer::handle_response`].
#[derive(Debug, Clone)]
pub enum ResponseOutcome {
    /// Pass it to the TU of this client transaction: a provisional, the final, or (INVITE,
    /// Accepted state) a 2xx retransmission or a 2xx from another fork.
    Matched {
        /// The client transaction.
        id: TransactionId,
        /// The response.
        response: SipMessage,
    },
    /// A retransmission handled here (an ACK may have been queued).
    Absorbed,
    /// No client transaction matches (RFC 3261 §18.1.2): a proxy forwards a stray 2xx
    /// statelessly, anything else is dropped.
    Stray {
        /// The response.
        response: SipMessage,
    },
}

#[derive(Debug)]
enum Tx<D> {
    InviteClient(ClientInvite<D>),
    NonInviteClient(ClientNonInvite<D>),
    InviteServer(ServerInvite<D>),
    NonInviteServer(ServerNonInvite<D>),
}

impl<D> Tx<D> {
    fn timers(&self) -> &TxTimers {
        match self {
            Tx::InviteClient(t) => &t.timers,
            Tx::NonInviteClient(t) => &t.timers,
            Tx::InviteServer(t) => &t.timers,
            Tx::NonInviteServer(t) => &t.timers,
        }
    }

    fn timers_mut(&mut self) -> &mut TxTimers {
        match self {
            Tx::InviteClient(t) => &mut t.timers,
            Tx::NonInviteClient(t) => &mut t.timers,
            Tx::InviteServer(t) => &mut t.timers,
            Tx::NonInviteServer(t) => &mut t.timers,
        }
    }

    fn state(&self) -> State {
        match self {
            Tx::InviteClient(t) => t.state,
            Tx::NonInviteClient(t) => t.state,
            Tx::InviteServer(t) => t.state,
            Tx::NonInviteServer(t) => t.state,
        }
    }

    fn request(&self) -> Option<&SipMessage> {
        match self {
            Tx::InviteClient(t) => t.request.as_deref(),
            Tx::NonInviteClient(t) => t.request.as_deref(),
            Tx::InviteServer(t) => t.request.as_deref(),
            Tx::NonInviteServer(t) => t.request.as_deref(),
        }
    }
}

#[derive(Debug)]
enum Key {
    Client(ClientKey),
    Server(ServerKey),
}

#[derive(Debug)]
struct Entry<D> {
    key: Key,
    tx: Tx<D>,
}

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
    txs: HashMap<TransactionId, Box<Entry<D>>>,
    server_keys: HashMap<ServerKey, TransactionId>,
    client_keys: HashMap<ClientKey, TransactionId>,
    queue: TimerQueue,
    transmits: VecDeque<Transmit<D>>,
    events: VecDeque<Event>,
}

/// The effect sink for transaction `$id` at `$now`, borrowing the layer's queues.
macro_rules! fx {
    ($self:ident, $id:expr, $now:expr) => {
        Fx {
            id: $id,
            now: $now,
            timers: &$self.config.timers,
            transmits: &mut $self.transmits,
            events: &mut $self.events,
            queue: &mut $self.queue,
        }
    };
}

impl<D: Clone> TransactionLayer<D> {
    /// An empty layer.
    pub fn new(config: Config) -> Self {
        TransactionLayer {
            config,
            next_id: 0,
            txs: HashMap::new(),
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
        if self.txs.len() >= self.config.max_transactions {
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
        self.server_keys.insert(key.clone(), id);
        self.txs.insert(
            id,
            Box::new(Entry {
                key: Key::Server(key),
                tx,
            }),
        );
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
        if self.client_keys.contains_key(&key) {
            return Err(Error::DuplicateBranch);
        }
        if self.txs.len() >= self.config.max_transactions {
            return Err(Error::Overloaded);
        }
        let bytes = request.wire();
        let id = self.allocate_id();
        let mut fx = fx!(self, id, now);
        let tx = if request.method() == Method::Invite {
            Tx::InviteClient(ClientInvite::start(
                request,
                bytes,
                dest,
                reliability,
                &mut fx,
            ))
        } else {
            Tx::NonInviteClient(ClientNonInvite::start(
                request,
                bytes,
                dest,
                reliability,
                &mut fx,
            ))
        };
        self.client_keys.insert(key.clone(), id);
        self.txs.insert(
            id,
            Box::new(Entry {
                key: Key::Client(key),
                tx,
            }),
        );
        Ok(id)
    }

    /// The transport failed to send for transaction `id` (RFC 3261 §17.1.4, §17.2.4): the
    /// transaction ends with [`Event::TransportError`] then [`Event::Terminated`].
    pub fn handle_transport_error(&mut self, _now: Duration, id: TransactionId) {
        if self.txs.contains_key(&id) {
            self.events.push_back(Event::TransportError { id });
            self.finish(id, Step::Terminate);
        }
    }

    /// The transport failed to send a request this layer sent, known by its top Via
    /// `branch` and its `method` (all a truncated copy may show: an ICMP error carries only
    /// the first few hundred bytes of the datagram). Ends that client transaction as
    /// [`TransactionLayer::handle_transport_error`] does (RFC 3261 §17.1.3 matching).
    /// Returns the transaction, or `None` when no live client transaction sent it (already
    /// ended, or not ours).
    pub fn handle_request_transport_error(
        &mut self,
        now: Duration,
        branch: &str,
        method: &str,
    ) -> Option<TransactionId> {
        let key = ClientKey::new(branch, method);
        let id = self.client_keys.get(&key).copied()?;
        self.handle_transport_error(now, id);
        Some(id)
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        while let Some((at, id, slot)) = self.queue.peek() {
            if at > now {
                break;
            }
            self.queue.pop();
            let Some(entry) = self.txs.get_mut(&id) else {
                continue;
            };
            if entry.tx.timers().get(slot) != Some(at) {
                continue;
            }
            entry.tx.timers_mut().disarm(slot);
            let mut fx = fx!(self, id, now);
            let step = match &mut entry.tx {
                Tx::InviteClient(t) => t.on_timer(slot, &mut fx),
                Tx::NonInviteClient(t) => t.on_timer(slot, &mut fx),
                Tx::InviteServer(t) => t.on_timer(slot, &mut fx),
                Tx::NonInviteServer(t) => t.on_timer(slot),
            };
            self.finish(id, step);
        }
    }

    /// When to call [`TransactionLayer::handle_timeout`] next (`None`: no timer armed).
    /// Takes `&mut self` to drop cancelled timers, so the deadline is never spurious.
    pub fn poll_timeout(&mut self) -> Option<Duration> {
        while let Some((at, id, slot)) = self.queue.peek() {
            let live = self
                .txs
                .get(&id)
                .is_some_and(|e| e.tx.timers().get(slot) == Some(at));
            if live {
                return Some(at);
            }
            self.queue.pop();
        }
        None
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

    fn allocate_id(&mut self) -> TransactionId {
        self.next_id += 1;
        TransactionId(self.next_id)
    }

    /// Removes a terminated transaction.
    fn finish(&mut self, id: TransactionId, step: Step) {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
