//! The first stages of the request route (see `request_route.rs` for their order):
//! accounting of a BYE, draining, sanity, loop detection, route pre-processing, the
//! Request-URI, requests to the server itself, the caller's identity, and requests that
//! are not for our users. The authentication step itself (`authenticate`) is here too:
//! the registrar stage uses it with 401.

use sip_message::{Method, NameAddr, SipMessage};

use super::query::Missing;
use super::stage::{Caller, Flow, RequestCtx, Stage, Targets};
use super::{Proxy, ALLOW};
use crate::answer::Answer;
use crate::auth::{Attempt, AuthOutcome};
use crate::branch::is_loop;
use crate::destination::Destination;
use crate::fork::Target;
use crate::route::{plan, uri_destination, uri_is_me, HopError};
use crate::sanity;

/// A BYE ends a call's accounting (duration metric, `call ended` line). Never decides.
pub(super) struct ByeAccounting;

impl Stage for ByeAccounting {
    fn name(&self) -> &'static str {
        "bye-accounting"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        let req = &cx.req;
        if req.method() == Method::Bye {
            if let (Some(from), Some(to)) = (req.from_tag(), req.to_tag()) {
                if let crate::dialogs::Ended::Bye {
                    lasted,
                    by_caller,
                    call,
                } = p.dialogs.bye(cx.now, req.call_id(), from, to)
                {
                    let by = if by_caller {
                        crate::oplog::Hangup::Caller
                    } else {
                        crate::oplog::Hangup::Callee
                    };
                    let (events, metrics) = (&mut p.events, &mut p.metrics);
                    events.ended(cx.now, call, req.call_id(), lasted, by, metrics);
                }
            }
        }
        Flow::Continue
    }
}

/// Graceful shutdown: new requests get 503 with Retry-After.
pub(super) struct Draining;

impl Stage for Draining {
    fn name(&self) -> &'static str {
        "draining"
    }

    fn on_request(&self, p: &mut Proxy, _: &mut RequestCtx) -> Flow {
        if p.draining {
            return Answer::retry_after(503, "Shutting Down", 10).into();
        }
        Flow::Continue
    }
}

/// RFC 3261 §16.3 request validation (`crate::sanity`).
pub(super) struct Sanity;

impl Stage for Sanity {
    fn name(&self) -> &'static str {
        "sanity"
    }

    fn on_request(&self, _: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        match sanity::check(&cx.req) {
            Ok(()) => Flow::Continue,
            Err(refusal) => refusal.into(),
        }
    }
}

/// RFC 3261 §16.3 step 4: a request that already went through us with the same branch
/// hash is looping (482).
pub(super) struct LoopDetection;

impl Stage for LoopDetection {
    fn name(&self) -> &'static str {
        "loop-detection"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if is_loop(&cx.req, &p.cfg) {
            return Answer::status(482).into();
        }
        Flow::Continue
    }
}

/// RFC 3261 §16.4 route pre-processing; a request with a route set left follows it. A
/// pre-loaded route (out of dialog) only for a local caller who proves it: anyone else
/// could relay through us to any host (issue 12: never an open relay).
pub(super) struct LooseRoute;

impl Stage for LooseRoute {
    fn name(&self) -> &'static str {
        "loose-route"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        cx.routes = plan(&cx.req, &p.cfg);
        // RFC 5626 §5.3: tokens written into our Record-Route (flow_route.rs).
        cx.routes.caller_flow = p.came_over_flow(cx);
        if let Some(flow) = p.follow_flow_token(cx) {
            return flow;
        }
        let Some(next) = cx.routes.next_route else {
            return Flow::Continue;
        };
        let Ok(route) = NameAddr::parse(cx.req.value(next)) else {
            return Answer::new(400, "Bad Route header").into();
        };
        let (hop, route_uri) = (uri_destination(&route.uri), route.uri.raw.to_string());
        // A Route by name whose DNS answer is here: the caller was checked before asking.
        let answered = cx.resolved.iter().any(|(u, _)| *u == route_uri);
        // In a dialog we record-routed, our own Route comes first; a "dialog" that does
        // not route through us is treated as what it is, a pre-loaded route.
        if !answered && (cx.req.to_tag().is_none() || cx.routes.remove.is_empty()) {
            match p.caller_identity(cx) {
                Err(answer) => return answer.into(),
                Ok(Caller::Local) => {}
                Ok(Caller::Foreign) => return Answer::new(403, "Relaying Denied").into(),
            }
        }
        let request_uri = cx.routes.new_request_uri.clone();
        match hop {
            Ok(dest) => Flow::Forward(Targets::one(Target {
                request_uri,
                dest,
                routes: vec![],
                q: 1000,
            })),
            // A next hop by name (`sip:edge.example.net;lr`): RFC 3263 on the Route's URI.
            Err(HopError::Unresolvable) if p.cfg.dns => {
                match super::resolved::next_hops(&route_uri, &cx.resolved) {
                    Ok(hops) => Flow::Forward(Targets {
                        groups: super::resolved::serial_groups(request_uri.as_deref(), hops),
                        direct: None,
                        service: None,
                    }),
                    Err(Missing::Need(query)) => Flow::Need(query),
                    Err(Missing::Failed(e)) => e.answer().into(),
                }
            }
            Err(e) => e.into(),
        }
    }
}

/// The Request-URI after route pre-processing: does it name a local domain or us?
pub(super) struct RequestUri;

impl Stage for RequestUri {
    fn name(&self) -> &'static str {
        "request-uri"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        cx.ruri = cx
            .routes
            .new_request_uri
            .clone()
            .unwrap_or_else(|| cx.req.request_uri_str().to_string());
        let Ok(ruri) = sip_message::Uri::parse(&cx.ruri) else {
            return Answer::new(400, "Bad Request-URI").into();
        };
        // `user` is a slice of `cx.ruri` (the parser copies nothing): keep where it is,
        // checked, so later stages need not parse again.
        let base = cx.ruri.as_ptr() as usize;
        let user_range = ruri.user.and_then(|u| {
            let start = (u.as_ptr() as usize).checked_sub(base)?;
            let range = start..start + u.len();
            (cx.ruri.get(range.clone()) == Some(u)).then_some(range)
        });
        cx.is_me = uri_is_me(&ruri, &p.cfg);
        cx.host = ruri.host_unbracketed().to_ascii_lowercase();
        cx.local = p.directory.is_local_domain(&cx.host);
        cx.ruri_user = user_range;
        Flow::Continue
    }
}

/// Requests addressed to the server itself (no user part): OPTIONS is answered 200
/// (keep-alive pings), anything else 404.
pub(super) struct ToServer;

impl Stage for ToServer {
    fn name(&self) -> &'static str {
        "to-server"
    }

    fn on_request(&self, _: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if !(cx.ruri_user.is_none() && cx.for_us()) {
            return Flow::Continue;
        }
        if cx.req.method() == Method::Options {
            Answer::status(200)
                .with("Allow", ALLOW)
                .with("Accept", "application/sdp")
                .with("Supported", "path")
                .into()
        } else {
            Answer::new(404, "No user in Request-URI").into()
        }
    }
}

/// Authentication of out-of-dialog requests: callers who claim a local domain prove it
/// (RFC 3261 §22.3, 407) and are who they claim (403).
pub(super) struct Identity;

impl Stage for Identity {
    fn name(&self) -> &'static str {
        "identity"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if cx.req.to_tag().is_some() {
            return Flow::Continue;
        }
        // A trusted peer (`switchboard trusted`, `crate::pstn`) is not challenged.
        if p.pstn.table.is_trusted(cx.source.addr.ip()) {
            cx.caller = super::stage::Caller::Local;
            return Flow::Continue;
        }
        match p.caller_identity(cx) {
            Ok(caller) => {
                cx.caller = caller;
                // The call starts here: its caller is known and it is being routed (a
                // stranger's call to elsewhere is refused next, and starts with its refusal).
                if cx.authenticated() || cx.for_us() {
                    let call = cx.id.get();
                    p.events
                        .started(cx.now, call, &cx.req, p.identity.as_ref(), &cx.source, true);
                }
                Flow::Continue
            }
            Err(answer) => answer.into(),
        }
    }
}

/// Requests not for our users: a local caller's outgoing call, or an in-dialog request
/// addressed to a remote target, goes to the Request-URI's host; anything else is
/// refused (no relay).
pub(super) struct NotLocal;

impl Stage for NotLocal {
    fn name(&self) -> &'static str {
        "not-local"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if cx.for_us() {
            return Flow::Continue;
        }
        if !cx.authenticated() && cx.req.to_tag().is_none() {
            return Answer::new(403, "Relaying Denied").into();
        }
        let Ok(uri) = sip_message::Uri::parse(&cx.ruri) else {
            return Answer::new(400, "Bad Request-URI").into();
        };
        if super::flows::is_made_up_host(&uri) {
            // A WebSocket phone: reachable only over the connection it registered from.
            return match p.flow_of_contact(&cx.req, &cx.ruri, cx.wall) {
                Some(dest) => Flow::Forward(Targets::one(Target {
                    request_uri: None,
                    dest,
                    routes: vec![],
                    q: 1000,
                })),
                None => {
                    tracing::info!(uri = %cx.ruri, "no connection to this WebSocket contact");
                    Answer::new(480, "Temporarily Unavailable").into()
                }
            };
        }
        if super::flows::is_private_host(&uri) {
            // A phone behind NAT: where its registration came from, when it has one.
            if let Some(dest) = p.flow_of_contact(&cx.req, &cx.ruri, cx.wall) {
                return Flow::Forward(Targets::one(Target {
                    request_uri: None,
                    dest,
                    routes: vec![],
                    q: 1000,
                }));
            }
        }
        match uri_destination(&uri) {
            Ok(dest) => Flow::Forward(Targets::one(Target {
                request_uri: None,
                dest,
                routes: vec![],
                q: 1000,
            })),
            Err(HopError::Unresolvable) if p.cfg.dns => resolved_targets(cx),
            Err(e) => e.into(),
        }
    }
}

/// The next hops DNS gave for the Request-URI (RFC 3263), tried one after the other (a
/// serial group each: a 503, a timeout or a transport error moves on to the next); or
/// the query to ask when it has not been asked yet.
fn resolved_targets(cx: &mut RequestCtx) -> Flow {
    match super::resolved::next_hops(&cx.ruri, &cx.resolved) {
        Ok(hops) => Flow::Forward(Targets {
            groups: super::resolved::serial_groups(None, hops),
            direct: None,
            service: None,
        }),
        Err(Missing::Need(query)) => Flow::Need(query),
        Err(Missing::Failed(e)) => e.answer().into(),
    }
}

impl From<HopError> for Flow {
    fn from(e: HopError) -> Flow {
        Flow::Reply(e.answer())
    }
}

impl From<sanity::Refusal> for Flow {
    fn from((status, reason, header): sanity::Refusal) -> Flow {
        let mut a = Answer::new(status, reason);
        if let Some(h) = header {
            a.headers.push(h);
        }
        Flow::Reply(a)
    }
}

impl Proxy {
    /// 403 for a user whose account an admin disabled (a log line says why).
    fn refuse_disabled(
        &self,
        user: &model::AddressOfRecord,
        source: &Destination,
    ) -> Result<(), Answer> {
        match self.directory.disabled(user) {
            None => Ok(()),
            Some(why) => {
                crate::oplog::auth_failure(
                    &user.to_string(),
                    source.addr.ip(),
                    crate::oplog::AuthFailure::Disabled,
                );
                tracing::debug!(%user, reason = %why, "request of a disabled account refused");
                Err(Answer::new(403, "Account Disabled"))
            }
        }
    }

    /// Who sent an out-of-dialog request: a caller whose From names a local domain must
    /// prove it (407); anyone else is a foreign caller. Err: the answer to send
    /// (challenge, refusal).
    pub(super) fn caller_identity(&mut self, cx: &mut RequestCtx) -> Result<Caller, Answer> {
        let from_domain = cx
            .req
            .from()
            .and_then(|f| self.local_domain_of(&f.uri, Some(&cx.req)));
        let Some(realm) = from_domain else {
            return Ok(Caller::Foreign);
        };
        let index = self.authenticate(&cx.req, &realm, 407, &cx.source, cx.wall)?;
        cx.routes.remove.extend(index);
        Ok(Caller::Local)
    }

    /// Runs the authentication step for `realm`. Ok: the index of the credentials header
    /// to strip (None when authentication is off). Err: the answer to send.
    pub(super) fn authenticate(
        &mut self,
        req: &SipMessage,
        realm: &str,
        status: u16,
        source: &Destination,
        wall: u64,
    ) -> Result<Option<usize>, Answer> {
        if !self.auth.enabled() {
            // Nobody proves who they are: a disabled user is known by the From they send.
            let from = req.from().and_then(|f| {
                let domain = self.local_domain_of(&f.uri, Some(req))?;
                Some(model::AddressOfRecord::new(f.uri.user?, &domain))
            });
            if let Some(user) = from {
                self.refuse_disabled(&user, source)?;
            }
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
                    let same = na.is_some_and(|na| {
                        let domain = self.local_domain_of(&na.uri, Some(req)).unwrap_or_default();
                        let aor = model::AddressOfRecord::new(na.uri.user.unwrap_or(""), &domain);
                        aor == user
                            || (self.auth.allow_alias_identity()
                                && dir.resolve_alias(&aor).as_ref() == Some(&user))
                    });
                    if !same {
                        crate::oplog::auth_failure(
                            &user.to_string(),
                            source.addr.ip(),
                            crate::oplog::AuthFailure::IdentityMismatch,
                        );
                        return Err(Answer::new(403, "Identity Mismatch"));
                    }
                }
                self.refuse_disabled(&user, source)?;
                self.identity = Some(user);
                Ok(Some(index))
            }
            AuthOutcome::Challenge { status, headers } => {
                self.metrics.auth_challenges += 1;
                Err(Answer::status(status).with_all(headers))
            }
            AuthOutcome::Forbidden(reason) => {
                self.metrics.auth_refused += 1;
                Err(Answer::new(403, reason))
            }
        }
    }
}
