//! The one asynchronous-query mechanism. A stage (request side, or response side when a
//! call is retargeted) that needs something only the server can fetch (a callee's
//! bindings from the shared database, the next hops of a name through DNS, the media
//! relay's SDP, storing a message) returns `Need(Query)`. The proxy parks
//! the request or the retarget in one bounded table, hands the query out through
//! [`Proxy::poll_query`], and resumes where it stopped when the server brings the answer
//! back through [`Proxy::handle_query`]: the stage that asked runs again, the answer now
//! in its context.
//!
//! Not here: running the query (the server does, off the core task) or deciding what to
//! ask (the stages).

use std::time::Duration;

use model::{AddressOfRecord, Binding};
use sip_transaction::TransactionId;

use super::stage::{FinalCtx, RequestCtx};
use super::Proxy;
use crate::error::CallError;

/// Most queries one request may wait for (a forwarding chain and a find-me list each
/// look up a few users and names); past it the call ends with 500.
pub(super) const MAX_QUERIES_PER_REQUEST: usize = 16;

/// Something the proxy needs the server to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Query {
    /// The live bindings of this user (shared-database mode: any node may hold them).
    Location(AddressOfRecord),
    /// The next hops of a SIP URI whose host is a name (RFC 3263: NAPTR, SRV, A/AAAA): a
    /// Request-URI, a forwarding or find-me target, a Route's URI (`resolved.rs`);
    /// answered with [`QueryAnswer::Targets`].
    Resolve(String),
    /// Store this MESSAGE for its offline recipient unless they have this many waiting
    /// (`messages.rs`), answered with [`QueryAnswer::Stored`] (or `Failed`).
    StoreMessage(Box<model::NewInstantMessage>, u32),
    /// An offer or answer to pass through the media relay (`relay.rs`), answered with
    /// [`QueryAnswer::Sdp`] or [`QueryAnswer::Refused`].
    Relay(Box<super::relay::RelayQuery>),
}

/// A query handed to the server: run it, then pass `token` and the answer to
/// [`Proxy::handle_query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingQuery {
    /// Hand this back with the answer.
    pub token: u64,
    /// What to look up.
    pub query: Query,
}

/// The server's answer to a [`Query`].
#[derive(Debug, Clone, PartialEq)]
pub enum QueryAnswer {
    /// The bindings found (expired ones are dropped by the proxy).
    Bindings(Vec<Binding>),
    /// The next hops of a [`Query::Resolve`], best first (each tried in turn when the
    /// one before fails: no answer, 503, a transport error). Empty: the name has none.
    Targets(Vec<crate::destination::Destination>),
    /// How a [`Query::StoreMessage`] went.
    Stored(crate::im::StoreOutcome),
    /// The lookup failed (store unreachable): the call ends with 500.
    Failed,
    /// The SDP the media relay gave back for a [`Query::Relay`].
    Sdp(String),
    /// The media relay refused a [`Query::Relay`]: the SIP status its error maps to (488,
    /// 503, 481) and why.
    Refused {
        /// The status to answer an offer with.
        status: u16,
        /// The relay's reason, for the log.
        reason: String,
    },
}

/// What waits for a query's answer.
pub(super) enum Parked {
    /// A new request, to resume at stage `stage` of the request route.
    Request {
        cx: Box<RequestCtx>,
        stage: usize,
        query: Query,
    },
    /// A call whose leg ended, to resume at stage `stage` of the response side.
    Final {
        cx: Box<FinalCtx>,
        stage: usize,
        query: Query,
    },
    /// A request about to be forwarded, waiting for the relay's offer (`relay.rs`).
    Forward {
        cx: Box<RequestCtx>,
        targets: super::stage::Targets,
        query: Query,
    },
    /// A response about to go upstream, waiting for the relay's answer (`relay.rs`).
    Response {
        fork_id: TransactionId,
        branch: usize,
        resp: Box<sip_message::SipMessage>,
        query: Query,
    },
    /// An ACK for a 2xx whose next hop is a name (`stateless.rs`).
    Ack {
        req: Box<sip_message::SipMessage>,
        source: crate::destination::Destination,
        query: Query,
    },
}

impl Parked {
    fn query(&self) -> &Query {
        match self {
            Parked::Request { query, .. }
            | Parked::Final { query, .. }
            | Parked::Forward { query, .. }
            | Parked::Response { query, .. }
            | Parked::Ack { query, .. } => query,
        }
    }
}

/// Why a lookup could not give bindings now.
pub(super) enum Missing {
    /// Ask the server.
    Need(Query),
    /// Asked, and it failed.
    Failed(CallError),
}

/// The bindings of `aor`: this node's location table, or (shared-database mode) the
/// answer of an earlier query in `found`.
pub(super) fn locate(
    proxy: &Proxy,
    aor: &AddressOfRecord,
    wall: u64,
    found: &[(AddressOfRecord, Option<Vec<Binding>>)],
) -> Result<Vec<Binding>, Missing> {
    if !proxy.cfg.shared_location {
        return Ok(proxy.registrar.location().lookup(aor, wall));
    }
    match found.iter().find(|(a, _)| a == aor) {
        Some((_, Some(b))) => Ok(b.clone()),
        Some((_, None)) => Err(Missing::Failed(CallError::LookupFailed)),
        None => Err(Missing::Need(Query::Location(aor.clone()))),
    }
}

impl Proxy {
    /// True when one more request or retarget may wait for a query (the table is
    /// bounded by `max_forks`); false counts an overload (the caller answers 503).
    pub(super) fn can_park(&mut self) -> bool {
        if self.parked.len() >= self.cfg.max_forks {
            self.stats.overloaded += 1;
            self.metrics.overloaded += 1;
            return false;
        }
        true
    }

    /// Parks `parked` until the server answers `query` (after [`Proxy::can_park`]).
    pub(super) fn park(&mut self, parked: Parked, query: Query) {
        let token = self.next_query;
        self.next_query += 1;
        self.parked.insert(token, parked);
        self.outbox.query(PendingQuery { token, query });
    }

    /// The server answered the query `token`: the parked request or retarget resumes.
    pub fn handle_query(&mut self, now: Duration, wall: u64, token: u64, answer: QueryAnswer) {
        // The parked call started (with its caller's identity) when it was parked.
        self.identity = None;
        let Some(parked) = self.parked.remove(&token) else {
            return;
        };
        if matches!(parked, Parked::Ack { .. }) {
            self.ack_resolved(parked, answer); // stateless.rs
            self.pump(now);
            return;
        }
        if matches!(parked, Parked::Forward { .. } | Parked::Response { .. }) {
            self.relay_resumed(now, wall, parked, answer); // relay.rs
            self.pump(now);
            return;
        }
        if matches!(parked.query(), Query::StoreMessage(..)) {
            self.resume_stored(now, wall, parked, answer);
            self.pump(now);
            return;
        }
        let (bindings, targets) = match answer {
            QueryAnswer::Bindings(b) => (
                Some(b.into_iter().filter(|b| b.expires_at > wall).collect()),
                None,
            ),
            QueryAnswer::Targets(t) => (None, Some(t)),
            QueryAnswer::Stored(_)
            | QueryAnswer::Failed
            | QueryAnswer::Sdp(_)
            | QueryAnswer::Refused { .. } => {
                tracing::warn!(query = ?parked.query(), "query failed");
                (None, None)
            }
        };
        match parked {
            Parked::Request {
                mut cx,
                stage,
                query: Query::Resolve(uri),
            } => {
                if self.layer.state(cx.id).is_some() {
                    cx.now = now;
                    cx.wall = wall;
                    cx.resolved.push((uri, targets));
                    self.run_request_route(*cx, stage);
                }
            }
            Parked::Final {
                mut cx,
                stage,
                query: Query::Resolve(uri),
            } => {
                // A forwarding or find-me target by name (`services.rs`).
                cx.now = now;
                cx.resolved.push((uri, targets));
                self.resume_final(*cx, stage);
            }
            Parked::Request {
                mut cx,
                stage,
                query: Query::Location(aor),
            } => {
                // The caller may have given up (CANCEL answered it) meanwhile.
                if self.layer.state(cx.id).is_some() {
                    cx.now = now;
                    cx.wall = wall;
                    cx.found.push((aor, bindings));
                    self.run_request_route(*cx, stage);
                }
            }
            Parked::Final {
                mut cx,
                stage,
                query: Query::Location(aor),
            } => {
                cx.now = now;
                cx.found.push((aor, bindings));
                self.resume_final(*cx, stage);
            }
            Parked::Request { cx, .. } => {
                tracing::error!("a request parked for a relay query");
                self.answer(&cx, crate::answer::Answer::new(500, "Bad Query"));
            }
            Parked::Final { cx, .. } => self.resume_final(*cx, usize::MAX),
            Parked::Forward { .. } | Parked::Response { .. } | Parked::Ack { .. } => {}
        }
        self.pump(now);
    }

    /// A parked MESSAGE was stored (or not): the stage that asked runs again.
    fn resume_stored(&mut self, now: Duration, wall: u64, parked: Parked, answer: QueryAnswer) {
        let outcome = match answer {
            QueryAnswer::Stored(o) => o,
            _ => {
                tracing::warn!("storing a message for an offline user failed");
                crate::im::StoreOutcome::Failed
            }
        };
        match parked {
            Parked::Request { mut cx, stage, .. } => {
                if self.layer.state(cx.id).is_some() {
                    cx.now = now;
                    cx.wall = wall;
                    cx.stored = Some(outcome);
                    self.run_request_route(*cx, stage);
                }
            }
            Parked::Final { mut cx, stage, .. } => {
                cx.now = now;
                cx.stored = Some(outcome);
                self.resume_final(*cx, stage);
            }
            Parked::Forward { .. } | Parked::Response { .. } | Parked::Ack { .. } => {}
        }
    }

    /// A CANCEL for a request still parked: forget it. Its transaction is returned for
    /// the 487.
    pub(super) fn unpark_request(&mut self, invite_tx: TransactionId) -> Option<Box<RequestCtx>> {
        let token = self.parked.iter().find_map(|(t, p)| match p {
            Parked::Request { cx, .. } | Parked::Forward { cx, .. } if cx.id == invite_tx => {
                Some(*t)
            }
            _ => None,
        })?;
        match self.parked.remove(&token) {
            Some(Parked::Request { cx, .. } | Parked::Forward { cx, .. }) => Some(cx),
            _ => None,
        }
    }
}
