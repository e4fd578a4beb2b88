//! [`Proxy`]: the request pipeline and the fork manager, driving the transaction layer.
//!
//! The pipeline order is written once, in [`Proxy::on_new_request`]: sanity, loop
//! detection, route pre-processing (in-dialog and pre-loaded routes), local services
//! (OPTIONS, REGISTER), then the callee: alias -> subscriber -> location -> fork.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use model::AddressOfRecord;
use registrar::{Change, Registrar};
use sip_message::{
    build_cancel, error_response, Editor, HeaderName, Method, NameAddr, ResponseBuilder,
    SipMessage, Via,
};
use sip_transaction::{
    Config as TxConfig, Event, Reliability, RequestOutcome, ResponseOutcome, TransactionId,
    TransactionLayer,
};

use crate::auth::{Attempt, AuthOutcome, Authenticator};
use crate::branch::{is_loop, loop_hash, make_branch, via_is_mine};
use crate::config::{ProxyConfig, ProxyMode};
use crate::destination::{Destination, Transport};
use crate::directory::Directory;
use crate::fork::{Branch, BranchState, Fork, Target};
use crate::metrics::Metrics;
use crate::route::{plan, uri_destination, uri_is_me, HopError};
use crate::sanity;

/// A location lookup the server runs against the shared store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationQuery {
    /// Hand this back with the result.
    pub token: u64,
    /// Whose bindings.
    pub aor: AddressOfRecord,
}

/// A request waiting for a location lookup.
struct Parked {
    id: TransactionId,
    req: SipMessage,
    source: Destination,
    routes: crate::route::RoutePlan,
}

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

const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, INFO, UPDATE, PRACK, SUBSCRIBE, NOTIFY, REFER";

/// The stateful proxy. See the crate documentation.
pub struct Proxy {
    cfg: ProxyConfig,
    layer: TransactionLayer<Destination>,
    registrar: Registrar,
    directory: Arc<dyn Directory>,
    auth: Authenticator,
    metrics: Metrics,
    draining: bool,
    parked: HashMap<u64, Parked>,
    queries: VecDeque<LocationQuery>,
    next_query: u64,
    forks: HashMap<TransactionId, Fork>,
    client_to_fork: HashMap<TransactionId, (TransactionId, usize)>,
    out: VecDeque<(Destination, Bytes)>,
    changes: Vec<Change>,
    next_branch: u64,
    next_tag: u64,
    stats: ProxyStats,
}

fn reliability(d: &Destination) -> Reliability {
    if d.transport.is_reliable() {
        Reliability::Reliable
    } else {
        Reliability::Unreliable
    }
}

/// The received top Via with `received` and `rport` filled in (RFC 3261 §18.2.1,
/// RFC 3581), or None when it needs no change.
fn fixed_top_via(req: &SipMessage, source: &Destination) -> Option<String> {
    let via = req.top_via()?;
    let ip = source.addr.ip().to_string();
    let needs_received = via.host.trim_start_matches('[').trim_end_matches(']') != ip;
    let rport = via.rport();
    if !needs_received && rport != Some(None) {
        return None;
    }
    let raw = req.value(req.top_via_index());
    let mut out = String::with_capacity(raw.len() + 40);
    // Rewrite an empty `rport` in place; append `received`.
    let mut params_done = false;
    if rport == Some(None) {
        // Find the bare rport parameter and give it the source port.
        if let Some(pos) = find_bare_param(raw, "rport") {
            out.push_str(&raw[..pos + 5]);
            let _ = write!(out, "={}", source.addr.port());
            out.push_str(&raw[pos + 5..]);
            params_done = true;
        }
    }
    if !params_done {
        out.push_str(raw);
    }
    if (needs_received || rport.is_some()) && via.received().is_none() {
        let _ = write!(out, ";received={ip}");
    }
    Some(out)
}

/// Offset of a parameter `;name` with no value in a Via value.
fn find_bare_param(raw: &str, name: &str) -> Option<usize> {
    let lower = raw.to_ascii_lowercase();
    let mut from = 0;
    while let Some(p) = lower[from..].find(name) {
        let at = from + p;
        let before = lower[..at].trim_end();
        let after = &lower[at + name.len()..];
        if before.ends_with(';') && !after.trim_start().starts_with('=') {
            return Some(at);
        }
        from = at + name.len();
    }
    None
}

/// Where responses to a request go (RFC 3261 §18.2.2 with RFC 3581): over a stream, the
/// connection; over UDP, the source address when `rport` was asked for, else the source IP
/// with the Via port.
fn response_destination(req: &SipMessage, source: &Destination) -> Destination {
    if source.transport.is_reliable() {
        return *source;
    }
    match req.top_via() {
        Some(v) if v.rport().is_none() => {
            let mut d = *source;
            d.addr.set_port(v.port.unwrap_or(5060));
            d
        }
        _ => *source,
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
            auth,
            metrics: Metrics::default(),
            draining: false,
            parked: HashMap::new(),
            queries: VecDeque::new(),
            next_query: 1,
            cfg,
            layer: TransactionLayer::new(tx),
            registrar,
            directory,
            forks: HashMap::new(),
            client_to_fork: HashMap::new(),
            out: VecDeque::new(),
            changes: Vec::new(),
            next_branch: 1,
            next_tag: seed ^ 0x5b0a_2d00,
            stats: ProxyStats::default(),
        }
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
        self.forks.values().filter(|f| !f.final_sent).count()
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

    /// Binding changes to persist since the last call.
    pub fn drain_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<(Destination, Bytes)> {
        let t = self.out.pop_front()?;
        self.metrics.sent(&t.1);
        Some(t)
    }

    /// Prometheus text for the proxy's metrics and gauges.
    pub fn render_metrics(&self, out: &mut String) {
        let mut m = self.metrics.clone();
        m.auth_failures = self.auth.failures();
        m.render(out);
        let gauge = |out: &mut String, name: &str, help: &str, v: usize| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(
            out,
            "switchboard_transactions_active",
            "Live SIP transactions.",
            self.layer.len(),
        );
        gauge(
            out,
            "switchboard_calls_in_setup",
            "Proxied requests awaiting a final response.",
            self.forks(),
        );
        gauge(
            out,
            "switchboard_registered_contacts",
            "Bindings in the location table.",
            self.registrar.location().len(),
        );
    }

    /// When [`Proxy::handle_timeout`] is due next.
    pub fn poll_timeout(&mut self) -> Option<Duration> {
        let fork_deadline = self
            .forks
            .values()
            .filter(|f| !f.final_sent)
            .filter_map(|f| f.deadline)
            .min();
        match (self.layer.poll_timeout(), fork_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fires timers due at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.layer.handle_timeout(now);
        let due: Vec<TransactionId> = self
            .forks
            .iter()
            .filter(|(_, f)| !f.final_sent && !f.timed_out && f.deadline.is_some_and(|d| d <= now))
            .map(|(k, _)| *k)
            .collect();
        for id in due {
            self.no_answer(now, id);
        }
        self.pump(now);
    }

    /// One message from the network. `wall` is Unix time in seconds (binding expiry).
    pub fn handle_message(&mut self, now: Duration, wall: u64, data: Bytes, source: Destination) {
        match SipMessage::parse(data.clone()) {
            Ok(msg) if msg.is_request() => {
                self.stats.requests += 1;
                self.metrics.request_received(msg.method());
                self.on_request(now, wall, msg, source);
            }
            Ok(msg) => {
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
                    self.out.push_back((source, Bytes::from(resp)));
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
        format!("sb{:x}", self.next_tag >> 16)
    }

    /// Moves transaction-layer output and events along.
    fn pump(&mut self, now: Duration) {
        while let Some(t) = self.layer.poll_transmit() {
            self.out.push_back((t.dest, t.bytes));
        }
        while let Some(ev) = self.layer.poll_event() {
            match ev {
                Event::Timeout { id } | Event::TransportError { id } => {
                    if let Some((fork_id, b)) = self.client_to_fork.get(&id).copied() {
                        self.branch_final(now, fork_id, b, 408, None);
                    }
                }
                Event::Terminated { id } => {
                    self.client_to_fork.remove(&id);
                    if let Some(f) = self.forks.get(&id) {
                        // The server transaction ended: forget the fork once it has answered.
                        if f.final_sent || f.group_done() {
                            self.forks.remove(&id);
                        }
                    }
                }
            }
            while let Some(t) = self.layer.poll_transmit() {
                self.out.push_back((t.dest, t.bytes));
            }
        }
    }

    fn on_request(&mut self, now: Duration, wall: u64, msg: SipMessage, source: Destination) {
        let dest = response_destination(&msg, &source);
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
                self.reply(now, cancel_tx, &request, &source, status, None, "");
                if let Some(inv) = invite_tx {
                    self.cancel_fork(now, inv);
                }
            }
            RequestOutcome::Absorbed => {}
            RequestOutcome::Ack { ack, .. } => self.forward_stateless(&ack, &source),
            RequestOutcome::Overloaded { request } => {
                self.stats.overloaded += 1;
                self.metrics.overloaded += 1;
                let resp = ResponseBuilder::new(&request, 503)
                    .header("Retry-After", format_args!("5"))
                    .to_vec();
                self.out.push_back((dest, Bytes::from(resp)));
            }
            RequestOutcome::NotARequest { .. } => {}
        }
    }

    /// Answers on a server transaction.
    #[allow(clippy::too_many_arguments)]
    fn reply(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: &SipMessage,
        source: &Destination,
        status: u16,
        reason: Option<&str>,
        extra: &str,
    ) {
        let tag = if status > 100 {
            Some(self.new_tag())
        } else {
            None
        };
        let via = fixed_top_via(req, source);
        let mut b = ResponseBuilder::new(req, status);
        if let Some(r) = reason {
            b = b.reason(r);
        }
        if let Some(t) = &tag {
            b = b.to_tag(t);
        }
        if let Some(v) = &via {
            b = b.top_via(v);
        }
        let mut bytes = b
            .header("Server", format_args!("{}", self.cfg.server_name))
            .to_vec();
        if !extra.is_empty() {
            // Splice extra header lines before Content-Length (always the last line).
            if let Some(pos) = find_subslice(&bytes, b"Content-Length: ") {
                bytes.splice(pos..pos, extra.bytes());
            }
        }
        if let Err(e) = self.layer.respond(now, id, Bytes::from(bytes), status) {
            tracing::debug!(%id, ?e, status, "response refused by the transaction layer");
        }
    }

    /// The pipeline for a new request (not ACK, not CANCEL).
    fn on_new_request(
        &mut self,
        now: Duration,
        wall: u64,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
    ) {
        if self.draining {
            self.reply(
                now,
                id,
                &req,
                &source,
                503,
                Some("Shutting Down"),
                "Retry-After: 10\r\n",
            );
            return;
        }
        if let Err((status, reason, extra)) = sanity::check(&req) {
            self.reply(
                now,
                id,
                &req,
                &source,
                status,
                Some(reason),
                extra.as_deref().unwrap_or(""),
            );
            return;
        }
        if is_loop(&req, &self.cfg) {
            self.reply(now, id, &req, &source, 482, None, "");
            return;
        }
        let routes = plan(&req, &self.cfg);

        // A request with a route set left (in-dialog, or pre-loaded): follow it.
        if let Some(next) = routes.next_route {
            let target = NameAddr::parse(req.value(next))
                .ok()
                .map(|na| uri_destination(&na.uri));
            match target {
                Some(Ok(dest)) => {
                    let t = Target {
                        request_uri: routes.new_request_uri.clone(),
                        dest,
                        routes: vec![],
                        q: 1000,
                    };
                    self.start_fork(now, id, req, source, routes, vec![vec![t]]);
                }
                Some(Err(e)) => self.reply_hop_error(now, id, &req, &source, e),
                None => self.reply(now, id, &req, &source, 400, Some("Bad Route header"), ""),
            }
            return;
        }

        let ruri_text = routes
            .new_request_uri
            .clone()
            .unwrap_or_else(|| req.request_uri_str().to_string());
        let Ok(ruri) = sip_message::Uri::parse(&ruri_text) else {
            self.reply(now, id, &req, &source, 400, Some("Bad Request-URI"), "");
            return;
        };
        let is_me = uri_is_me(&ruri, &self.cfg);
        let host = ruri.host_unbracketed().to_ascii_lowercase();
        let local = self.directory.is_local_domain(&host);
        let method = req.method();

        if method == Method::Register && (local || is_me) {
            self.register(now, wall, id, &req, &source);
            return;
        }
        if ruri.user.is_none() && (is_me || local) {
            // Addressed to the server itself.
            if method == Method::Options {
                let extra =
                    format!("Allow: {ALLOW}\r\nAccept: application/sdp\r\nSupported: path\r\n");
                self.reply(now, id, &req, &source, 200, None, &extra);
            } else {
                self.reply(
                    now,
                    id,
                    &req,
                    &source,
                    404,
                    Some("No user in Request-URI"),
                    "",
                );
            }
            return;
        }
        // Authentication: callers who claim a local domain prove it (RFC 3261 §22.3).
        let mut routes = routes;
        let mut authenticated = false;
        if req.to_tag().is_none() {
            let from_domain = req.from().and_then(|f| self.local_domain_of(&f.uri, &req));
            if let Some(realm) = from_domain {
                match self.authenticate(&req, &realm, 407, &source, wall) {
                    Ok(index) => {
                        routes.remove.extend(index);
                        authenticated = true;
                    }
                    Err((status, reason, headers)) => {
                        self.reply(now, id, &req, &source, status, reason, &headers);
                        return;
                    }
                }
            }
        }
        if authenticated && !(local || is_me) {
            // A local user calling out: to the Request-URI's host.
            match uri_destination(&ruri) {
                Ok(dest) => {
                    let t = Target {
                        request_uri: None,
                        dest,
                        routes: vec![],
                        q: 1000,
                    };
                    self.start_fork(now, id, req, source, routes, vec![vec![t]]);
                }
                Err(e) => self.reply_hop_error(now, id, &req, &source, e),
            }
            return;
        }
        if local || is_me {
            let domain = if local {
                host
            } else {
                self.default_domain(&req)
            };
            let aor = AddressOfRecord::new(ruri.user.unwrap_or(""), &domain);
            self.route_to_callee(now, wall, id, req, source, routes, aor);
            return;
        }
        // Not ours. In-dialog requests (To tag) go to their Request-URI: the remote target.
        if req.to_tag().is_some() {
            match uri_destination(&ruri) {
                Ok(dest) => {
                    let t = Target {
                        request_uri: None,
                        dest,
                        routes: vec![],
                        q: 1000,
                    };
                    self.start_fork(now, id, req, source, routes, vec![vec![t]]);
                }
                Err(e) => self.reply_hop_error(now, id, &req, &source, e),
            }
            return;
        }
        self.reply(now, id, &req, &source, 403, Some("Relaying Denied"), "");
    }

    /// The domain a Request-URI naming our address (not a domain) belongs to: the To
    /// domain when it is local, else the first local domain we can find.
    /// The local domain a URI belongs to: its host when that is a local domain, the
    /// default domain when the host is this server's address, else None.
    fn local_domain_of(&self, uri: &sip_message::Uri<'_>, req: &SipMessage) -> Option<String> {
        let host = uri.host_unbracketed().to_ascii_lowercase();
        if self.directory.is_local_domain(&host) {
            Some(host)
        } else if uri.is_sip()
            && crate::route::host_port_is_me(
                uri.host,
                uri.port.or(Some(self.cfg.advertised_port)),
                &self.cfg,
            )
        {
            Some(self.default_domain(req))
        } else {
            None
        }
    }

    /// Runs the authentication stage for `realm`. Ok: the index of the credentials header
    /// to strip (None when authentication is off). Err: the answer to send.
    #[allow(clippy::type_complexity)]
    fn authenticate(
        &mut self,
        req: &SipMessage,
        realm: &str,
        status: u16,
        source: &Destination,
        wall: u64,
    ) -> Result<Option<usize>, (u16, Option<&'static str>, String)> {
        if !self.auth.enabled() {
            return Ok(None);
        }
        let dir = self.directory.clone();
        let cfg = &self.cfg;
        let me = |u: &sip_message::Uri<'_>| uri_is_me(u, cfg);
        let outcome = self.auth.check(
            req,
            Attempt {
                realm,
                status,
                source: source.addr.ip(),
                wall,
            },
            dir.as_ref(),
            &me,
        );
        match outcome {
            AuthOutcome::Authenticated(user, index) => {
                // Identity: From (and To for REGISTER) must be the authenticated user, or an
                // alias of theirs when allowed.
                let mut claimed = vec![req.from()];
                if req.method() == Method::Register {
                    claimed.push(req.to());
                }
                for na in claimed {
                    let Some(na) = na else {
                        return Err((403, Some("Identity Mismatch"), String::new()));
                    };
                    let domain = self.local_domain_of(&na.uri, req).unwrap_or_default();
                    let aor = AddressOfRecord::new(na.uri.user.unwrap_or(""), &domain);
                    let same = aor == user
                        || (self.auth.allow_alias_identity()
                            && dir.resolve_alias(&aor).as_ref() == Some(&user));
                    if !same {
                        return Err((403, Some("Identity Mismatch"), String::new()));
                    }
                }
                Ok(Some(index))
            }
            AuthOutcome::Challenge { status, headers } => {
                self.metrics.auth_challenges += 1;
                Err((status, None, headers))
            }
            AuthOutcome::Forbidden(reason) => {
                self.metrics.auth_refused += 1;
                Err((403, Some(reason), String::new()))
            }
        }
    }

    fn default_domain(&self, req: &SipMessage) -> String {
        req.to()
            .map(|t| t.uri.host_unbracketed().to_ascii_lowercase())
            .filter(|d| self.directory.is_local_domain(d))
            .or_else(|| self.directory.only_domain())
            .unwrap_or_else(|| self.cfg.advertised_host.clone())
    }

    fn reply_hop_error(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: &SipMessage,
        source: &Destination,
        e: HopError,
    ) {
        match e {
            HopError::Unsupported => self.reply(
                now,
                id,
                req,
                source,
                416,
                Some("Unsupported URI Scheme or Transport"),
                "",
            ),
            HopError::Unresolvable => self.reply(
                now,
                id,
                req,
                source,
                503,
                Some("DNS Resolution Not Supported"),
                "",
            ),
        }
    }

    fn register(
        &mut self,
        now: Duration,
        wall: u64,
        id: TransactionId,
        req: &SipMessage,
        source: &Destination,
    ) {
        if let Err((status, reason, extra)) = sanity::check_require_for_registrar(req) {
            self.reply(
                now,
                id,
                req,
                source,
                status,
                Some(reason),
                extra.as_deref().unwrap_or(""),
            );
            return;
        }
        let Some(to) = req.to() else {
            self.reply(now, id, req, source, 400, Some("Bad To header"), "");
            return;
        };
        if !to.uri.is_sip() || to.uri.user.is_none() {
            self.reply(
                now,
                id,
                req,
                source,
                400,
                Some("To must be a SIP URI with a user part"),
                "",
            );
            return;
        }
        let domain = to.uri.host_unbracketed().to_ascii_lowercase();
        let domain = if self.directory.is_local_domain(&domain) {
            domain
        } else if crate::route::host_port_is_me(to.uri.host, to.uri.port, &self.cfg) {
            self.default_domain(req)
        } else {
            self.reply(
                now,
                id,
                req,
                source,
                404,
                Some("Domain Not Served Here"),
                "",
            );
            return;
        };
        if let Err((status, reason, headers)) = self.authenticate(req, &domain, 401, source, wall) {
            self.reply(now, id, req, source, status, reason, &headers);
            return;
        }
        let aor = AddressOfRecord::new(to.uri.user.unwrap_or(""), &domain);
        let aor = self.directory.resolve_alias(&aor).unwrap_or(aor);
        if !self.directory.is_subscriber(&aor) {
            self.reply(now, id, req, source, 404, Some("Not Found"), "");
            return;
        }
        let outcome = self
            .registrar
            .handle(req, &aor, &source.to_source_string(), wall);
        if outcome.status == 200 {
            self.stats.registrations += 1;
        }
        if outcome.status == 503 {
            self.stats.overloaded += 1;
            self.metrics.overloaded += 1;
        }
        self.changes.extend(outcome.changes);
        self.reply(
            now,
            id,
            req,
            source,
            outcome.status,
            outcome.reason,
            &outcome.headers,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn route_to_callee(
        &mut self,
        now: Duration,
        wall: u64,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
        routes: crate::route::RoutePlan,
        aor: AddressOfRecord,
    ) {
        let aor = self.directory.resolve_alias(&aor).unwrap_or(aor);
        if !self.directory.is_subscriber(&aor) {
            self.reply(now, id, &req, &source, 404, Some("Not Found"), "");
            return;
        }
        if self.cfg.shared_location {
            // Several nodes share the database: it holds every node's registrations.
            if self.parked.len() >= self.cfg.max_forks {
                self.stats.overloaded += 1;
                self.metrics.overloaded += 1;
                self.reply(
                    now,
                    id,
                    &req,
                    &source,
                    503,
                    Some("Too Many Calls"),
                    "Retry-After: 5\r\n",
                );
                return;
            }
            let token = self.next_query;
            self.next_query += 1;
            self.parked.insert(
                token,
                Parked {
                    id,
                    req,
                    source,
                    routes,
                },
            );
            self.queries.push_back(LocationQuery { token, aor });
            return;
        }
        let bindings = self.registrar.location().lookup(&aor, wall);
        self.fork_to_bindings(now, id, req, source, routes, bindings);
    }

    /// The store answered a [`LocationQuery`]: route the parked request.
    pub fn handle_location(
        &mut self,
        now: Duration,
        wall: u64,
        token: u64,
        bindings: Vec<model::Binding>,
    ) {
        if let Some(p) = self.parked.remove(&token) {
            let live: Vec<model::Binding> = bindings
                .into_iter()
                .filter(|b| b.expires_at > wall)
                .collect();
            if self.layer.state(p.id).is_some() {
                self.fork_to_bindings(now, p.id, p.req, p.source, p.routes, live);
            }
        }
        self.pump(now);
    }

    /// The next location lookup the server must run against the store (shared mode).
    pub fn poll_location_query(&mut self) -> Option<LocationQuery> {
        self.queries.pop_front()
    }

    fn fork_to_bindings(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
        routes: crate::route::RoutePlan,
        mut bindings: Vec<model::Binding>,
    ) {
        bindings.sort_by(|a, b| b.q.cmp(&a.q).then(b.expires_at.cmp(&a.expires_at)));
        if bindings.is_empty() {
            self.reply(
                now,
                id,
                &req,
                &source,
                480,
                Some("Temporarily Unavailable"),
                "",
            );
            return;
        }
        if self.cfg.mode == ProxyMode::Redirect && req.method() == Method::Invite {
            let mut extra = String::new();
            for b in &bindings {
                let _ = write!(
                    extra,
                    "Contact: <{}>;q={}.{:03}\r\n",
                    b.contact,
                    b.q / 1000,
                    b.q % 1000
                );
            }
            self.reply(now, id, &req, &source, 302, None, &extra);
            return;
        }
        // Serial groups by q (best first); parallel within a group.
        let mut groups: Vec<Vec<Target>> = Vec::new();
        for b in bindings {
            let contact_dest = sip_message::Uri::parse(&b.contact)
                .ok()
                .map(|u| uri_destination(&u));
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
                request_uri: Some(b.contact.clone()),
                dest,
                routes: b.path.clone(),
                q: b.q,
            };
            match groups.last_mut() {
                Some(g) if g[0].q == t.q => g.push(t),
                _ => groups.push(vec![t]),
            }
        }
        if groups.is_empty() {
            self.reply(
                now,
                id,
                &req,
                &source,
                480,
                Some("Temporarily Unavailable"),
                "",
            );
            return;
        }
        self.start_fork(now, id, req, source, routes, groups);
    }

    fn start_fork(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
        routes: crate::route::RoutePlan,
        mut groups: Vec<Vec<Target>>,
    ) {
        let is_invite = req.method() == Method::Invite;
        if is_invite && self.forks.len() >= self.cfg.max_forks {
            self.stats.overloaded += 1;
            self.metrics.overloaded += 1;
            self.reply(
                now,
                id,
                &req,
                &source,
                503,
                Some("Too Many Calls"),
                "Retry-After: 5\r\n",
            );
            return;
        }
        if is_invite {
            self.reply(now, id, &req, &source, 100, None, "");
        }
        groups.reverse();
        let first = groups.pop().unwrap_or_default();
        let fork = Fork {
            server_tx: id,
            hash: loop_hash(&req),
            fixed_top_via: fixed_top_via(&req, &source),
            request: req,
            branches: Vec::new(),
            pending_groups: groups,
            best: None,
            best_synthetic: None,
            final_sent: false,
            cancelled: false,
            timed_out: false,
            started: now,
            deadline: if is_invite {
                Some(now + self.cfg.no_answer_timeout)
            } else {
                None
            },
            remove_routes: routes.remove,
            new_request_uri: routes.new_request_uri,
        };
        self.forks.insert(id, fork);
        self.start_group(now, id, first);
    }

    fn start_group(&mut self, now: Duration, fork_id: TransactionId, targets: Vec<Target>) {
        for t in targets {
            self.send_branch(now, fork_id, t);
        }
        self.check_complete(now, fork_id);
    }

    /// Builds and sends one branch (RFC 3261 §16.6).
    fn send_branch(&mut self, now: Duration, fork_id: TransactionId, t: Target) {
        let n = self.next_branch;
        self.next_branch += 1;
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        let req = &fork.request;
        let mut ed = Editor::new(req);
        if let Some(uri) = t.request_uri.as_deref().or(fork.new_request_uri.as_deref()) {
            ed.set_request_uri(format_args!("{uri}"));
        }
        for &r in &fork.remove_routes {
            ed.remove(r);
        }
        for r in t.routes.iter().rev() {
            ed.push_front(HeaderName::Route, format_args!("{r}"));
        }
        ed.set_max_forwards(req.max_forwards().map_or(70, |m| m.saturating_sub(1)));
        if let Some(v) = &fork.fixed_top_via {
            ed.replace_value(req.top_via_index(), format_args!("{v}"));
        }
        let branch = make_branch(fork.hash, n);
        ed.insert_before(
            req.top_via_index(),
            "Via",
            format_args!(
                "SIP/2.0/{} {}:{};branch={}",
                t.dest.transport.as_str(),
                self.cfg.advertised_host,
                self.cfg.advertised_port,
                branch
            ),
        );
        let creates_dialog = matches!(
            req.method(),
            Method::Invite | Method::Subscribe | Method::Refer
        );
        if self.cfg.record_route && creates_dialog && req.to_tag().is_none() {
            let transport = if t.dest.transport == Transport::Tcp {
                ";transport=tcp"
            } else {
                ""
            };
            ed.push_front(
                HeaderName::RecordRoute,
                format_args!(
                    "<sip:{}:{}{};lr>",
                    self.cfg.advertised_host, self.cfg.advertised_port, transport
                ),
            );
        }
        let bytes = Bytes::from(ed.to_vec());
        let parsed = SipMessage::parse(bytes);
        let idx = fork.branches.len();
        let mut branch_rec = Branch {
            tx: None,
            request: None,
            dest: t.dest,
            state: BranchState::Trying,
            cancel_pending: false,
        };
        match parsed {
            Ok(msg) => match self
                .layer
                .send_request(now, msg.clone(), t.dest, reliability(&t.dest))
            {
                Ok(tx) => {
                    branch_rec.tx = Some(tx);
                    branch_rec.request = Some(msg);
                    self.client_to_fork.insert(tx, (fork_id, idx));
                }
                Err(e) => {
                    tracing::warn!(?e, "could not start a client transaction");
                    branch_rec.state = BranchState::Done(503);
                    fork.consider(503, None);
                }
            },
            Err(e) => {
                tracing::warn!(%e, "forwarded request does not parse");
                branch_rec.state = BranchState::Done(500);
                fork.consider(500, None);
            }
        }
        fork.branches.push(branch_rec);
    }

    fn on_response(&mut self, now: Duration, msg: SipMessage) {
        match self.layer.handle_response(now, msg) {
            ResponseOutcome::Matched { id, response } => {
                if let Some((fork_id, b)) = self.client_to_fork.get(&id).copied() {
                    self.branch_response(now, fork_id, b, response);
                }
            }
            ResponseOutcome::Absorbed => {}
            ResponseOutcome::Stray { response } => {
                // A 2xx to an INVITE whose transaction is gone: forward it statelessly.
                if response.method() == Method::Invite && (200..300).contains(&response.status()) {
                    self.forward_response_stateless(&response);
                }
            }
        }
    }

    fn branch_response(
        &mut self,
        now: Duration,
        fork_id: TransactionId,
        b: usize,
        resp: SipMessage,
    ) {
        let status = resp.status();
        if status == 100 {
            return;
        }
        if status < 200 {
            let Some(fork) = self.forks.get_mut(&fork_id) else {
                return;
            };
            let branch = &mut fork.branches[b];
            if branch.state == BranchState::Trying {
                branch.state = BranchState::Proceeding;
            }
            if branch.cancel_pending {
                branch.cancel_pending = false;
                self.send_cancel(now, fork_id, b);
            }
            let fork = &self.forks[&fork_id];
            if !fork.final_sent && !fork.cancelled {
                if let Some(bytes) = strip_top_via(&resp) {
                    let _ = self.layer.respond(now, fork.server_tx, bytes, status);
                }
            }
            return;
        }
        self.branch_final(now, fork_id, b, status, Some(resp));
    }

    /// A branch ended with `status` (a response, or a synthetic 408).
    fn branch_final(
        &mut self,
        now: Duration,
        fork_id: TransactionId,
        b: usize,
        status: u16,
        resp: Option<SipMessage>,
    ) {
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        if matches!(fork.branches[b].state, BranchState::Done(_)) && status >= 300 {
            return;
        }
        fork.branches[b].state = BranchState::Done(status);
        if (200..300).contains(&status) {
            // Every 2xx goes upstream at once (RFC 3261 §16.7 step 5); other branches end.
            if let Some(r) = &resp {
                if let Some(bytes) = strip_top_via(r) {
                    let server_tx = fork.server_tx;
                    fork.final_sent = true;
                    let setup = now.saturating_sub(fork.started);
                    if fork.request.method() == Method::Invite {
                        self.metrics.call_setup(setup);
                    }
                    if fork.request.method() == Method::Invite {
                        self.stats.calls_answered += 1;
                    }
                    let _ = self.layer.respond(now, server_tx, bytes, status);
                }
            }
            self.cancel_branches(now, fork_id);
            return;
        }
        fork.consider(status, resp);
        if status >= 600 {
            fork.pending_groups.clear();
            self.cancel_branches(now, fork_id);
        }
        self.check_complete(now, fork_id);
    }

    /// When every branch of the group has answered: next serial group, or the best answer.
    fn check_complete(&mut self, now: Duration, fork_id: TransactionId) {
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        if fork.final_sent || !fork.group_done() {
            return;
        }
        let stop = fork.cancelled
            || fork.timed_out
            || fork.best.as_ref().is_some_and(|r| r.status() >= 600);
        if !stop {
            if let Some(next) = fork.pending_groups.pop() {
                self.start_group(now, fork_id, next);
                return;
            }
        }
        fork.final_sent = true;
        let setup = now.saturating_sub(fork.started);
        if fork.request.method() == Method::Invite {
            self.metrics.call_setup(setup);
        }
        let server_tx = fork.server_tx;
        let best_status = fork
            .best
            .as_ref()
            .map(|r| r.status())
            .or(fork.best_synthetic)
            .unwrap_or(408);
        // The caller did not cancel, but the proxy gave up: 408, not the 487 our CANCELs drew.
        if fork.timed_out && !fork.cancelled && (best_status == 487 || best_status == 408) {
            let req = fork.request.clone();
            let via = fork.fixed_top_via.clone();
            self.reply_on(now, server_tx, &req, via.as_deref(), 408, Some("No Answer"));
            return;
        }
        match fork.best.take() {
            Some(r) if r.status() != 503 => {
                if let Some(bytes) = strip_top_via(&r) {
                    let _ = self.layer.respond(now, server_tx, bytes, r.status());
                }
            }
            Some(_) => {
                // RFC 3261 §16.7 step 6: a 503 is not forwarded; 500 instead.
                let req = fork.request.clone();
                let via = fork.fixed_top_via.clone();
                self.reply_on(
                    now,
                    server_tx,
                    &req,
                    via.as_deref(),
                    500,
                    Some("Next Hop Unavailable"),
                );
            }
            None => {
                let req = fork.request.clone();
                let via = fork.fixed_top_via.clone();
                let status = if best_status == 503 { 500 } else { best_status };
                let reason = if status == 408 {
                    Some("Request Timeout")
                } else {
                    None
                };
                self.reply_on(now, server_tx, &req, via.as_deref(), status, reason);
            }
        }
    }

    fn reply_on(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: &SipMessage,
        via: Option<&str>,
        status: u16,
        reason: Option<&str>,
    ) {
        let tag = self.new_tag();
        let mut b = ResponseBuilder::new(req, status).to_tag(&tag);
        if let Some(r) = reason {
            b = b.reason(r);
        }
        if let Some(v) = via {
            b = b.top_via(v);
        }
        let bytes = b
            .header("Server", format_args!("{}", self.cfg.server_name))
            .to_vec();
        let _ = self.layer.respond(now, id, Bytes::from(bytes), status);
    }

    /// CANCEL every branch still ringing (after a 2xx or 6xx, a caller's CANCEL, or the
    /// no-answer timer).
    fn cancel_branches(&mut self, now: Duration, fork_id: TransactionId) {
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        if fork.request.method() != Method::Invite {
            return;
        }
        let mut to_cancel = Vec::new();
        for (i, b) in fork.branches.iter_mut().enumerate() {
            match b.state {
                BranchState::Proceeding => to_cancel.push(i),
                BranchState::Trying => b.cancel_pending = true,
                BranchState::Done(_) => {}
            }
        }
        for i in to_cancel {
            self.send_cancel(now, fork_id, i);
        }
    }

    fn send_cancel(&mut self, now: Duration, fork_id: TransactionId, b: usize) {
        let Some(fork) = self.forks.get(&fork_id) else {
            return;
        };
        let branch = &fork.branches[b];
        let Some(req) = &branch.request else { return };
        let mut buf = Vec::with_capacity(400);
        build_cancel(req, &mut buf);
        if let Ok(cancel) = SipMessage::parse(Bytes::from(buf)) {
            let dest = branch.dest;
            if let Err(e) = self
                .layer
                .send_request(now, cancel, dest, reliability(&dest))
            {
                tracing::debug!(?e, "CANCEL not sent");
            }
        }
    }

    fn cancel_fork(&mut self, now: Duration, invite_tx: TransactionId) {
        if let Some(token) = self
            .parked
            .iter()
            .find(|(_, p)| p.id == invite_tx)
            .map(|(t, _)| *t)
        {
            if let Some(p) = self.parked.remove(&token) {
                self.reply_on(
                    now,
                    invite_tx,
                    &p.req,
                    fixed_top_via(&p.req, &p.source).as_deref(),
                    487,
                    None,
                );
            }
            return;
        }
        let Some(fork) = self.forks.get_mut(&invite_tx) else {
            return;
        };
        if fork.final_sent {
            return;
        }
        fork.cancelled = true;
        fork.pending_groups.clear();
        let any_ringing = fork
            .branches
            .iter()
            .any(|b| b.state == BranchState::Proceeding);
        self.cancel_branches(now, invite_tx);
        if !any_ringing {
            // Nobody answered anything yet: end the caller's transaction now with 487.
            let Some(fork) = self.forks.get_mut(&invite_tx) else {
                return;
            };
            fork.final_sent = true;
            let setup = now.saturating_sub(fork.started);
            if fork.request.method() == Method::Invite {
                self.metrics.call_setup(setup);
            }
            let req = fork.request.clone();
            let via = fork.fixed_top_via.clone();
            self.reply_on(now, invite_tx, &req, via.as_deref(), 487, None);
        }
    }

    fn no_answer(&mut self, now: Duration, fork_id: TransactionId) {
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        fork.timed_out = true;
        fork.pending_groups.clear();
        // Branches that never answered count as timed out now (RFC 3261 §16.8).
        for b in fork.branches.iter_mut() {
            if b.state == BranchState::Trying {
                b.state = BranchState::Done(408);
                b.cancel_pending = false;
            }
        }
        fork.consider(408, None);
        self.cancel_branches(now, fork_id);
        self.check_complete(now, fork_id);
    }

    /// Forwards an ACK for a 2xx (or any request outside a transaction) without state.
    fn forward_stateless(&mut self, req: &SipMessage, source: &Destination) {
        if req.max_forwards() == Some(0) {
            return;
        }
        let routes = plan(req, &self.cfg);
        let dest = match routes.next_route {
            Some(r) => NameAddr::parse(req.value(r))
                .ok()
                .and_then(|na| uri_destination(&na.uri).ok()),
            None => {
                let uri = routes
                    .new_request_uri
                    .clone()
                    .unwrap_or_else(|| req.request_uri_str().to_string());
                sip_message::Uri::parse(&uri)
                    .ok()
                    .filter(|u| !uri_is_me(u, &self.cfg))
                    .and_then(|u| uri_destination(&u).ok())
            }
        };
        let Some(dest) = dest else {
            tracing::debug!("ACK with no next hop dropped");
            return;
        };
        let mut ed = Editor::new(req);
        if let Some(u) = &routes.new_request_uri {
            ed.set_request_uri(format_args!("{u}"));
        }
        for &r in &routes.remove {
            ed.remove(r);
        }
        ed.set_max_forwards(req.max_forwards().map_or(70, |m| m.saturating_sub(1)));
        if let Some(v) = fixed_top_via(req, source) {
            ed.replace_value(req.top_via_index(), format_args!("{v}"));
        }
        // Stateless branch: the same ACK always gets the same branch (RFC 3261 §16.11).
        let branch = format!(
            "z9hG4bKsa{:016x}",
            loop_hash(req) ^ u64::from(req.branch().map_or(0, |b| b.len() as u32))
        );
        ed.insert_before(
            req.top_via_index(),
            "Via",
            format_args!(
                "SIP/2.0/{} {}:{};branch={}",
                dest.transport.as_str(),
                self.cfg.advertised_host,
                self.cfg.advertised_port,
                branch
            ),
        );
        self.out.push_back((dest, Bytes::from(ed.to_vec())));
    }

    /// Sends a response upstream without a transaction: our Via off, to the next Via.
    fn forward_response_stateless(&mut self, resp: &SipMessage) {
        if !resp.top_via().is_some_and(|v| via_is_mine(&v, &self.cfg)) {
            return;
        }
        let Some((_, next)) = resp.header_values(HeaderName::Via).nth(1) else {
            return;
        };
        let Ok(via) = Via::parse(next) else { return };
        let host = via.received().unwrap_or(via.host);
        let port = match via.rport() {
            Some(Some(p)) => p.parse().ok(),
            _ => via.port,
        }
        .unwrap_or(5060);
        let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse() else {
            return;
        };
        let transport = Transport::parse(via.transport).unwrap_or(Transport::Udp);
        if let Some(bytes) = strip_top_via(resp) {
            let dest = Destination {
                transport,
                addr: std::net::SocketAddr::new(ip, port),
                conn: None,
            };
            self.out.push_back((dest, bytes));
        }
    }
}

/// The response minus its top Via (ours), printed.
fn strip_top_via(resp: &SipMessage) -> Option<Bytes> {
    let mut ed = Editor::new(resp);
    ed.remove(resp.top_via_index());
    if resp.via_count() < 2 {
        return None;
    }
    Some(Bytes::from(ed.to_vec()))
}

fn find_subslice(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rport_and_received() {
        let req = SipMessage::parse(Bytes::from_static(
            b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5062;rport;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n",
        ))
        .unwrap();
        let src = Destination {
            transport: Transport::Udp,
            addr: "192.0.2.7:40000".parse().unwrap(),
            conn: None,
        };
        assert_eq!(
            fixed_top_via(&req, &src).unwrap(),
            "SIP/2.0/UDP 10.0.0.1:5062;rport=40000;branch=z9hG4bK1;received=192.0.2.7"
        );
        assert_eq!(response_destination(&req, &src).addr, src.addr);
    }
}
