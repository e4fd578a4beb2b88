//! The request route: the order of the stages, written once, and the engine that runs
//! them. Read it like Kamailio's `request_route`: each line is one decision, and the first
//! stage that decides (answer, forward, or wait for a query) ends the walk.
//!
//! A new feature that decides where a request goes (gateways and dial plans, media
//! services, presence) is a new stage file with a unit struct implementing
//! [`Stage`], and one line below at the point of the route where it belongs.
//!
//! Not here: what each stage does (its own file), forking (`forking.rs`), queries
//! (`query.rs`).

use std::time::Duration;

use sip_message::SipMessage;
use sip_transaction::TransactionId;

use super::conference::Conference;
use super::dialog_event::DialogEvents;
use super::gateways::GatewayRouting;
use super::location::{LocalRouting, Location};
use super::media_services::MediaServices;
use super::messages::OfflineMessages;
use super::pickup::Pickup;
use super::pipeline::{
    ByeAccounting, Draining, Identity, LoopDetection, LooseRoute, NotLocal, RequestUri, Sanity,
    ToServer,
};
use super::publish::Publish;
use super::query::{Parked, Query, MAX_QUERIES_PER_REQUEST};
use super::registration::Registrar;
use super::screening::{IncomingScreening, OutgoingScreening};
use super::services::CallServices;
use super::stage::{Flow, RequestCtx, Stage, Targets};
use super::voicemail::Voicemail;
use super::Proxy;
use crate::answer::Answer;
use crate::destination::Destination;
use crate::error::CallError;

/// Every new request (not ACK, not CANCEL) walks these stages in this order.
pub(super) const REQUEST_ROUTE: &[&dyn Stage] = &[
    // Bookkeeping that never decides: a BYE ends a call's accounting.
    &ByeAccounting,
    // Graceful shutdown: 503 with Retry-After.
    &Draining,
    // RFC 3261 §16.3: Request-URI scheme (416), Max-Forwards (483), Proxy-Require (420).
    &Sanity,
    // One of our Vias with this request's branch hash (482).
    &LoopDetection,
    // RFC 3261 §16.4: strict-router recovery, our Route removed; a Route set left is
    // followed (in-dialog, or a local caller's pre-loaded route; a stranger gets 403).
    &LooseRoute,
    // The Request-URI after route pre-processing: ours (local domain, this server)?
    &RequestUri,
    // REGISTER to a local domain: 401, registrar, 200 with the bindings.
    &Registrar,
    // Requests to the server itself: OPTIONS 200 (keep-alives), anything else 404.
    &ToServer,
    // A caller claiming a local domain proves it (407) and is who they claim (403).
    &Identity,
    // RFC 5359 §2.14: a local caller's outgoing rules (403 + Error-Info).
    &OutgoingScreening,
    // Not ours: a local caller's outgoing call or an in-dialog request goes to its
    // Request-URI's host; anyone else is refused (no relay).
    &NotLocal,
    // Voicemail: its internal URIs refused from outside, `*98` / `*99` retrieval, and
    // message-waiting SUBSCRIBEs answered by the server (RFC 3842).
    &Voicemail,
    // Conference rooms by name (`conf-ROOM`) or number, and `Join`s to the bridge's
    // calls: the bridge on the service host (RFC 5359 §2.10, §2.11).
    &Conference,
    // Media services by name or number (music on hold, announcements): to the service
    // host, for any caller.
    &MediaServices,
    // Presence: PUBLISH of a user's own presence to the server (RFC 3903, PIDF), 400 for
    // a malformed document, 415, 423, 412, 489.
    &Publish,
    // Presence: `Event: dialog` and `presence` SUBSCRIBEs answered by the server (RFC 4235,
    // RFC 3856), other packages 489.
    &DialogEvents,
    // RFC 5359 §2.16 call pickup: an INVITE with Replaces for a ringing call, or `*8<ext>`,
    // goes to that call's caller; its ringing branches are CANCELled once answered.
    &Pickup,
    // A local user's call to a number no user or DID owns: the route's PSTN gateways,
    // with failover (403 for anyone else: no open relay).
    &GatewayRouting,
    // Alias or DID -> user (404 for an authenticated caller).
    &LocalRouting,
    // RFC 5359 §2.13: the callee's incoming rules (403 + Error-Info).
    &IncomingScreening,
    // Forwarding (always, busy, no answer, unavailable) and find-me.
    &CallServices,
    // RFC 3428: a local user's MESSAGE to a user with no phone online is stored (202) and
    // delivered at the next REGISTER.
    &OfflineMessages,
    // The callee's phones: 480 when none, 302 in redirect mode, else the fork.
    &Location,
];

impl Proxy {
    /// A new request (not ACK, not CANCEL): the request route from its first stage.
    pub(super) fn on_new_request(
        &mut self,
        now: Duration,
        wall: u64,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
    ) {
        self.run_request_route(RequestCtx::new(now, wall, id, req, source), 0);
    }

    /// Runs the request route from stage `from` (0, or the stage a parked request waited
    /// in) and carries out the decision.
    pub(super) fn run_request_route(&mut self, mut cx: RequestCtx, from: usize) {
        for (i, stage) in REQUEST_ROUTE.iter().enumerate().skip(from) {
            match stage.on_request(self, &mut cx) {
                Flow::Continue => {}
                Flow::Reply(answer) => {
                    // `[announcements] early_media`: the failure after an announcement.
                    if let Some(t) = self.early_media_target(&cx, answer.status) {
                        self.forward(cx, Targets::one(t));
                        return;
                    }
                    tracing::trace!(stage = stage.name(), status = answer.status, "answered");
                    self.answer(&cx, answer);
                    return;
                }
                Flow::Forward(targets) => {
                    self.forward(cx, targets);
                    return;
                }
                Flow::Need(query) => {
                    self.wait_for(cx, i, query);
                    return;
                }
                Flow::Answered => return,
            }
        }
        // The last stage always decides; reaching here is a bug, not a caller's fault.
        tracing::error!("request route ended without a decision");
        self.answer(&cx, Answer::new(500, "No Route"));
    }

    /// Answers the request of `cx` on its server transaction.
    pub(super) fn answer(&mut self, cx: &RequestCtx, answer: Answer) {
        self.reply(cx.now, cx.id, &cx.req, &cx.source, answer);
    }

    /// Starts the fork for `targets` (with its call-service state, when any), once the
    /// media relay has rewritten the offer of a call that needs it.
    fn forward(&mut self, cx: RequestCtx, targets: Targets) {
        if let Some((cx, targets)) = self.relay_offer(cx, targets) {
            self.forward_now(cx, targets); // relay.rs parks the others
        }
    }

    /// Starts the fork for `targets` now.
    pub(super) fn forward_now(&mut self, cx: RequestCtx, targets: Targets) {
        self.follow_call(&cx); // dialog_event.rs
        let RequestCtx {
            now,
            id,
            req,
            source,
            routes,
            ..
        } = cx;
        let mut targets = targets;
        let Some(leg) = targets.service.take() else {
            self.start_fork(now, id, req, source, routes, targets);
            return;
        };
        // The services' state is in place before the first branch answers.
        self.calls.insert(id, leg.state);
        self.start_fork(now, id, req, source, routes, targets);
        match self.forks.get_mut(&id) {
            Some(fork) if !fork.final_sent => fork.deadline = Some(now + leg.ring),
            Some(_) => {}
            None => {
                // Refused (503, too many calls): no fork keeps the state.
                self.calls.remove(&id);
                return;
            }
        }
        if leg.forwarded {
            self.send_181(now, id);
        }
    }

    /// Parks the request for `query`; stage `stage` runs again with the answer.
    fn wait_for(&mut self, cx: RequestCtx, stage: usize, query: Query) {
        if cx.found.len() + cx.resolved.len() >= MAX_QUERIES_PER_REQUEST {
            self.answer(&cx, CallError::TooManyLookups.answer());
            return;
        }
        if !self.can_park() {
            self.answer(&cx, CallError::Overloaded.answer());
            return;
        }
        self.park(
            Parked::Request {
                cx: Box::new(cx),
                stage,
                query: query.clone(),
            },
            query,
        );
    }
}
