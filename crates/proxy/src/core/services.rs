//! The call services (see [`crate::services`]) wired into the pipeline and the fork
//! manager: screening before routing, forwarding and find-me as legs of one fork.
//!
//! A call whose callee has forwarding or find-me gets a [`CallState`] next to its fork.
//! Retargeting keeps the fork (one server transaction towards the caller): the current
//! leg's branches are retired (CANCEL when ringing; their answers are absorbed), the caller
//! gets `181 Call Is Being Forwarded`, the request gains History-Info and loses one
//! Max-Forwards, and the new leg's first group starts.

use std::time::Duration;

use bytes::Bytes;
use model::AddressOfRecord;
use sip_message::{Editor, Method, SipMessage, Uri};
use sip_transaction::TransactionId;

use super::Proxy;
use crate::config::ProxyMode;
use crate::destination::Destination;
use crate::fork::{BranchState, Target};
use crate::route::{HopError, RoutePlan};
use crate::services::forwarding::{contact_groups, hop, remote_target, Hop};
use crate::services::{entry_index, entry_uri, findme, history_entries, CallState, Cause, Step};

/// A failure that ends the call: status and reason.
type Fail = (u16, &'static str);

/// What a target resolved to.
struct Leg {
    /// The local user rung (None: outside).
    callee: Option<AddressOfRecord>,
    /// Serial q-groups (plain legs).
    groups: Vec<Vec<Target>>,
    /// Find-me steps (instead of groups).
    steps: Vec<Step>,
    /// How long the leg may ring.
    ring: Duration,
    /// History-Info lines to add.
    history: Vec<String>,
    /// Retargets made while resolving.
    retargets: u8,
}

impl Proxy {
    /// True when an INVITE to `aor` goes through the services (forwarding or find-me).
    /// An INVITE with Replaces or Join (RFC 3891, 3911) names a dialog on a particular
    /// phone: it is never forwarded.
    ///
    /// A redirect server answers with contacts, it does not retarget. With a shared
    /// database (`shared_location`) the callee's phones may be registered on another node
    /// and are looked up asynchronously: only unconditional forwarding (which needs no
    /// lookup of the callee) applies there.
    pub(super) fn has_call_services(&self, req: &SipMessage, aor: &AddressOfRecord) -> bool {
        if req.method() != Method::Invite
            || req.to_tag().is_some()
            || self.cfg.mode == ProxyMode::Redirect
            || req.header_by_name("Replaces").is_some()
            || req.header_by_name("Join").is_some()
        {
            return false;
        }
        let fwd = self.directory.forwarding(aor);
        if self.cfg.shared_location {
            return fwd.is_some_and(|f| f.always.is_some());
        }
        fwd.is_some() || self.directory.findme(aor).is_some()
    }

    /// Routes an INVITE to a callee with services: resolves forwarding chains and
    /// find-me, then starts the fork.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn serve_call(
        &mut self,
        now: Duration,
        wall: u64,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
        routes: RoutePlan,
        aor: AddressOfRecord,
    ) {
        let mut st = CallState {
            target_uri: format!("sip:{aor}"),
            wall0: wall,
            now0: now,
            ..CallState::default()
        };
        self.seed_from_history(&req, &mut st);
        let resolved = self.resolve(&mut st, Hop::Local(aor), Vec::new(), 0, wall);
        self.report_retargets(now, id, &mut st);
        let leg = match resolved {
            Ok(leg) => leg,
            Err((status, reason)) => {
                self.reply(now, id, &req, &source, status, Some(reason), "");
                return;
            }
        };
        let req = if leg.retargets > 0 {
            match with_history(&req, &leg.history, leg.retargets) {
                Ok(r) => r,
                Err((status, reason)) => {
                    self.reply(now, id, &req, &source, status, Some(reason), "");
                    return;
                }
            }
        } else {
            req
        };
        let (first, groups) = self.take_leg(&mut st, leg.groups, leg.steps);
        st.callee = leg.callee;
        self.calls.insert(id, st);
        let mut all = vec![first];
        all.extend(groups);
        self.start_fork(now, id, req, source, routes, all);
        if let Some(fork) = self.forks.get_mut(&id) {
            if !fork.final_sent {
                fork.deadline = Some(now + leg.ring);
            }
        }
        if leg.retargets > 0 {
            self.send_181(now, id);
        }
    }

    /// Splits a leg into its first group and the rest: find-me steps go to the call
    /// state (with their ring times), plain q-groups to the fork's serial groups.
    fn take_leg(
        &self,
        st: &mut CallState,
        groups: Vec<Vec<Target>>,
        steps: Vec<Step>,
    ) -> (Vec<Target>, Vec<Vec<Target>>) {
        if steps.is_empty() {
            st.steps.clear();
            let mut g = groups.into_iter();
            let first = g.next().unwrap_or_default();
            (first, g.collect())
        } else {
            let mut s = steps.into_iter();
            let first = s.next().map(|s| s.targets).unwrap_or_default();
            st.steps = s.collect();
            (first, Vec::new())
        }
    }

    /// Users and hop count from History-Info entries of an incoming request (a call
    /// forwarded elsewhere and back).
    fn seed_from_history(&self, req: &SipMessage, st: &mut CallState) {
        for e in history_entries(req) {
            if let Some(Ok(uri)) = entry_uri(&e).map(Uri::parse) {
                if let (Some(user), Some(domain)) = (uri.user, self.local_domain_of(&uri, None)) {
                    let aor = AddressOfRecord::new(user, &domain);
                    let aor = self.directory.resolve_alias(&aor).unwrap_or(aor);
                    if !st.visited.contains(&aor) {
                        st.visited.push(aor);
                    }
                }
                if uri.param("cause").is_some() || e.contains(";mp=") || e.contains(";rc=") {
                    st.hops += 1;
                }
            }
            if let Some(i) = entry_index(&e) {
                st.hi_index = Some(i.to_string());
            }
        }
        if st.hi_index.is_some() {
            // The original target is already recorded upstream.
            st.target_uri = req.request_uri_str().to_string();
        }
    }

    /// Follows a target to the phones (or outside URI) that ring, applying unconditional
    /// and unavailable forwarding of each user met, and find-me of the last.
    fn resolve(
        &self,
        st: &mut CallState,
        mut next: Hop,
        mut history: Vec<String>,
        mut retargets: u8,
        wall: u64,
    ) -> Result<Leg, Fail> {
        loop {
            let aor = match next {
                Hop::Remote(uri) => {
                    let t = remote_target(&uri).map_err(|e| match e {
                        HopError::Unsupported => (416, "Unsupported URI Scheme or Transport"),
                        HopError::Unresolvable => (503, "DNS Resolution Not Supported"),
                    })?;
                    return Ok(Leg {
                        callee: None,
                        groups: vec![vec![t]],
                        steps: Vec::new(),
                        ring: self.cfg.no_answer_timeout,
                        history,
                        retargets,
                    });
                }
                Hop::Local(aor) => self.directory.resolve_alias(&aor).unwrap_or(aor),
            };
            if !self.directory.is_subscriber(&aor) {
                return Err((404, "Not Found"));
            }
            if st.visited.contains(&aor) {
                return Err((482, "Loop Detected"));
            }
            st.visited.push(aor.clone());
            let fwd = self.directory.forwarding(&aor).unwrap_or_default();
            if let Some(t) = &fwd.always {
                next = self.next_hop(st, &mut history, t, &aor, Cause::Unconditional)?;
                retargets += 1;
                continue;
            }
            let groups = contact_groups(self.registrar.location().lookup(&aor, wall));
            let steps = match self.directory.findme(&aor) {
                Some(fm) => {
                    let list = fm
                        .targets
                        .iter()
                        .map(|(t, secs)| (self.findme_targets(t, &aor, wall), *secs))
                        .collect();
                    findme::steps(groups, self.cfg.services.findme_contact_ring, list)
                }
                None if groups.is_empty() => Vec::new(),
                None => {
                    let ring = fwd
                        .no_answer
                        .as_ref()
                        .map_or(self.cfg.no_answer_timeout, |n| {
                            Duration::from_secs(u64::from(n.1))
                        });
                    return Ok(Leg {
                        callee: Some(aor),
                        groups,
                        steps: Vec::new(),
                        ring,
                        history,
                        retargets,
                    });
                }
            };
            if steps.is_empty() {
                if let Some(t) = &fwd.unavailable {
                    next = self.next_hop(st, &mut history, t, &aor, Cause::Unavailable)?;
                    retargets += 1;
                    continue;
                }
                return Err((480, "Temporarily Unavailable"));
            }
            let ring = steps[0].ring;
            return Ok(Leg {
                callee: Some(aor),
                groups: Vec::new(),
                steps,
                ring,
                history,
                retargets,
            });
        }
    }

    /// One retarget from `from` to `target`: chain bound, History-Info.
    fn next_hop(
        &self,
        st: &mut CallState,
        history: &mut Vec<String>,
        target: &str,
        from: &AddressOfRecord,
        cause: Cause,
    ) -> Result<Hop, Fail> {
        if st.hops >= self.cfg.services.max_chain {
            return Err((483, "Too Many Forwarding Hops"));
        }
        let local = |u: &Uri<'_>| self.local_domain_of(u, None);
        let h = hop(target, &from.domain, &local).ok_or((500, "Bad Forwarding Target"))?;
        let uri = match &h {
            Hop::Local(a) => format!("sip:{a}"),
            Hop::Remote(u) => u.clone(),
        };
        tracing::debug!(%from, to = %uri, ?cause, "call forwarded");
        history.extend(st.retarget_history(&uri, cause));
        Ok(h)
    }

    /// A find-me entry's targets: a local user's phones (all in parallel) or a URI.
    fn findme_targets(&self, t: &str, owner: &AddressOfRecord, wall: u64) -> Vec<Target> {
        let local = |u: &Uri<'_>| self.local_domain_of(u, None);
        match hop(t, &owner.domain, &local) {
            Some(Hop::Local(a)) => {
                let a = self.directory.resolve_alias(&a).unwrap_or(a);
                contact_groups(self.registrar.location().lookup(&a, wall))
                    .into_iter()
                    .flatten()
                    .collect()
            }
            Some(Hop::Remote(u)) => remote_target(&u).into_iter().collect(),
            None => Vec::new(),
        }
    }

    /// Reports the retargets `st` made as call events.
    fn report_retargets(&mut self, now: Duration, id: TransactionId, st: &mut CallState) {
        for (cause, target) in st.unreported.drain(..) {
            self.events
                .retargeted(now, id.get(), cause.event_cause(), &target);
        }
    }

    /// Tells the caller the call is being forwarded.
    fn send_181(&mut self, now: Duration, fork_id: TransactionId) {
        let Some(fork) = self.forks.get(&fork_id) else {
            return;
        };
        if fork.final_sent || fork.cancelled {
            return;
        }
        let (req, via) = (fork.request.clone(), fork.fixed_top_via.clone());
        self.reply_on(
            now,
            fork_id,
            &req,
            via.as_deref(),
            181,
            Some("Call Is Being Forwarded"),
        );
    }

    /// True when branch `b` belongs to an earlier leg (its provisional answers stay here).
    pub(super) fn retired_branch(&self, fork_id: TransactionId, b: usize) -> bool {
        self.calls.get(&fork_id).is_some_and(|st| b < st.base)
    }

    /// Ends the current leg: ringing branches are cancelled, silent ones will be when they
    /// answer; all count as done and their answers are absorbed.
    fn retire_leg(&mut self, now: Duration, fork_id: TransactionId) {
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        let mut to_cancel = Vec::new();
        for (i, b) in fork.branches.iter_mut().enumerate() {
            match b.state {
                BranchState::Proceeding => {
                    to_cancel.push(i);
                    b.state = BranchState::Done(487);
                }
                BranchState::Trying => {
                    b.cancel_pending = true;
                    b.state = BranchState::Done(408);
                }
                BranchState::Done(_) => {}
            }
        }
        fork.pending_groups.clear();
        let n = fork.branches.len();
        for i in to_cancel {
            self.send_cancel(now, fork_id, i);
        }
        if let Some(st) = self.calls.get_mut(&fork_id) {
            st.base = n;
        }
    }

    /// The fork's no-answer timer fired: next find-me step, or no-answer forwarding.
    /// False when the services have nothing to do (the plain timeout applies).
    pub(super) fn services_timeout(&mut self, now: Duration, fork_id: TransactionId) -> bool {
        let Some(st) = self.calls.get(&fork_id) else {
            return false;
        };
        match self.forks.get(&fork_id) {
            Some(f) if !f.final_sent && !f.cancelled => {}
            _ => return false,
        }
        if !st.steps.is_empty() {
            self.retire_leg(now, fork_id);
            return self.next_step(now, fork_id);
        }
        let target = st
            .callee
            .as_ref()
            .and_then(|c| self.directory.forwarding(c))
            .and_then(|f| f.no_answer);
        match target {
            Some((t, _)) => {
                self.retarget(now, fork_id, &t, Cause::NoAnswer);
                true
            }
            None => false,
        }
    }

    /// Every branch of the current group answered (no serial group left): the next
    /// find-me step, or busy / unavailable forwarding. False when the call ends here.
    pub(super) fn services_exhausted(&mut self, now: Duration, fork_id: TransactionId) -> bool {
        let Some(st) = self.calls.get(&fork_id) else {
            return false;
        };
        if !st.steps.is_empty() {
            return self.next_step(now, fork_id);
        }
        let Some(fork) = self.forks.get(&fork_id) else {
            return false;
        };
        let status = fork
            .best
            .as_ref()
            .map(|r| r.status())
            .or(fork.best_synthetic)
            .unwrap_or(408);
        let Some(fwd) = st
            .callee
            .as_ref()
            .and_then(|c| self.directory.forwarding(c))
        else {
            return false;
        };
        let (target, cause) = match status {
            486 | 600 => (fwd.busy, Cause::Busy),
            480 | 408 => (fwd.unavailable, Cause::Unavailable),
            _ => (None, Cause::Busy),
        };
        match target {
            Some(t) => {
                self.retarget(now, fork_id, &t, cause);
                true
            }
            None => false,
        }
    }

    /// Starts the next find-me step. False when none is left.
    fn next_step(&mut self, now: Duration, fork_id: TransactionId) -> bool {
        let Some(step) = self
            .calls
            .get_mut(&fork_id)
            .and_then(|st| st.steps.pop_front())
        else {
            return false;
        };
        if let Some(fork) = self.forks.get_mut(&fork_id) {
            fork.deadline = Some(now + step.ring);
        }
        if let Some(t) = step.targets.first() {
            let target = t
                .request_uri
                .clone()
                .unwrap_or_else(|| format!("sip:{}", t.dest.addr));
            let cause = crate::events::RetargetCause::FindMe;
            self.events.retargeted(now, fork_id.get(), cause, &target);
        }
        self.start_group(now, fork_id, step.targets);
        true
    }

    /// Retargets the call to `target`: retire the current leg, 181 to the caller, then the
    /// new leg (or the failure that ends the call).
    fn retarget(&mut self, now: Duration, fork_id: TransactionId, target: &str, cause: Cause) {
        let Some(mut st) = self.calls.remove(&fork_id) else {
            return;
        };
        let from = st
            .callee
            .clone()
            .unwrap_or_else(|| AddressOfRecord::new("", ""));
        let wall = st.wall0 + now.saturating_sub(st.now0).as_secs();
        let mut history = Vec::new();
        let leg = self
            .next_hop(&mut st, &mut history, target, &from, cause)
            .and_then(|h| self.resolve(&mut st, h, history, 1, wall));
        self.report_retargets(now, fork_id, &mut st);
        let edited = leg.as_ref().map_err(|e| *e).and_then(|leg| {
            let fork = self
                .forks
                .get(&fork_id)
                .ok_or((500, "Server Internal Error"))?;
            with_history(&fork.request, &leg.history, leg.retargets)
        });
        self.calls.insert(fork_id, st);
        self.retire_leg(now, fork_id);
        let Some(fork) = self.forks.get_mut(&fork_id) else {
            return;
        };
        fork.best = None;
        fork.best_synthetic = None;
        match (leg, edited) {
            (Ok(leg), Ok(req)) => {
                fork.request = req;
                fork.deadline = Some(now + leg.ring);
                let Some(mut st) = self.calls.remove(&fork_id) else {
                    return;
                };
                let (first, groups) = self.take_leg(&mut st, leg.groups, leg.steps);
                st.callee = leg.callee;
                self.calls.insert(fork_id, st);
                if let Some(fork) = self.forks.get_mut(&fork_id) {
                    let mut rest = groups;
                    rest.reverse();
                    fork.pending_groups = rest;
                }
                self.send_181(now, fork_id);
                self.start_group(now, fork_id, first);
            }
            (Err((status, reason)), _) | (_, Err((status, reason))) => {
                fork.final_sent = true;
                let (req, via) = (fork.request.clone(), fork.fixed_top_via.clone());
                self.reply_on(now, fork_id, &req, via.as_deref(), status, Some(reason));
            }
        }
    }
}

/// The request with History-Info lines appended and Max-Forwards lowered by `retargets`
/// (483 when that exhausts it).
fn with_history(req: &SipMessage, history: &[String], retargets: u8) -> Result<SipMessage, Fail> {
    let mf = req.max_forwards().unwrap_or(70);
    if mf <= retargets {
        return Err((483, "Too Many Hops"));
    }
    let mut ed = Editor::new(req);
    for h in history {
        ed.append_header("History-Info", format_args!("{h}"));
    }
    ed.set_max_forwards(mf - retargets);
    SipMessage::parse(Bytes::from(ed.to_vec())).map_err(|_| (500, "Server Internal Error"))
}
