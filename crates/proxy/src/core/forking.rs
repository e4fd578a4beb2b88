//! The fork manager: branches out, responses in, best-response selection (RFC 3261 §16.7),
//! serial groups, CANCEL, and the no-answer timer.

use std::time::Duration;

use bytes::Bytes;
use sip_message::{Method, ResponseBuilder, SipMessage, Uri, WrittenMessage};
use sip_transaction::{ResponseOutcome, TransactionId};

use super::branch_request::build_branch;
use super::stage::{LegEnd, Targets};
use super::{fixed_top_via, reliability, strip_top_via, Proxy};
use crate::answer::Answer;
use crate::branch::{loop_hash, make_branch};
use crate::destination::{Destination, Transport};
use crate::error::CallError;
use crate::fork::{Branch, BranchState, Fork, Target};

impl Proxy {
    pub(super) fn start_fork(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
        routes: crate::route::RoutePlan,
        targets: Targets,
    ) {
        let Targets {
            mut groups, direct, ..
        } = targets;
        let is_invite = req.method() == Method::Invite;
        if is_invite && self.forks.len() >= self.cfg.max_forks {
            self.stats.overloaded += 1;
            self.metrics.overloaded += 1;
            self.pstn.legs.remove(&id);
            self.reply(now, id, &req, &source, CallError::Overloaded.answer());
            return;
        }
        if is_invite {
            self.reply(now, id, &req, &source, Answer::status(100));
        }
        // A call not started by the pipeline (a pre-loaded route) starts here.
        let identity = self.identity.as_ref();
        self.events
            .started(now, id.get(), &req, identity, &source, true);
        groups.reverse();
        let first = groups.pop().unwrap_or_default();
        let inbound_host = self.interfaces.host_for(&self.cfg, source.addr.ip());
        let fork = Fork {
            inbound_host,
            server_tx: id,
            hash: loop_hash(&req),
            fixed_top_via: fixed_top_via(&req, &source, self.cfg.force_rport),
            inbound: source.transport,
            request: req,
            branches: Vec::new(),
            pending_groups: groups,
            best: None,
            best_synthetic: None,
            final_sent: false,
            cancelled: false,
            timed_out: false,
            waiting: false,
            deadline: if is_invite {
                Some(now + self.cfg.no_answer_timeout)
            } else {
                None
            },
            remove_routes: routes.remove,
            new_request_uri: routes.new_request_uri,
            direct,
            flow_token: routes.caller_flow.map(|f| self.flow_tokens.encode(&f)),
            to_flow: routes.to_flow,
        };
        self.forks.insert(id, fork);
        self.pending.insert(id);
        self.gateway_fork_started(now, id);
        self.start_group(now, id, first);
    }

    pub(super) fn start_group(
        &mut self,
        now: Duration,
        fork_id: TransactionId,
        targets: Vec<Target>,
    ) {
        for t in targets {
            self.send_branch(now, fork_id, t);
        }
        self.check_complete(now, fork_id);
        self.retire_if_done(fork_id);
    }

    /// Builds and sends one branch (RFC 3261 §16.6).
    pub(super) fn send_branch(&mut self, now: Duration, fork_id: TransactionId, t: Target) {
        self.send_branch_sized(now, fork_id, t, true);
    }

    /// [`Self::send_branch`]; `size_switch`: a UDP request over the size limit goes over
    /// TCP instead (false when resending over UDP after that TCP failed).
    pub(super) fn send_branch_sized(
        &mut self,
        now: Duration,
        fork_id: TransactionId,
        t: Target,
        size_switch: bool,
    ) {
        let n = self.next_branch;
        self.next_branch += 1;
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        let branch = make_branch(fork.hash, n);
        let mut t = t;
        let outbound_host = self.interfaces.host_for(&self.cfg, t.dest.addr.ip());
        let mut bytes = build_branch(&self.cfg, fork, &t, &branch, &outbound_host);
        let limit = self.cfg.udp_max_request_bytes;
        let mut udp_fallback = None;
        // The service host listens on UDP only, on this machine (no path MTU to fear).
        let to_service = self.cfg.services.host.map(|h| h.addr) == Some(t.dest.addr);
        if size_switch
            && !to_service
            && t.dest.transport == Transport::Udp
            && limit > 0
            && bytes.len() > limit
        {
            // RFC 3261 §18.1.1: a request larger than 1300 bytes (path MTU unknown) goes
            // over a congestion-controlled transport, and its Via says so.
            udp_fallback = Some(t.clone());
            t.dest.transport = Transport::Tcp;
            t.dest.conn = None;
            bytes = build_branch(&self.cfg, fork, &t, &branch, &outbound_host);
        }
        let idx = fork.branches.len();
        let mut sent = false;
        // The branch's request is the received one (parsed and checked) with the fields
        // written above; of those, the new Request-URI is the one the parse of a request
        // would check, and it is checked here. The whole request is parsed only if a
        // CANCEL or an ACK needs it (`WrittenMessage`).
        let added = new_request_uri_valid(fork, &t);
        let request = WrittenMessage::new(Bytes::from(bytes));
        let mut branch_rec = Branch {
            tx: None,
            request: None,
            direct: fork.direct.as_ref().is_some_and(|d| d.applies_to(&t.dest)),
            dest: t.dest,
            state: BranchState::Trying,
            cancel_pending: false,
            udp_fallback,
        };
        match added {
            Ok(()) => match self.layer.send_written(
                now,
                request.clone(),
                fork.request.method_str(),
                &branch,
                t.dest,
                reliability(&t.dest),
            ) {
                Ok(tx) => {
                    sent = true;
                    branch_rec.tx = Some(tx);
                    branch_rec.request = Some(request);
                    self.client_to_fork.insert(tx, (fork_id, idx));
                }
                Err(e) => {
                    tracing::warn!(?e, "could not start a client transaction");
                    branch_rec.state = BranchState::Done(503);
                    fork.consider(503, None);
                }
            },
            Err(why) => {
                tracing::warn!(why, "forwarded request does not parse");
                branch_rec.state = BranchState::Done(500);
                fork.consider(500, None);
            }
        }
        fork.branches.push(branch_rec);
        self.gateway_branch_sent(now, fork_id, idx, sent);
    }

    pub(super) fn on_response(&mut self, now: Duration, msg: SipMessage) {
        match self.layer.handle_response(now, msg) {
            ResponseOutcome::Matched { id, ref response }
                if self.probe_answered(now, id, response.status()) => {}
            ResponseOutcome::Matched { id, .. } if self.keepalive_answered(id) => {}
            ResponseOutcome::Matched { id, response } => {
                if let Some((fork_id, b)) = self.client_to_fork.get(&id).copied() {
                    self.branch_response(now, fork_id, b, response);
                } else if self.originated_final(now, id, response.status()) {
                    // A request the proxy originated (originate.rs).
                } else if response.method() == Method::Invite
                    && (200..300).contains(&response.status())
                {
                    // A 2xx retransmission after the fork was retired.
                    self.forward_response_stateless(&response);
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

    pub(super) fn branch_response(
        &mut self,
        now: Duration,
        fork_id: TransactionId,
        b: usize,
        resp: SipMessage,
    ) {
        // An answer in a relayed call waits for the relay's SDP (relay.rs).
        if let Some(resp) = self.relay_response(fork_id, b, resp) {
            self.branch_response_relayed(now, fork_id, b, resp);
        }
    }

    /// A branch's response, its SDP relayed when the call needs it.
    pub(super) fn branch_response_relayed(
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
            let abandoned = matches!(branch.state, BranchState::Done(_));
            if branch.cancel_pending {
                branch.cancel_pending = false;
                self.send_cancel(now, fork_id, b);
            }
            let retired = self.retired_branch(fork_id, b) || abandoned;
            if !retired {
                self.gateway_provisional(now, fork_id);
            }
            let fork = &self.forks[&fork_id];
            if !fork.final_sent && !fork.cancelled && !retired {
                self.events.ringing(now, fork_id.get());
                self.dialog_early(now, fork_id.get(), &resp); // dialog_event.rs
                let fork = &self.forks[&fork_id];
                if let Some(bytes) = strip_top_via(&resp) {
                    let _ = self.layer.respond(now, fork.server_tx, bytes, status);
                }
            }
            return;
        }
        self.branch_final(now, fork_id, b, status, Some(resp));
    }

    /// A branch ended with `status` (a response, or a synthetic 408).
    pub(super) fn branch_final(
        &mut self,
        now: Duration,
        fork_id: TransactionId,
        b: usize,
        status: u16,
        resp: Option<SipMessage>,
    ) {
        self.branch_ended(now, fork_id, b, status, resp);
        self.retire_if_done(fork_id);
    }

    /// Forgets a fork once its final answer went upstream and every branch has ended:
    /// nothing of it is needed any more (a late 2xx retransmission is relayed statelessly,
    /// RFC 3261 §16.7 step 5), and an answered call would otherwise hold its request and
    /// branches for the 32 s its server transaction lingers (RFC 6026 Timer L).
    pub(super) fn retire_if_done(&mut self, fork_id: TransactionId) {
        let Some(fork) = self.forks.get(&fork_id) else {
            return;
        };
        if !fork.final_sent
            || fork
                .branches
                .iter()
                .any(|b| !matches!(b.state, BranchState::Done(_)))
        {
            return;
        }
        for b in &fork.branches {
            if let Some(tx) = b.tx {
                self.client_to_fork.remove(&tx);
            }
        }
        self.forks.remove(&fork_id);
        self.calls.remove(&fork_id);
        self.pending.remove(&fork_id);
        self.pstn.legs.remove(&fork_id);
    }

    fn branch_ended(
        &mut self,
        now: Duration,
        fork_id: TransactionId,
        b: usize,
        status: u16,
        resp: Option<SipMessage>,
    ) {
        self.gateway_final(now, fork_id, b, status);
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
                    if !fork.final_sent {
                        self.events.result(
                            now,
                            fork_id.get(),
                            &fork.request,
                            status,
                            None,
                            None,
                            None,
                            &mut self.metrics,
                        );
                    }
                    fork.final_sent = true;
                    if fork.request.method() == Method::Invite {
                        self.stats.calls_answered += 1;
                        if let (Some(from), Some(to)) = (r.from_tag(), r.to_tag()) {
                            let call = fork_id.get();
                            self.dialogs.established(now, r.call_id(), from, to, call);
                            self.dialog_confirmed(now, call, to); // dialog_event.rs
                        }
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
    pub(super) fn check_complete(&mut self, now: Duration, fork_id: TransactionId) {
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        // A response-side stage waiting for a query decides, unless the caller cancelled.
        if fork.final_sent || (fork.waiting && !fork.cancelled) || !fork.group_done() {
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
        // The response side (call services: the next find-me step, or busy / unavailable
        // forwarding).
        let best = fork
            .best
            .as_ref()
            .map(|r| r.status())
            .or(fork.best_synthetic)
            .unwrap_or(408);
        if !stop && self.run_final_route(now, fork_id, LegEnd::Failed(best)) {
            return;
        }
        let gateways_failed = self.gateways_failed_answer(fork_id);
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        fork.final_sent = true;
        let server_tx = fork.server_tx;
        let best_status = fork
            .best
            .as_ref()
            .map(|r| r.status())
            .or(fork.best_synthetic)
            .unwrap_or(408);
        // The caller did not cancel, but the proxy gave up: 408, not the 487 our CANCELs drew.
        let own = if gateways_failed.is_some() {
            gateways_failed
        } else if fork.timed_out && !fork.cancelled && (best_status == 487 || best_status == 408) {
            Some(Answer::new(408, "No Answer"))
        } else {
            match fork.best.take() {
                Some(r) if r.status() != 503 => {
                    let reason = r.reason();
                    self.events.result(
                        now,
                        fork_id.get(),
                        &fork.request,
                        r.status(),
                        Some(reason),
                        None,
                        None,
                        &mut self.metrics,
                    );
                    if let Some(bytes) = strip_top_via(&r) {
                        let _ = self.layer.respond(now, server_tx, bytes, r.status());
                    }
                    None
                }
                // RFC 3261 §16.7 step 6: a 503 is not forwarded; 500 instead.
                Some(_) => Some(Answer::new(500, "Next Hop Unavailable")),
                None => Some(match best_status {
                    408 => Answer::new(408, "Request Timeout"),
                    // Every branch failed to send (RFC 3261 §16.9) or could not start.
                    503 => Answer::new(500, "Next Hop Unavailable"),
                    status => Answer::status(status),
                }),
            }
        };
        if let Some(answer) = own {
            self.answer_fork(now, fork_id, answer);
        }
    }

    /// Answers the caller of fork `fork_id` with a response of our own.
    pub(super) fn answer_fork(&mut self, now: Duration, fork_id: TransactionId, answer: Answer) {
        let Some(fork) = self.forks.get(&fork_id) else {
            return;
        };
        let (req, via) = (fork.request.clone(), fork.fixed_top_via.clone());
        self.reply_on(now, fork_id, &req, via.as_deref(), &answer);
    }

    pub(super) fn reply_on(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: &SipMessage,
        via: Option<&str>,
        answer: &Answer,
    ) {
        let status = answer.status;
        self.events.result(
            now,
            id.get(),
            req,
            status,
            answer.reason,
            None,
            None,
            &mut self.metrics,
        );
        let tag = self.new_tag();
        let mut b = ResponseBuilder::new(req, status).to_tag(&tag);
        if let Some(r) = answer.reason {
            b = b.reason(r);
        }
        for (name, value) in &answer.headers {
            b = b.header(name, format_args!("{value}"));
        }
        if let Some(v) = via {
            b = b.top_via(v);
        }
        let bytes = b
            .header("Server", format_args!("{}", self.cfg.server_name))
            .to_vec();
        let _ = self.layer.respond(now, id, Bytes::from(bytes), status);
    }
}

/// Checks the one part of a branch's request that the received request's parse did not:
/// the new Request-URI (RFC 3261 §16.6 step 2), from a binding, a service or a gateway,
/// as the parser checks a Request-Line's. Route entries are taken from parsed Path or
/// Route headers, and the parse of a request does not check their values either.
fn new_request_uri_valid(fork: &Fork, t: &Target) -> Result<(), &'static str> {
    match t.request_uri.as_deref().or(fork.new_request_uri.as_deref()) {
        Some(uri) => Uri::parse_request_uri(uri).map(|_| ()),
        None => Ok(()),
    }
}
