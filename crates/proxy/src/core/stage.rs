//! The contract of a stage: what a stage sees of a request ([`RequestCtx`]) and what it
//! may decide ([`Flow`]). The stages themselves are unit structs next to the logic they
//! run (`pipeline.rs`, `registration.rs`, `screening.rs`, `services.rs`); their order is
//! written once, in `request_route.rs`.
//!
//! The response side: when a fork's current leg ends (every branch failed, or the ring
//! time ran out) the fork manager asks the stages of `final_route.rs` through
//! [`Stage::on_final`] ([`FinalCtx`] in, [`FinalFlow`] out) before answering the caller.

use std::time::Duration;

use model::{AddressOfRecord, Binding};
use sip_message::SipMessage;
use sip_transaction::TransactionId;

use super::query::Query;
use super::Proxy;
use crate::answer::Answer;
use crate::destination::Destination;
use crate::fork::Target;
use crate::route::RoutePlan;
use crate::services::CallState;

/// What a stage decided about a request.
pub(crate) enum Flow {
    /// Not mine to decide: the next stage runs.
    Continue,
    /// Answer the request with this (and run no further stage).
    Reply(Answer),
    /// Proxy the request to these targets (and run no further stage).
    Forward(Targets),
    /// Park the request until the server answers this query; the same stage then runs
    /// again, with the answer in [`RequestCtx::found`].
    Need(Query),
    /// The stage acted as the endpoint and answered the request itself on its
    /// transaction (a notifier's 200 with its own tag, before its first NOTIFY): nothing
    /// more to do.
    Answered,
}

impl From<Answer> for Flow {
    fn from(a: Answer) -> Flow {
        Flow::Reply(a)
    }
}

/// Where a request goes: serial groups of parallel targets, and the call-service state
/// the fork keeps when the callee has forwarding or find-me.
pub(crate) struct Targets {
    /// Serial groups (by q), each rung in parallel.
    pub groups: Vec<Vec<Target>>,
    /// Call services of this call, when the callee has some.
    pub service: Option<Box<ServiceLeg>>,
    /// A partly bridged call: the targets that get the caller's own SDP (`relay.rs`).
    pub direct: Option<Box<crate::media_profile::DirectBranches>>,
}

impl Targets {
    /// One target, no service.
    pub fn one(t: Target) -> Targets {
        Targets {
            groups: vec![vec![t]],
            service: None,
            direct: None,
        }
    }
}

/// The call-service part of [`Targets`].
pub(crate) struct ServiceLeg {
    /// The state the fork manager consults on final answers and on the no-answer timer.
    pub state: CallState,
    /// How long the first leg rings.
    pub ring: Duration,
    /// The call was retargeted already (the caller gets `181 Call Is Being Forwarded`).
    pub forwarded: bool,
}

/// Who sent an out-of-dialog request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// A user of a local domain, authenticated (or authentication is off).
    Local,
    /// Anyone else: only local targets are reachable.
    Foreign,
}

/// A request on its way through the stages: the request and its server transaction, and
/// what the stages so far have learnt about it.
pub(crate) struct RequestCtx {
    /// Proxy time of this run (a resumed request gets the time of its resumption).
    pub now: Duration,
    /// Unix time in seconds (binding expiry).
    pub wall: u64,
    /// Its server transaction.
    pub id: TransactionId,
    /// The request.
    pub req: SipMessage,
    /// Who sent it.
    pub source: Destination,
    /// Route pre-processing (RFC 3261 §16.4): Route entries to remove, a recovered
    /// Request-URI.
    pub routes: RoutePlan,
    /// The Request-URI after route pre-processing (set by the `RequestUri` stage).
    pub ruri: String,
    /// Where the user part of [`RequestCtx::ruri`] is (None: no user part), so later
    /// stages need not parse it again.
    pub ruri_user: Option<std::ops::Range<usize>>,
    /// The Request-URI names this server.
    pub is_me: bool,
    /// The Request-URI's host is a domain served here.
    pub local: bool,
    /// The Request-URI's host, lower case.
    pub host: String,
    /// Who the caller is (set by the `Identity` stage; in-dialog requests stay foreign).
    pub caller: Caller,
    /// The local user called (set by `LocalRouting`), aliases resolved.
    pub callee: Option<AddressOfRecord>,
    /// The callee is a subscriber (not only a name that reaches nobody).
    pub callee_exists: bool,
    /// Answers to the queries this request was parked for: whose bindings (None: the
    /// lookup failed).
    pub found: Vec<(AddressOfRecord, Option<Vec<Binding>>)>,
    /// Answers to the DNS queries (RFC 3263) this request was parked for: the URI asked
    /// about and its next hops, best first (None: the lookup failed).
    pub resolved: super::resolved::Resolved,
    /// How storing this MESSAGE for an offline user went (`messages.rs`).
    pub stored: Option<crate::im::StoreOutcome>,
    /// The offer went through the media relay already (`relay.rs`).
    pub relay_done: bool,
}

impl RequestCtx {
    pub(super) fn new(
        now: Duration,
        wall: u64,
        id: TransactionId,
        req: SipMessage,
        source: Destination,
    ) -> RequestCtx {
        RequestCtx {
            now,
            wall,
            id,
            req,
            source,
            routes: RoutePlan::default(),
            ruri: String::new(),
            ruri_user: None,
            is_me: false,
            local: false,
            host: String::new(),
            caller: Caller::Foreign,
            callee: None,
            callee_exists: false,
            found: Vec::new(),
            resolved: Vec::new(),
            stored: None,
            relay_done: false,
        }
    }

    /// The caller authenticated as a local user.
    pub fn authenticated(&self) -> bool {
        self.caller == Caller::Local
    }

    /// The user part of the Request-URI.
    pub fn ruri_user(&self) -> Option<&str> {
        self.ruri_user.clone().and_then(|r| self.ruri.get(r))
    }

    /// The request is for this server's users (a local domain or the server itself).
    pub fn for_us(&self) -> bool {
        self.local || self.is_me
    }
}

/// How a fork's current leg ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LegEnd {
    /// Every branch answered with a failure and no serial group is left: the best status.
    Failed(u16),
    /// The leg's ring time ran out (the no-answer timer).
    NoAnswer,
}

/// A fork whose leg ended, on its way through the response-side stages.
pub(crate) struct FinalCtx {
    /// Proxy time.
    pub now: Duration,
    /// The fork (its server transaction).
    pub fork_id: TransactionId,
    /// How the leg ended.
    pub end: LegEnd,
    /// Answers to the queries this decision was parked for (as [`RequestCtx::found`]).
    pub found: Vec<(AddressOfRecord, Option<Vec<Binding>>)>,
    /// Answers to the DNS queries it was parked for (as [`RequestCtx::resolved`]).
    pub resolved: super::resolved::Resolved,
    /// How storing the MESSAGE of this fork went (`messages.rs`).
    pub stored: Option<crate::im::StoreOutcome>,
}

/// What a response-side stage decided when a leg ended.
pub(crate) enum FinalFlow {
    /// Not mine: the next stage, then the fork manager's best answer (or 408).
    Continue,
    /// Ring someone else: the current leg's branches are retired, this leg starts.
    Retarget(Box<Retarget>),
    /// End the call with this answer.
    Reply(Answer),
    /// Park until the server answers this query; the same stage then runs again.
    Need(Query),
}

/// A new leg of a call.
pub(crate) struct Retarget {
    /// Serial groups of parallel targets; the first starts now.
    pub groups: Vec<Vec<Target>>,
    /// How long the leg rings.
    pub ring: Duration,
    /// A new target (forwarding): the request as it goes there (History-Info, lower
    /// Max-Forwards); the caller gets `181 Call Is Being Forwarded` and the earlier leg's
    /// answers no longer count. None: the next step of the same call (find-me).
    pub forwarded: Option<SipMessage>,
}

/// One step of the request route (and, for a few, of the response side). A stage reads the request and the proxy's state and
/// decides; it never sends anything itself (the engine in `request_route.rs` does, from
/// the [`Flow`]).
pub(crate) trait Stage: Sync {
    /// A short name for logs and docs.
    fn name(&self) -> &'static str;

    /// Decides about a new request (not ACK, not CANCEL).
    fn on_request(&self, proxy: &mut Proxy, cx: &mut RequestCtx) -> Flow;

    /// Decides when a fork's leg ended (response side; most stages have nothing to say).
    fn on_final(&self, _proxy: &mut Proxy, _cx: &mut FinalCtx) -> FinalFlow {
        FinalFlow::Continue
    }
}
