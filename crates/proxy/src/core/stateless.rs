//! Stateless forwarding: ACKs for 2xx (RFC 3261 §16.11) and stray 2xx responses. An
//! ACK whose next hop is a name waits for DNS like a request (`query.rs`), then goes on.

use bytes::Bytes;
use sip_message::{Editor, HeaderName, NameAddr, SipMessage, Uri, Via};

use super::query::{Parked, Query, QueryAnswer};
use super::{fixed_top_via, strip_top_via, Proxy};
use crate::branch::{loop_hash, via_is_mine};
use crate::destination::{Destination, Transport};
use crate::route::{plan, uri_destination, uri_is_me, HopError, RoutePlan};

impl Proxy {
    /// Forwards an ACK for a 2xx (or any request outside a transaction) without state.
    /// A next hop by name (a Route or Request-URI whose host is a name) is resolved first
    /// (RFC 3263): the ACK waits as a `Query::Resolve` and goes to the first next hop.
    pub(super) fn forward_stateless(&mut self, req: &SipMessage, source: &Destination) {
        if req.max_forwards() == Some(0) {
            return;
        }
        let routes = plan(req, &self.cfg);
        match self.stateless_hop(req, &routes) {
            Some(Ok(dest)) => self.send_stateless(req, source, &routes, dest),
            Some(Err(name)) if self.can_park() => {
                let query = Query::Resolve(name);
                let parked = Parked::Ack {
                    req: Box::new(req.clone()),
                    source: *source,
                    query: query.clone(),
                };
                self.park(parked, query);
            }
            Some(Err(name)) => tracing::debug!(%name, "ACK dropped: too many queries waiting"),
            None => tracing::debug!("ACK with no next hop dropped"),
        }
    }

    /// A parked ACK's next hop was resolved: it goes to the first (an ACK has no answer
    /// to fail over on).
    pub(super) fn ack_resolved(&mut self, parked: Parked, answer: QueryAnswer) {
        let Parked::Ack { req, source, query } = parked else {
            return;
        };
        match answer {
            QueryAnswer::Targets(hops) if !hops.is_empty() => {
                let routes = plan(&req, &self.cfg);
                self.send_stateless(&req, &source, &routes, hops[0]);
            }
            _ => tracing::info!(?query, "ACK dropped: its next hop has no SIP server"),
        }
    }

    /// Where a stateless request goes: the next Route's URI or the Request-URI; Err: a
    /// name to resolve first; None: nowhere (dropped).
    fn stateless_hop(
        &self,
        req: &SipMessage,
        routes: &RoutePlan,
    ) -> Option<Result<Destination, String>> {
        let by_name = |uri: &Uri<'_>| match uri_destination(uri) {
            Ok(dest) => Some(Ok(dest)),
            Err(HopError::Unresolvable) if self.cfg.dns => Some(Err(uri.raw.to_string())),
            Err(_) => None,
        };
        if let Some(r) = routes.next_route {
            return NameAddr::parse(req.value(r))
                .ok()
                .and_then(|na| by_name(&na.uri));
        }
        let uri = routes
            .new_request_uri
            .clone()
            .unwrap_or_else(|| req.request_uri_str().to_string());
        let u = Uri::parse(&uri).ok().filter(|u| !uri_is_me(u, &self.cfg))?;
        if super::flows::is_made_up_host(&u) {
            // Bindings are not expired here (no wall clock): the phone's connection, if it
            // is still up, is where the ACK goes.
            return self.flow_of_contact(req, &uri, 0).map(Ok);
        }
        if super::flows::is_private_host(&u) {
            // A phone behind NAT: where it registered from.
            if let Some(d) = self.flow_of_contact(req, &uri, 0) {
                return Some(Ok(d));
            }
        }
        by_name(&u)
    }

    /// Sends `req` to `dest` without a transaction: the routes of `routes` that name us
    /// removed, Max-Forwards lowered, a stateless branch of ours on top.
    fn send_stateless(
        &mut self,
        req: &SipMessage,
        source: &Destination,
        routes: &RoutePlan,
        dest: Destination,
    ) {
        let mut ed = Editor::new(req);
        if let Some(u) = &routes.new_request_uri {
            ed.set_request_uri(format_args!("{u}"));
        }
        for &r in &routes.remove {
            ed.remove(r);
        }
        ed.set_max_forwards(req.max_forwards().map_or(70, |m| m.saturating_sub(1)));
        if let Some(v) = fixed_top_via(req, source, self.cfg.force_rport) {
            ed.replace_value(req.top_via_index(), format_args!("{v}"));
        }
        // Stateless branch: the same ACK always gets the same branch (RFC 3261 §16.11).
        let branch = format!(
            "z9hG4bKsa{:016x}",
            loop_hash(req) ^ u64::from(req.branch().map_or(0, |b| b.len() as u32))
        );
        let host = self.interfaces.host_for(&self.cfg, dest.addr.ip());
        ed.insert_before(
            req.top_via_index(),
            "Via",
            format_args!(
                "SIP/2.0/{} {}:{};branch={}",
                dest.transport.as_str(),
                host,
                self.cfg.port_for(dest.transport),
                branch
            ),
        );
        self.outbox.transmit(dest, Bytes::from(ed.to_vec()));
    }

    /// Sends a response upstream without a transaction: our Via off, to the next Via.
    pub(super) fn forward_response_stateless(&mut self, resp: &SipMessage) {
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
            self.outbox.transmit(dest, bytes);
        }
    }
}
