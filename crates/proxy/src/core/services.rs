//! The call services (see [`crate::services`]) wired into the pipeline and the fork
//! manager: screening before routing, forwarding and find-me as legs of one fork.
//!
//! A call whose callee has forwarding or find-me gets a [`CallState`] next to its fork.
//! Retargeting keeps the fork (one server transaction towards the caller): the current
//! leg's branches are retired (CANCEL when ringing; their answers are absorbed), the caller
//! gets `181 Call Is Being Forwarded`, the request gains History-Info and loses one
//! Max-Forwards, and the new leg's first group starts.
//!
//! In shared-database mode every user's phones are a query away: resolving a leg stops
//! with `Need(Query)` at the first user whose bindings it lacks, the request (or the
//! retarget) is parked (`query.rs`), and resolving starts again with the answer. It is
//! pure over the directory and the answers so far, so starting again is safe. A
//! forwarding or find-me target whose host is a name waits the same way for its DNS
//! answer (`resolved.rs`): one serial group per next hop.

use std::time::Duration;

use bytes::Bytes;
use model::{AddressOfRecord, Binding};
use sip_message::{Editor, Method, SipMessage, Uri};
use sip_transaction::TransactionId;

use super::query::{locate, Missing, Query};
use super::resolved::{next_hops, serial_groups};
use super::stage::{
    FinalCtx, FinalFlow, Flow, LegEnd, RequestCtx, Retarget, ServiceLeg, Stage, Targets,
};
use super::Proxy;
use crate::config::ProxyMode;
use crate::error::CallError;
use crate::fork::contact_groups;
use crate::fork::Target;
use crate::route::HopError;
use crate::services::forwarding::{hop, remote_target, Hop};
use crate::services::voicemail::{is_voicemail_target, VoicemailCall};
use crate::services::{entry_index, entry_uri, findme, history_entries, CallState, Cause, Step};

/// Answers to location queries so far: whose bindings (None: the lookup failed).
type Found = [(AddressOfRecord, Option<Vec<Binding>>)];

/// The answers a call's resolution may use: bindings and DNS next hops.
#[derive(Clone, Copy)]
struct Answers<'a> {
    found: &'a Found,
    resolved: &'a [(String, Option<Vec<crate::Destination>>)],
}

/// Why resolving a leg stopped.
enum Stop {
    /// The call ends.
    Fail(CallError),
    /// A user's bindings are needed first.
    Need(Query),
}

impl From<CallError> for Stop {
    fn from(e: CallError) -> Stop {
        Stop::Fail(e)
    }
}

impl From<Missing> for Stop {
    fn from(m: Missing) -> Stop {
        match m {
            Missing::Need(q) => Stop::Need(q),
            Missing::Failed(e) => Stop::Fail(e),
        }
    }
}

/// Forwarding and find-me of the callee (RFC 5359 §2.7-§2.9, §2.12).
pub(super) struct CallServices;

impl Stage for CallServices {
    fn name(&self) -> &'static str {
        "call-services"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        match &cx.callee {
            Some(aor) if cx.callee_exists && p.has_call_services(&cx.req, aor) => p.serve_call(cx),
            _ => Flow::Continue,
        }
    }

    fn on_final(&self, p: &mut Proxy, cx: &mut FinalCtx) -> FinalFlow {
        p.services_on_final(cx)
    }
}

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
    /// A redirect server answers with contacts, it does not retarget.
    fn has_call_services(&self, req: &SipMessage, aor: &AddressOfRecord) -> bool {
        if req.method() != Method::Invite
            || req.to_tag().is_some()
            || self.cfg.mode == ProxyMode::Redirect
            || req.header_by_name("Replaces").is_some()
            || req.header_by_name("Join").is_some()
        {
            return false;
        }
        // voicemail: a mailbox adds busy / no-answer / unavailable rules (core/voicemail.rs).
        self.forwarding_with_voicemail(aor).is_some() || self.directory.findme(aor).is_some()
    }

    /// Routes an INVITE to a callee with services: resolves forwarding chains and
    /// find-me into the fork's targets.
    fn serve_call(&mut self, cx: &mut RequestCtx) -> Flow {
        let Some(aor) = cx.callee.clone() else {
            return Flow::Continue;
        };
        let mut st = CallState {
            target_uri: format!("sip:{aor}"),
            wall0: cx.wall,
            now0: cx.now,
            ..CallState::default()
        };
        self.seed_from_history(&cx.req, &mut st);
        let answers = Answers {
            found: &cx.found,
            resolved: &cx.resolved,
        };
        let resolved = self.resolve(&mut st, Hop::Local(aor), Vec::new(), 0, cx.wall, answers);
        // A leg that waits for a lookup is resolved again from the start: reported then.
        if !matches!(resolved, Err(Stop::Need(_))) {
            self.report_retargets(cx.now, cx.id, &mut st);
        }
        let leg = match resolved {
            Ok(leg) => leg,
            Err(Stop::Fail(e)) => return e.answer_logged().into(),
            Err(Stop::Need(query)) => return Flow::Need(query),
        };
        if leg.retargets > 0 {
            match with_history(&cx.req, &leg.history, leg.retargets) {
                Ok(r) => cx.req = r,
                Err(e) => return e.answer().into(),
            }
        }
        let (first, groups) = self.take_leg(&mut st, leg.groups, leg.steps);
        st.callee = leg.callee;
        let mut all = vec![first];
        all.extend(groups);
        Flow::Forward(Targets {
            groups: all,
            direct: None,
            service: Some(Box::new(ServiceLeg {
                state: st,
                ring: leg.ring,
                forwarded: leg.retargets > 0,
            })),
        })
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
            let mut groups = s.next().map(|s| s.groups).unwrap_or_default().into_iter();
            st.steps = s.collect();
            let first = groups.next().unwrap_or_default();
            (first, groups.collect())
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
        answers: Answers<'_>,
    ) -> Result<Leg, Stop> {
        loop {
            let aor = match next {
                Hop::Remote(uri) => {
                    return Ok(Leg {
                        callee: None,
                        groups: self.remote_groups(&uri, answers)?,
                        steps: Vec::new(),
                        ring: self.cfg.no_answer_timeout,
                        history,
                        retargets,
                    });
                }
                Hop::Local(aor) => self.directory.resolve_alias(&aor).unwrap_or(aor),
                // voicemail: the owner's mailbox ends the chain (core/voicemail.rs).
                Hop::Voicemail(owner) => {
                    return Ok(Leg {
                        callee: None,
                        groups: vec![vec![self.deposit_target(&owner)?]],
                        steps: Vec::new(),
                        ring: self.cfg.no_answer_timeout,
                        history,
                        retargets,
                    });
                }
            };
            if !self.directory.is_subscriber(&aor) {
                return Err(CallError::NotFound.into());
            }
            if st.visited.contains(&aor) {
                return Err(CallError::ForwardingLoop.into());
            }
            st.visited.push(aor.clone());
            let fwd = self.forwarding_with_voicemail(&aor).unwrap_or_default();
            if let Some(t) = &fwd.always {
                next = self.next_hop(st, &mut history, t, &aor, Cause::Unconditional)?;
                retargets += 1;
                continue;
            }
            let groups = contact_groups(locate(self, &aor, wall, answers.found)?);
            let steps = match self.directory.findme(&aor) {
                Some(fm) => {
                    let mut list = Vec::with_capacity(fm.targets.len());
                    for (t, secs) in &fm.targets {
                        list.push((self.findme_targets(t, &aor, wall, answers)?, *secs));
                    }
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
                return Err(CallError::Unavailable.into());
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
    ) -> Result<Hop, Stop> {
        if st.hops >= self.cfg.services.max_chain {
            return Err(CallError::TooManyForwardingHops.into());
        }
        let local = |u: &Uri<'_>| self.local_domain_of(u, None);
        let h = if is_voicemail_target(target) {
            Hop::Voicemail(from.clone()) // voicemail
        } else {
            hop(target, &from.domain, &local).ok_or(CallError::BadForwardingTarget)?
        };
        let uri = match &h {
            Hop::Local(a) => format!("sip:{a}"),
            Hop::Remote(u) => u.clone(),
            Hop::Voicemail(a) => VoicemailCall::Deposit(a.clone()).request_uri(),
        };
        tracing::debug!(%from, to = %uri, ?cause, "call forwarded");
        history.extend(st.retarget_history(&uri, cause));
        Ok(h)
    }

    /// A find-me entry's targets: a local user's phones (one group, all in parallel) or a
    /// URI (a group per next hop of a name, one after the other). An entry that cannot be
    /// reached (a name DNS does not know) is skipped.
    fn findme_targets(
        &self,
        t: &str,
        owner: &AddressOfRecord,
        wall: u64,
        answers: Answers<'_>,
    ) -> Result<Vec<Vec<Target>>, Stop> {
        let local = |u: &Uri<'_>| self.local_domain_of(u, None);
        Ok(match hop(t, &owner.domain, &local) {
            Some(Hop::Local(a)) => {
                let a = self.directory.resolve_alias(&a).unwrap_or(a);
                let phones = contact_groups(locate(self, &a, wall, answers.found)?);
                vec![phones.into_iter().flatten().collect()]
            }
            Some(Hop::Remote(u)) => match self.remote_groups(&u, answers) {
                Ok(groups) => groups,
                Err(Stop::Need(q)) => return Err(Stop::Need(q)),
                Err(Stop::Fail(e)) => {
                    tracing::info!(%owner, target = %u, error = ?e, "find-me target skipped");
                    Vec::new()
                }
            },
            Some(Hop::Voicemail(_)) => Vec::new(),
            None => Vec::new(),
        })
    }

    /// The serial groups of an outside URI: its address, or (a host name, `[dns]` on) one
    /// group per next hop DNS gave, each sent with the URI as Request-URI.
    fn remote_groups(&self, uri: &str, answers: Answers<'_>) -> Result<Vec<Vec<Target>>, Stop> {
        match remote_target(uri) {
            Ok(t) => Ok(vec![vec![t]]),
            Err(HopError::Unresolvable) if self.cfg.dns => {
                let hops = next_hops(uri, answers.resolved)?;
                Ok(serial_groups(Some(uri), hops))
            }
            Err(e) => Err(CallError::from(e).into()),
        }
    }

    /// Reports the retargets `st` made as call events.
    fn report_retargets(&mut self, now: Duration, id: TransactionId, st: &mut CallState) {
        for (cause, target) in st.unreported.drain(..) {
            self.events
                .retargeted(now, id.get(), cause.event_cause(), &target);
        }
    }

    /// The services' answer when a leg ended: find-me's next step, or forwarding on
    /// busy / no answer / unavailable (resolved like the first leg, lookups included).
    fn services_on_final(&mut self, cx: &FinalCtx) -> FinalFlow {
        let step = self
            .calls
            .get_mut(&cx.fork_id)
            .and_then(|st| st.steps.pop_front());
        if let Some(step) = step {
            if let Some(t) = step.groups.first().and_then(|g| g.first()) {
                let target = t
                    .request_uri
                    .clone()
                    .unwrap_or_else(|| format!("sip:{}", t.dest.addr));
                let cause = crate::events::RetargetCause::FindMe;
                self.events
                    .retargeted(cx.now, cx.fork_id.get(), cause, &target);
            }
            return FinalFlow::Retarget(Box::new(Retarget {
                groups: step.groups,
                ring: step.ring,
                forwarded: None,
            }));
        }
        // No call state, or a callee without forwarding: the leg's end is the call's.
        let Some(fwd) = self
            .calls
            .get(&cx.fork_id)
            .and_then(|st| st.callee.as_ref())
            .and_then(|c| self.forwarding_with_voicemail(c))
        else {
            return FinalFlow::Continue;
        };
        let (target, cause) = match cx.end {
            LegEnd::NoAnswer => (fwd.no_answer.map(|(t, _)| t), Cause::NoAnswer),
            LegEnd::Failed(486 | 600) => (fwd.busy, Cause::Busy),
            LegEnd::Failed(480 | 408) => (fwd.unavailable, Cause::Unavailable),
            LegEnd::Failed(_) => (None, Cause::Busy),
        };
        match target {
            Some(t) => self.retarget(cx, &t, cause),
            None => FinalFlow::Continue,
        }
    }

    /// The call's next leg, at `target`: its targets and the request as it goes there.
    fn retarget(&mut self, cx: &FinalCtx, target: &str, cause: Cause) -> FinalFlow {
        // Resolving edits the state (users visited, hops): on a copy, kept unless the
        // resolution has to wait for a lookup (it then starts again from the original).
        let Some(mut st) = self.calls.get(&cx.fork_id).cloned() else {
            return FinalFlow::Continue;
        };
        let from = st
            .callee
            .clone()
            .unwrap_or_else(|| AddressOfRecord::new("", ""));
        let wall = st.wall0 + cx.now.saturating_sub(st.now0).as_secs();
        let mut history = Vec::new();
        let leg = self
            .next_hop(&mut st, &mut history, target, &from, cause)
            .and_then(|h| {
                let answers = Answers {
                    found: &cx.found,
                    resolved: &cx.resolved,
                };
                self.resolve(&mut st, h, history, 1, wall, answers)
            });
        if !matches!(leg, Err(Stop::Need(_))) {
            self.report_retargets(cx.now, cx.fork_id, &mut st);
        }
        let leg = match leg {
            Ok(leg) => leg,
            Err(Stop::Need(query)) => return FinalFlow::Need(query),
            Err(Stop::Fail(e)) => {
                self.calls.insert(cx.fork_id, st);
                return FinalFlow::Reply(e.answer_logged());
            }
        };
        let Some(fork) = self.forks.get(&cx.fork_id) else {
            return FinalFlow::Continue;
        };
        let req = match with_history(&fork.request, &leg.history, leg.retargets) {
            Ok(req) => req,
            Err(e) => return FinalFlow::Reply(e.answer_logged()),
        };
        let (first, groups) = self.take_leg(&mut st, leg.groups, leg.steps);
        st.callee = leg.callee;
        self.calls.insert(cx.fork_id, st);
        let mut all = vec![first];
        all.extend(groups);
        FinalFlow::Retarget(Box::new(Retarget {
            groups: all,
            ring: leg.ring,
            forwarded: Some(req),
        }))
    }
}

/// The request with History-Info lines appended and Max-Forwards lowered by `retargets`
/// (483 when that exhausts it).
fn with_history(
    req: &SipMessage,
    history: &[String],
    retargets: u8,
) -> Result<SipMessage, CallError> {
    let mf = req.max_forwards().unwrap_or(70);
    if mf <= retargets {
        return Err(CallError::TooManyHops);
    }
    let mut ed = Editor::new(req);
    for h in history {
        ed.append_header("History-Info", format_args!("{h}"));
    }
    ed.set_max_forwards(mf - retargets);
    SipMessage::parse(Bytes::from(ed.to_vec())).map_err(|_| CallError::Internal)
}
