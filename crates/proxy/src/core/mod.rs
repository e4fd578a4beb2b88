//! [`Proxy`]: its state, its public face (messages and time in, bytes out), and the
//! transaction-layer plumbing. The order of the stages is in `request_route.rs` (the
//! contract of a stage in `stage.rs`), parked requests and their queries in `query.rs`,
//! the fork manager in `forking.rs`, stateless forwarding in `stateless.rs`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use registrar::Registrar;
use sip_message::{error_response, Editor, ResponseBuilder, SipMessage};
use sip_transaction::{
    Config as TxConfig, Event, Reliability, RequestOutcome, TransactionId, TransactionLayer,
};

use crate::answer::Answer;
use crate::auth::Authenticator;
use crate::config::ProxyConfig;
use crate::destination::Destination;
use crate::directory::Directory;
use crate::fork::Fork;
use crate::metrics::Metrics;

mod branch_request;
mod caller_id;
mod cancel;
mod click_to_dial;
mod conference;
mod dialog_event;
mod domains;
mod failover;
mod final_route;
mod flow_route;
mod flows;
mod forking;
mod gateways;
mod guard;
mod keepalive;
mod kept_subscriptions;
mod location;
mod media_services;
mod messages;
mod metrics_text;
mod mwi;
mod originate;
mod outbound;
mod output;
mod pickup;
mod pipeline;
mod probe;
mod publish;
mod query;
mod registration;
mod relay;
mod request_route;
mod resolved;
mod screening;
mod services;
mod stage;
mod stateless;
mod transport_error;
mod udp_fallback;
mod via;
mod voicemail;

pub use click_to_dial::ReferRefused;
pub use kept_subscriptions::{SubscriptionChange, RESTART_GAP};
pub use output::Output;
pub(crate) use probe::Prober;
pub use query::{PendingQuery, Query, QueryAnswer};
pub use relay::{RelayDelete, RelayOp, RelayQuery, MAX_RELAYED_CALLS};
use via::fixed_top_via;
use via::response_destination;

/// Counters for metrics and `switchboard status`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProxyStats {
    /// Requests received (parsed).
    pub requests: u64,
    /// Responses received (parsed).
    pub responses: u64,
    /// Messages that failed to parse.
    pub parse_errors: u64,
    /// Requests refused because a table was full.
    pub overloaded: u64,
    /// REGISTER requests answered 200.
    pub registrations: u64,
    /// Calls answered 2xx through the proxy.
    pub calls_answered: u64,
}

/// Prefix of the To tags this proxy generates, to recognise ACKs for its own answers.
pub(super) const TAG_PREFIX: &str = "swbd";

pub(super) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, INFO, UPDATE, PRACK, SUBSCRIBE, NOTIFY, REFER, PUBLISH";

/// The stateful proxy. See the crate documentation.
pub struct Proxy {
    cfg: ProxyConfig,
    layer: TransactionLayer<Destination>,
    registrar: Registrar,
    directory: Arc<dyn Directory>,
    auth: Authenticator,
    /// RFC 5626 §5.3 flow tokens, keyed at each start (`flow_route.rs`).
    flow_tokens: crate::flow_token::FlowTokens,
    metrics: Metrics,
    draining: bool,
    /// Requests and retargets waiting for a query's answer (bounded by `max_forks`).
    parked: sip_transaction::IdMap<u64, query::Parked>,
    next_query: u64,
    forks: sip_transaction::IdMap<TransactionId, Fork>,
    /// Forks that have not sent their final answer: the only ones with a live no-answer
    /// deadline. An answered fork stays in `forks` until its last branch ends (CANCELled
    /// branches answer 487 later), so `forks` is larger than this set; it is pruned lazily
    /// as forks answer.
    pending: sip_transaction::IdSet<TransactionId>,
    client_to_fork: sip_transaction::IdMap<TransactionId, (TransactionId, usize)>,
    /// Call-service state of forks whose callee has forwarding or find-me.
    calls: sip_transaction::IdMap<TransactionId, crate::services::CallState>,
    /// Calls up (for the dialog gauge and call durations).
    dialogs: crate::dialogs::Dialogs,
    /// Everything for the server to do, in order (`output.rs`).
    outbox: output::Outbox,
    next_branch: u64,
    next_tag: u64,
    stats: ProxyStats,
    /// Which of our addresses each peer reaches (Via, Record-Route).
    interfaces: crate::interfaces::Interfaces,
    /// Every ban in force (flood and authentication): `guard.rs`.
    bans: crate::bans::BanTable,
    flood: crate::flood::FloodLimiter,
    banned_dropped: u64,
    banned_answered: u64,
    /// `now` of the message being handled (failure windows and bans in the auth stage).
    clock: Duration,
    /// Requests the proxy originated, awaiting their answers (`originate.rs`).
    originated: originate::Originated,
    /// Final answers to click-to-dial REFERs, by token, for the server
    /// (`click_to_dial.rs`).
    refer_answers: std::collections::VecDeque<(u64, u16)>,
    /// Message-waiting subscriptions and mailbox counts (`mwi.rs`).
    mwi: crate::services::mwi::Subscriptions,
    /// The user the request being handled authenticated as (for its call's events).
    identity: Option<model::AddressOfRecord>,
    /// Calls in set-up and the call events for the server.
    events: crate::events::CallEvents,
    /// PSTN gateways, routes, gateway calls in progress and gateway counters.
    pstn: crate::pstn::Pstn,
    /// Calls sent to the conference bridge, for RFC 3911 `Join` (`conference.rs`).
    bridge_calls: crate::services::conference::BridgeCalls,
    /// Dialog-event subscriptions (`dialog_event.rs`).
    watchers: crate::presence::watchers::Watchers,
    /// Calls followed for their dialog state (`dialog_event.rs`).
    followed: crate::presence::calls::FollowedCalls,
    /// Presence publications, one per device (`publish.rs`).
    publications: crate::presence::publications::Publications,
    /// Deliveries of stored instant messages (`messages.rs`).
    ims: crate::im::Deliveries,
    /// Unix time of the message being handled (seconds).
    wall_now: u64,
    /// Calls whose media goes through the relay (`relay.rs`).
    relayed: relay::RelayedCalls,
    /// Pinholes of phones behind NAT kept open by pings (`keepalive.rs`).
    keepalives: keepalive::KeepAlives,
}

pub(super) fn reliability(d: &Destination) -> Reliability {
    if d.transport.is_reliable() {
        Reliability::Reliable
    } else {
        Reliability::Unreliable
    }
}

impl Proxy {
    /// A proxy with its registrar and directory.
    pub fn new(
        cfg: ProxyConfig,
        tx: TxConfig,
        registrar: Registrar,
        directory: Arc<dyn Directory>,
    ) -> Self {
        let mut seed_bytes = [0u8; 8];
        seed_bytes.copy_from_slice(&cfg.secret[8..16]);
        let seed = u64::from_le_bytes(seed_bytes);
        let auth = Authenticator::new(cfg.auth.clone(), cfg.secret);
        Proxy {
            interfaces: crate::interfaces::Interfaces::new(&cfg),
            bans: crate::bans::BanTable::new(cfg.max_bans),
            flood: crate::flood::FloodLimiter::new(cfg.flood.clone()),
            banned_dropped: 0,
            banned_answered: 0,
            clock: Duration::ZERO,
            originated: originate::Originated::new(),
            refer_answers: std::collections::VecDeque::new(),
            mwi: crate::services::mwi::Subscriptions::new(cfg.services.voicemail.max_subscriptions),
            identity: None,
            events: crate::events::CallEvents::default(),
            pstn: crate::pstn::Pstn::default(),
            bridge_calls: Default::default(),
            watchers: crate::presence::watchers::Watchers::new(
                cfg.services.presence.max_subscriptions,
                cfg.services.presence.max_per_user,
            ),
            followed: crate::presence::calls::FollowedCalls::new(cfg.services.presence.max_calls),
            publications: crate::presence::publications::Publications::new(
                cfg.services.presence.max_publications,
                cfg.services.presence.max_publications_per_user,
            ),
            // Several nodes sharing the store may each store a user's messages: then
            // every new binding asks the store.
            ims: crate::im::Deliveries {
                complete: !cfg.shared_location,
                ..Default::default()
            },
            wall_now: 0,
            auth,
            flow_tokens: crate::flow_token::FlowTokens::new(&cfg.secret, &per_start_salt()),
            metrics: Metrics::default(),
            draining: false,
            parked: Default::default(),
            next_query: 1,
            cfg,
            layer: TransactionLayer::new(tx),
            registrar,
            directory,
            forks: Default::default(),
            pending: Default::default(),
            client_to_fork: Default::default(),
            calls: Default::default(),
            dialogs: crate::dialogs::Dialogs::new(crate::dialogs::MAX_DIALOGS),
            outbox: output::Outbox::default(),
            next_branch: 1,
            next_tag: seed ^ 0x5b0a_2d00,
            stats: ProxyStats::default(),
            relayed: relay::RelayedCalls::default(),
            keepalives: keepalive::KeepAlives::default(),
        }
    }

    /// Lets the proxy ask the operating system which local address reaches a peer, so a
    /// server on a wildcard address puts the right one in Via and Record-Route. Without a
    /// probe, the first configured local address of the peer's family is used.
    pub fn set_route_probe(&mut self, probe: crate::interfaces::RouteProbe) {
        self.interfaces.set_probe(probe);
    }

    /// Counters.
    pub fn stats(&self) -> ProxyStats {
        self.stats
    }

    /// Live transactions.
    pub fn transactions(&self) -> usize {
        self.layer.len()
    }

    /// Calls being set up.
    pub fn forks(&self) -> usize {
        let forks = &self.forks;
        self.pending
            .iter()
            .filter(|id| forks.get(id).is_some_and(|f| !f.final_sent))
            .count()
    }

    /// Graceful shutdown: new requests get 503 with Retry-After; transactions and calls in
    /// progress finish.
    pub fn set_draining(&mut self, draining: bool) {
        self.draining = draining;
    }

    /// The registrar (and through it the location table).
    pub fn registrar(&self) -> &Registrar {
        &self.registrar
    }

    /// Calls answered through the proxy and not yet ended by a BYE.
    pub fn dialogs_active(&mut self, now: Duration) -> usize {
        self.dialogs.len(now)
    }

    /// When [`Proxy::handle_timeout`] is due next.
    pub fn poll_timeout(&mut self) -> Option<Duration> {
        self.prune_pending();
        let forks = &self.forks;
        let fork_deadline = self
            .pending
            .iter()
            .filter_map(|id| forks.get(id).and_then(|f| f.deadline))
            .min();
        // Gateway probes (`probe.rs`), while any gateway is configured.
        let fork_deadline = match (fork_deadline, self.pstn.probes_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // Keep-alives to phones behind NAT (`keepalive.rs`).
        let fork_deadline = match (fork_deadline, self.keepalives.next_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // Publications and subscriptions ending (`publish.rs`).
        let fork_deadline = match (fork_deadline, self.presence_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (self.layer.poll_timeout(), fork_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Drops answered (or forgotten) forks from the pending set.
    fn prune_pending(&mut self) {
        let forks = &self.forks;
        self.pending
            .retain(|id| forks.get(id).is_some_and(|f| !f.final_sent));
    }

    /// Fires timers due at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.bans.expire(now);
        self.dialogs.expire(now);
        self.layer.handle_timeout(now);
        self.prune_pending();
        let forks = &self.forks;
        let due: Vec<TransactionId> = self
            .pending
            .iter()
            .filter(|id| {
                forks
                    .get(id)
                    .is_some_and(|f| !f.timed_out && f.deadline.is_some_and(|d| d <= now))
            })
            .copied()
            .collect();
        for id in due {
            self.no_answer(now, id);
        }
        if self.pstn.probes_due().is_some_and(|d| d <= now) {
            self.run_probes(now);
        }
        if self.keepalives.next_due().is_some_and(|d| d <= now) {
            self.run_keepalives(now); // keepalive.rs
        }
        self.presence_timers(now); // publish.rs
        self.pump(now);
    }

    /// One message from the network. `wall` is Unix time in seconds (binding expiry).
    pub fn handle_message(&mut self, now: Duration, wall: u64, data: Bytes, source: Destination) {
        self.clock = now;
        self.wall_now = wall;
        self.identity = None;
        if !self.admit(now, &data, &source) {
            return;
        }
        match SipMessage::parse(data.clone()) {
            Ok(msg) if msg.is_request() => {
                // Every log line about this message carries its call (structured logs).
                let _call = tracing::debug_span!(
                    "sip",
                    call_id = msg.call_id(),
                    method = msg.method_str(),
                    from = %source.addr
                )
                .entered();
                self.stats.requests += 1;
                self.metrics.request_received(msg.method());
                self.on_request(now, wall, msg, source);
            }
            Ok(msg) => {
                let _call = tracing::debug_span!(
                    "sip",
                    call_id = msg.call_id(),
                    status = msg.status(),
                    from = %source.addr
                )
                .entered();
                self.stats.responses += 1;
                self.metrics.response_received(msg.status());
                self.on_response(now, msg);
            }
            Err(e) => {
                self.stats.parse_errors += 1;
                self.metrics.parse_errors += 1;
                tracing::debug!(%source.addr, error = %e, "unparsable message");
                if e.is_silent() {
                    return;
                }
                let tag = self.new_tag();
                if let Some(resp) = error_response(&data, e.status(), &e.to_string(), Some(&tag)) {
                    self.outbox.transmit(source, Bytes::from(resp));
                }
            }
        }
        self.pump(now);
    }

    fn new_tag(&mut self) -> String {
        self.next_tag = self
            .next_tag
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        format!("{TAG_PREFIX}{:x}", self.next_tag >> 16)
    }

    /// Moves transaction-layer output and events along.
    fn pump(&mut self, now: Duration) {
        for (call, call_id, lasted, by) in self.dialogs.take_gone() {
            self.events
                .ended(now, call, &call_id, lasted, by, &mut self.metrics);
        }
        for (call, end) in self.events.take_finished() {
            self.dialog_finished(now, call, end); // dialog_event.rs
            self.relay_finished(call); // relay.rs
        }
        while let Some(t) = self.layer.poll_transmit() {
            self.outbox.transmit(t.dest, t.bytes);
        }
        while let Some(ev) = self.layer.poll_event() {
            match ev {
                Event::Timeout { id } | Event::TransportError { id }
                    if self.probe_lost(id) || self.keepalive_lost(id) => {}
                Event::Timeout { id } => {
                    if let Some((fork_id, b)) = self.client_to_fork.get(&id).copied() {
                        self.branch_final(now, fork_id, b, 408, None);
                    } else {
                        self.originated_final(now, id, 408); // originate.rs
                    }
                }
                // RFC 3261 §16.9: a transport error is a 503 for that branch.
                Event::TransportError { id } => {
                    if let Some((fork_id, b)) = self.client_to_fork.get(&id).copied() {
                        // A request on TCP only for its size goes again over UDP.
                        if !self.retry_over_udp(now, fork_id, b) {
                            // RFC 5626 §5.3: a flow whose connection is gone (outbound.rs).
                            let status = if self.flow_failed(fork_id, b) {
                                430
                            } else {
                                503
                            };
                            self.branch_final(now, fork_id, b, status, None);
                        }
                    } else {
                        self.originated_final(now, id, 503); // originate.rs
                    }
                }
                Event::Terminated { id } => {
                    self.client_to_fork.remove(&id);
                    self.originated.remove(&id); // originate.rs
                    if let Some(f) = self.forks.get(&id) {
                        // The server transaction ended: forget the fork once it has answered.
                        if f.final_sent || f.group_done() {
                            self.forks.remove(&id);
                            self.calls.remove(&id);
                        }
                    }
                }
            }
            while let Some(t) = self.layer.poll_transmit() {
                self.outbox.transmit(t.dest, t.bytes);
            }
        }
        self.stage_events();
    }

    fn on_request(&mut self, now: Duration, wall: u64, msg: SipMessage, source: Destination) {
        let dest = response_destination(&msg, &source, self.cfg.force_rport);
        match self
            .layer
            .handle_request(now, msg, reliability(&source), dest)
        {
            RequestOutcome::New { id, request } => {
                self.on_new_request(now, wall, id, request, source)
            }
            RequestOutcome::Cancel {
                cancel_tx,
                invite_tx,
                request,
            } => {
                let status = if invite_tx.is_some() { 200 } else { 481 };
                self.reply(now, cancel_tx, &request, &source, Answer::status(status));
                if let Some(inv) = invite_tx {
                    self.cancel_fork(now, inv);
                }
            }
            RequestOutcome::Absorbed => {}
            // The ACK of an answer we generated (a stateless 407) ends here.
            RequestOutcome::Ack { ack, .. }
                if ack.to_tag().is_some_and(|t| t.starts_with(TAG_PREFIX)) => {}
            RequestOutcome::Ack { ack, .. } => self.forward_stateless(&ack, &source),
            RequestOutcome::Overloaded { request } => {
                self.stats.overloaded += 1;
                self.metrics.overloaded += 1;
                let resp = ResponseBuilder::new(&request, 503)
                    .header("Retry-After", format_args!("5"))
                    .to_vec();
                self.outbox.transmit(dest, Bytes::from(resp));
            }
            RequestOutcome::NotARequest { .. } => {}
        }
    }

    /// Answers on a server transaction.
    fn reply(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: &SipMessage,
        source: &Destination,
        answer: Answer,
    ) {
        let status = answer.status;
        let tag = if status > 100 {
            Some(self.new_tag())
        } else {
            None
        };
        self.events.result(
            now,
            id.get(),
            req,
            status,
            answer.reason,
            Some(source),
            self.identity.as_ref(),
            &mut self.metrics,
        );
        let via = fixed_top_via(req, source, self.cfg.force_rport);
        let mut b = ResponseBuilder::new(req, status);
        if let Some(r) = answer.reason {
            b = b.reason(r);
        }
        if let Some(t) = &tag {
            b = b.to_tag(t);
        }
        if let Some(v) = &via {
            b = b.top_via(v);
        }
        b = b.header("Server", format_args!("{}", self.cfg.server_name));
        for (name, value) in &answer.headers {
            b = b.header(name, format_args!("{value}"));
        }
        let bytes = b.to_vec();
        // Challenges are sent statelessly (like Kamailio's `sl`): a retransmitted request
        // just gets a fresh challenge, and no transaction waits 32 s (Timer J/H) for it.
        let sent = if matches!(status, 401 | 407) {
            self.layer.respond_stateless(id, Bytes::from(bytes), status)
        } else {
            // A final answer stays in its transaction for Timer J (32 s): keep it in a
            // buffer of its size, not in the builder's (a REGISTER's 200 with its Contact
            // lines outgrows 512 bytes and lands in a 1024-byte one).
            let bytes = if status >= 200 && bytes.capacity() > bytes.len() + 64 {
                Bytes::copy_from_slice(&bytes)
            } else {
                Bytes::from(bytes)
            };
            self.layer.respond(now, id, bytes, status)
        };
        if let Err(e) = sent {
            tracing::debug!(%id, ?e, status, "response refused by the transaction layer");
        }
    }
}

/// The response minus its top Via (ours), printed.
pub(super) fn strip_top_via(resp: &SipMessage) -> Option<Bytes> {
    let mut ed = Editor::new(resp);
    ed.remove(resp.top_via_index());
    if resp.via_count() < 2 {
        return None;
    }
    Some(Bytes::from(ed.to_vec()))
}

/// 16 bytes that differ at each start (std's per-process hash keys): what keeps a flow
/// token from outliving the connections of the process that issued it, even when the
/// nonce key is configured (and so the same across restarts).
fn per_start_salt() -> [u8; 16] {
    use std::hash::{BuildHasher, Hasher};
    let mut salt = [0u8; 16];
    for (i, chunk) in salt.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    salt
}
