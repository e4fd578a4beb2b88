//! The stage pipeline for a new request, written once in [`Proxy::on_new_request`]:
//! draining, sanity, loop detection, route pre-processing, requests to the server itself,
//! REGISTER, authentication, then the callee (alias -> subscriber -> location -> fork).

use std::fmt::Write as _;
use std::time::Duration;

use model::AddressOfRecord;
use sip_message::{Method, NameAddr, SipMessage};
use sip_transaction::TransactionId;

use super::{LocationQuery, Parked, Proxy, ALLOW};
use crate::auth::{Attempt, AuthOutcome};
use crate::branch::is_loop;
use crate::config::ProxyMode;
use crate::destination::Destination;
use crate::fork::Target;
use crate::route::{plan, uri_destination, uri_is_me, HopError};
use crate::sanity;

/// Who sent an out-of-dialog request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// A user of a local domain, authenticated (or authentication is off).
    Local,
    /// Anyone else: only local targets are reachable.
    Foreign,
}

impl Proxy {
    /// The pipeline for a new request (not ACK, not CANCEL).
    pub(super) fn on_new_request(
        &mut self,
        now: Duration,
        wall: u64,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
    ) {
        if req.method() == Method::Bye {
            if let (Some(from), Some(to)) = (req.from_tag(), req.to_tag()) {
                if let crate::dialogs::Ended::Bye {
                    lasted,
                    by_caller,
                    call,
                } = self.dialogs.bye(now, req.call_id(), from, to)
                {
                    let by = if by_caller {
                        crate::oplog::Hangup::Caller
                    } else {
                        crate::oplog::Hangup::Callee
                    };
                    let (events, metrics) = (&mut self.events, &mut self.metrics);
                    events.ended(now, call, req.call_id(), lasted, by, metrics);
                }
            }
        }
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
        let mut routes = plan(&req, &self.cfg);

        // A request with a route set left (in-dialog, or pre-loaded): follow it. A
        // pre-loaded route (out of dialog) only for a local caller who proves it: anyone
        // else could relay through us to any host (issue 12: never an open relay).
        if let Some(next) = routes.next_route {
            // In a dialog we record-routed, our own Route comes first; a "dialog" that
            // does not route through us is treated as what it is, a pre-loaded route.
            if req.to_tag().is_none() || routes.remove.is_empty() {
                match self.caller_identity(now, wall, id, &req, &source, &mut routes) {
                    None => return,
                    Some(Caller::Local) => {}
                    Some(Caller::Foreign) => {
                        self.reply(now, id, &req, &source, 403, Some("Relaying Denied"), "");
                        return;
                    }
                }
            }
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
        let authenticated = if req.to_tag().is_none() {
            match self.caller_identity(now, wall, id, &req, &source, &mut routes) {
                None => return,
                Some(caller) => caller == Caller::Local,
            }
        } else {
            false
        };
        // The call starts here: its caller is known and it is being routed (a stranger's
        // call to elsewhere is refused below, and starts with its refusal).
        if authenticated || local || is_me {
            let identity = self.identity.as_ref();
            self.events
                .started(now, id.get(), &req, identity, &source, true);
        }
        if authenticated && self.screened_outgoing(now, id, &req, &source, &ruri_text) {
            return;
        }
        if authenticated && !(local || is_me) {
            // A local user calling out: to the Request-URI's host.
            self.forward_to_uri(now, id, req, source, routes, &ruri);
            return;
        }
        if local || is_me {
            let domain = if local {
                host
            } else {
                self.default_domain(Some(&req))
            };
            let aor = AddressOfRecord::new(ruri.user.unwrap_or(""), &domain);
            self.route_to_callee(now, wall, id, req, source, routes, aor, authenticated);
            return;
        }
        // Not ours. In-dialog requests (To tag) go to their Request-URI: the remote target.
        if req.to_tag().is_some() {
            self.forward_to_uri(now, id, req, source, routes, &ruri);
            return;
        }
        self.reply(now, id, &req, &source, 403, Some("Relaying Denied"), "");
    }

    /// The authentication stage for an out-of-dialog request: a caller whose From names a
    /// local domain must prove it (407); anyone else is a foreign caller. None: the request
    /// was answered (challenge, refusal).
    fn caller_identity(
        &mut self,
        now: Duration,
        wall: u64,
        id: TransactionId,
        req: &SipMessage,
        source: &Destination,
        routes: &mut crate::route::RoutePlan,
    ) -> Option<Caller> {
        let from_domain = req
            .from()
            .and_then(|f| self.local_domain_of(&f.uri, Some(req)));
        let Some(realm) = from_domain else {
            return Some(Caller::Foreign);
        };
        match self.authenticate(req, &realm, 407, source, wall) {
            Ok(index) => {
                routes.remove.extend(index);
                Some(Caller::Local)
            }
            Err((status, reason, headers)) => {
                self.reply(now, id, req, source, status, reason, &headers);
                None
            }
        }
    }

    /// Forwards to the host of `uri` (its Request-URI unchanged): outgoing calls of local
    /// users, and in-dialog requests addressed to a remote target.
    fn forward_to_uri(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
        routes: crate::route::RoutePlan,
        uri: &sip_message::Uri<'_>,
    ) {
        match uri_destination(uri) {
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
    }

    /// Runs the authentication stage for `realm`. Ok: the index of the credentials header
    /// to strip (None when authentication is off). Err: the answer to send.
    #[allow(clippy::type_complexity)]
    pub(super) fn authenticate(
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
                now: self.clock,
            },
            dir.as_ref(),
            &me,
            &mut self.bans,
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
                        crate::oplog::auth_failure(
                            &user.to_string(),
                            source.addr.ip(),
                            crate::oplog::AuthFailure::IdentityMismatch,
                        );
                        return Err((403, Some("Identity Mismatch"), String::new()));
                    };
                    let domain = self.local_domain_of(&na.uri, Some(req)).unwrap_or_default();
                    let aor = AddressOfRecord::new(na.uri.user.unwrap_or(""), &domain);
                    let same = aor == user
                        || (self.auth.allow_alias_identity()
                            && dir.resolve_alias(&aor).as_ref() == Some(&user));
                    if !same {
                        crate::oplog::auth_failure(
                            &user.to_string(),
                            source.addr.ip(),
                            crate::oplog::AuthFailure::IdentityMismatch,
                        );
                        return Err((403, Some("Identity Mismatch"), String::new()));
                    }
                }
                self.identity = Some(user);
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

    pub(super) fn reply_hop_error(
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

    #[allow(clippy::too_many_arguments)]
    pub(super) fn route_to_callee(
        &mut self,
        now: Duration,
        wall: u64,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
        routes: crate::route::RoutePlan,
        aor: AddressOfRecord,
        authenticated: bool,
    ) {
        let aor = self.directory.resolve_alias(&aor).unwrap_or(aor);
        let exists = self.directory.is_subscriber(&aor);
        if !exists && authenticated {
            self.reply(now, id, &req, &source, 404, Some("Not Found"), "");
            return;
        }
        // A caller who has not authenticated must not learn which names exist (issue 12):
        // an absent user takes the same path as a user with no phone online (the location
        // lookup, which finds nothing) and gets the same 480, in the same time.
        // Call services: incoming screening, then forwarding and find-me.
        if exists && self.screened_incoming(now, id, &req, &source, &aor) {
            return;
        }
        if exists && self.has_call_services(&req, &aor) {
            self.serve_call(now, wall, id, req, source, routes, aor);
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
        // The parked call started (with its caller's identity) when it was parked.
        self.identity = None;
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

    pub(super) fn fork_to_bindings(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
        routes: crate::route::RoutePlan,
        bindings: Vec<model::Binding>,
    ) {
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
        let groups = crate::services::forwarding::contact_groups(bindings);
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
}
