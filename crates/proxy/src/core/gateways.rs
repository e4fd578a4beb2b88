//! The `GatewayRouting` stage: a local user's call to a number that no local user or DID
//! owns goes to the PSTN gateways of the longest matching route (issue 14), each gateway a
//! serial group of its own so that `failover.rs` can move on to the next.
//!
//! A caller who has not authenticated as a local user never reaches a gateway (403: no
//! open relay to the PSTN). Gateways marked down by probes are skipped; when none is left
//! the caller gets 503 with Retry-After. Not here: failover (`failover.rs`), the route
//! table (`crate::pstn`).

use model::{is_number, AddressOfRecord, CallClass};
use sip_message::{Method, Uri};

use super::caller_id::caller_id_request;
use super::stage::{Flow, RequestCtx, Stage, Targets};
use super::Proxy;
use crate::answer::Answer;
use crate::destination::{Destination, Transport};
use crate::error::CallError;
use crate::fork::Target;
use crate::pstn::GatewayLeg;

/// Seconds a caller is asked to wait when every gateway of a route is down or failed.
pub(super) const GATEWAYS_RETRY_AFTER: u32 = 30;

impl Proxy {
    /// Routes calls to numbers with `table` (gateways and routes, refreshed by the
    /// server); a gateway that gives no answer within `timeout` is given up for the next.
    pub fn set_pstn(
        &mut self,
        table: std::sync::Arc<crate::pstn::PstnTable>,
        timeout: std::time::Duration,
    ) {
        self.pstn.table = table;
        self.pstn.timeout = timeout;
    }

    /// Every configured gateway's health at `now` (`switchboard gateway list`).
    pub fn gateway_health(&self, now: std::time::Duration) -> Vec<crate::pstn::GatewayHealth> {
        self.pstn.health(now)
    }
}

/// Calls to numbers -> the route's gateways.
pub(super) struct GatewayRouting;

impl Stage for GatewayRouting {
    fn name(&self) -> &'static str {
        "gateway-routing"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if cx.req.method() != Method::Invite || cx.req.to_tag().is_some() || !cx.for_us() {
            return Flow::Continue;
        }
        let Some(number) = Uri::parse(&cx.ruri)
            .ok()
            .and_then(|u| u.user)
            .filter(|u| is_number(u))
            .map(str::to_owned)
        else {
            return Flow::Continue;
        };
        let domain = if cx.local {
            cx.host.clone()
        } else {
            p.default_domain(Some(&cx.req))
        };
        // A DID or a user of ours: the local stages ring it.
        let aor = AddressOfRecord::new(&number, &domain);
        if p.directory.is_subscriber(&aor) || p.directory.resolve_alias(&aor).is_some() {
            return Flow::Continue;
        }
        // The domain's dial plan rewrites the number before routing.
        let dialled = number;
        let number = p.pstn.table.translate(&domain, &dialled);
        if number != dialled {
            tracing::debug!(dialled, number, "dial plan");
            let aor = AddressOfRecord::new(&number, &domain);
            if !is_number(&number)
                || p.directory.is_subscriber(&aor)
                || p.directory.resolve_alias(&aor).is_some()
            {
                return Flow::Continue;
            }
        }
        let Some(route) = p.pstn.table.lookup(&domain, &number) else {
            return Flow::Continue;
        };
        if !cx.authenticated() {
            tracing::warn!(
                call_id = cx.req.call_id(),
                source = %cx.source,
                number,
                "call to a gateway route refused: the caller is not a local user"
            );
            return Answer::new(403, "Relaying Denied").into();
        }
        // The caller's class allows the route (nothing is sent otherwise).
        let caller = cx.req.from().map(|f| {
            AddressOfRecord::new(
                f.uri.user.unwrap_or(""),
                &f.uri.host_unbracketed().to_ascii_lowercase(),
            )
        });
        let class = caller
            .as_ref()
            .and_then(|a| p.directory.class(a))
            .unwrap_or(CallClass::National);
        if class < route.class {
            tracing::warn!(
                call_id = cx.req.call_id(),
                number,
                caller_class = %class,
                route_class = %route.class,
                "call refused: the caller's class does not allow the route"
            );
            return Answer::new(403, class_refusal(route.class)).into();
        }
        // Caller ID: the caller's DID in From and P-Asserted-Identity (`caller_id.rs`).
        let trusted = p.pstn.table.is_trusted(cx.source.addr.ip());
        let did = caller.as_ref().and_then(|a| p.directory.caller_id(a));
        let did_domain = caller
            .as_ref()
            .map_or(domain.as_str(), |a| a.domain.as_str());
        if let Some(req) = caller_id_request(&cx.req, did.as_deref(), did_domain, trusted) {
            cx.req = req;
        }
        if p.pstn.legs.len() >= p.cfg.max_forks {
            return CallError::Overloaded.answer().into();
        }
        let mut names = Vec::with_capacity(route.gateways.len());
        let mut uris = Vec::with_capacity(route.gateways.len());
        let mut groups = Vec::with_capacity(route.gateways.len());
        for name in &route.gateways {
            let Some(gw) = p.pstn.table.gateway(name) else {
                continue;
            };
            if !p.pstn.table.is_up(name) {
                tracing::debug!(gateway = %name, "gateway down: skipped");
                continue;
            }
            let transport = match gw.transport {
                model::GatewayTransport::Udp => Transport::Udp,
                model::GatewayTransport::Tcp => Transport::Tcp,
                model::GatewayTransport::Tls => Transport::Tls,
            };
            let uri = format!(
                "sip:{}@{}{}",
                gw.translate(&number),
                gw.addr,
                transport.uri_param()
            );
            let target = Target {
                request_uri: Some(uri.clone()),
                dest: Destination {
                    transport,
                    addr: gw.addr,
                    conn: None,
                },
                routes: Vec::new(),
                q: 1000,
            };
            names.push(name.clone());
            uris.push(uri);
            groups.push(vec![target]);
        }
        if groups.is_empty() {
            tracing::warn!(
                call_id = cx.req.call_id(),
                number,
                prefix = route.prefix,
                "no gateway of the route is up"
            );
            return Answer::retry_after(503, "All Gateways Down", GATEWAYS_RETRY_AFTER).into();
        }
        tracing::debug!(number, prefix = route.prefix, gateways = ?names, "gateway route");
        p.pstn.legs.insert(
            cx.id,
            GatewayLeg {
                names,
                uris,
                number,
                ringing: false,
            },
        );
        Flow::Forward(Targets {
            groups,
            direct: None,
            service: None,
        })
    }
}

/// The reason phrase of a call refused for its class (it names the class needed).
fn class_refusal(needed: CallClass) -> &'static str {
    match needed {
        CallClass::Local => "Forbidden (class local required)",
        CallClass::National => "Forbidden (class national required)",
        CallClass::International => "Forbidden (class international required)",
        CallClass::Premium => "Forbidden (class premium required)",
    }
}
