//! The relay stage (issue 19): which calls the media relay carries, and the offer/answer
//! of those calls passed through it without blocking the core. Two hooks:
//! - on the request side, when a request is about to be forwarded (`forward` in
//!   `request_route.rs`): an initial INVITE with SDP whose caller or callee is behind NAT
//!   (or every call with `[relay] mode = "always"`), and a re-INVITE or UPDATE with SDP in
//!   a relayed call, park as a [`Query::Relay`] offer; the request goes on with the SDP the
//!   relay gave back;
//! - on the response side (`branch_response` in `forking.rs`): a 18x or 2xx with SDP in a
//!   relayed call parks as an answer, and goes upstream rewritten.
//!
//! Which profile each side speaks (`media_profile.rs`): a browser's offer with a plain
//! phone as callee (or the other way round) is relayed whatever `[relay] mode` says
//! (except `never`), the relay turning the offer into the callee's profile and the answer
//! into the caller's; with a relay that cannot (the embedded one), such a call gets 488.
//! The service host counts as a plain RTP phone there: a browser calling voicemail, a
//! conference room or music on hold, and the host calling a browser (a parked call's
//! ring-back, a conference dial-out), are bridged the same way; calls between the host
//! and plain RTP phones are never relayed (not for NAT either: the host is local).
//! When a fork's targets differ (a user with a browser and a desk phone), the relayed
//! offer goes only to the targets of the other profile and the caller's own SDP to the
//! rest ([`DirectBranches`], applied by `build_branch`); a 2xx from one of those releases
//! the relay.
//!
//! When a relayed call ends (its final failure, CANCEL, BYE, the dialog's timeout: the
//! call-event stream's `Failed` or `Ended`), [`Output::RelayDelete`] tells the server to
//! end its media. Not here: the relay itself (the `relay` crate, run by the server), NAT
//! detection (`nat.rs`), or an offer in a 2xx and its answer in the ACK (a call whose
//! INVITE has no SDP is not relayed).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use sip_message::{Editor, Method, SipMessage};
use sip_transaction::TransactionId;

use super::output::Output;
use super::query::{Parked, Query, QueryAnswer};
use super::stage::{RequestCtx, Targets};
use super::Proxy;
use crate::answer::Answer;
use crate::error::CallError;
use crate::media_profile::{bridging, Bridging, DirectBranches, MediaProfile};
use crate::nat::{behind_nat, contact_ip, has_sdp, RelayMode};

/// Relayed calls remembered at most (each holds its Call-ID and the caller's tag); when
/// full, a new call goes unrelayed (logged).
pub const MAX_RELAYED_CALLS: usize = 65_536;

/// Which half of an offer/answer exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayOp {
    /// An offer (INVITE, re-INVITE, UPDATE): the relay opens or updates the call.
    Offer,
    /// An answer (18x, 2xx).
    Answer,
}

/// An offer or answer for the media relay (rtpengine `ng`'s `offer` and `answer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayQuery {
    /// Offer or answer.
    pub op: RelayOp,
    /// The Call-ID.
    pub call_id: String,
    /// The From tag of the request that carried the offer.
    pub from_tag: String,
    /// Its To tag (an answer's, or an in-dialog offer's).
    pub to_tag: Option<String>,
    /// The SDP as received.
    pub sdp: String,
    /// Where the party that wrote it sent its SIP from.
    pub signalled_from: SocketAddr,
    /// What the party that receives the rewritten SDP speaks: for an offer the callee,
    /// for an answer the caller.
    pub receiver: MediaProfile,
}

/// A relayed call ended: the server ends its media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayDelete {
    /// The Call-ID.
    pub call_id: String,
    /// The caller's From tag.
    pub from_tag: String,
}

struct Relayed {
    caller_tag: String,
    /// The call attempt (the initial INVITE's transaction) whose end ends the media.
    call: u64,
    /// What the caller speaks (its offer's SDP).
    caller_profile: MediaProfile,
    /// What the callee speaks (its binding's transport, then its answer's SDP).
    callee_profile: MediaProfile,
}

impl Relayed {
    /// The profile of the party that receives SDP written by the party with From tag
    /// `from_tag` in a request (`request`), or by the other one in a response.
    fn receiver(&self, from_tag: &str, request: bool) -> MediaProfile {
        let from_caller = from_tag == self.caller_tag;
        if from_caller == request {
            self.callee_profile
        } else {
            self.caller_profile
        }
    }
}

/// The calls whose media goes through the relay.
#[derive(Default)]
pub(super) struct RelayedCalls {
    by_call_id: HashMap<String, Relayed>,
    by_call: sip_transaction::IdMap<u64, String>,
}

impl RelayedCalls {
    /// Calls relayed now.
    pub(super) fn len(&self) -> usize {
        self.by_call_id.len()
    }
}

fn sdp_text(msg: &SipMessage) -> Option<String> {
    std::str::from_utf8(msg.body()).ok().map(str::to_string)
}

/// `msg` with `sdp` as its body.
fn with_body(msg: &SipMessage, sdp: &str) -> Option<SipMessage> {
    let mut ed = Editor::new(msg);
    ed.set_body(Some("application/sdp"), sdp.as_bytes());
    SipMessage::parse(bytes::Bytes::from(ed.to_vec())).ok()
}

impl Proxy {
    /// Calls whose media the relay carries now (a gauge).
    pub fn relayed_calls(&self) -> usize {
        self.relayed.len()
    }

    /// Request side: the request of `cx` goes on to `targets` now (`Some`), or waits for
    /// the relay's offer (`None`: parked).
    pub(super) fn relay_offer(
        &mut self,
        cx: RequestCtx,
        mut targets: Targets,
    ) -> Option<(RequestCtx, Targets)> {
        if self.cfg.relay == RelayMode::Never || cx.relay_done || !has_sdp(&cx.req) {
            return Some((cx, targets));
        }
        let method = cx.req.method();
        let call_id = cx.req.call_id().to_string();
        let initial = method == Method::Invite && cx.req.to_tag().is_none();
        let receiver = if initial {
            let caller =
                std::str::from_utf8(cx.req.body()).map_or(MediaProfile::Rtp, MediaProfile::of_sdp);
            let receiver = match self.bridge_wanted(&cx, &mut targets, caller) {
                Err(e) => {
                    self.answer(&cx, e.answer());
                    return None;
                }
                Ok(Some(receiver)) => receiver,
                Ok(None) if self.relay_wanted(&cx, &targets) => caller,
                Ok(None) => return Some((cx, targets)),
            };
            if self.relayed.len() >= MAX_RELAYED_CALLS {
                tracing::warn!(%call_id, "relay: too many relayed calls, this one goes direct");
                return Some((cx, targets));
            }
            receiver
        } else {
            let from_tag = cx.req.from_tag().unwrap_or("");
            match self.relayed.by_call_id.get(&call_id) {
                Some(r) if matches!(method, Method::Invite | Method::Update) => {
                    r.receiver(from_tag, true)
                }
                _ => return Some((cx, targets)),
            }
        };
        let Some(sdp) = sdp_text(&cx.req) else {
            return Some((cx, targets));
        };
        if !self.can_park() {
            self.answer(&cx, crate::error::CallError::Overloaded.answer());
            return None;
        }
        let query = Query::Relay(Box::new(RelayQuery {
            op: RelayOp::Offer,
            call_id,
            from_tag: cx.req.from_tag().unwrap_or("").to_string(),
            to_tag: cx.req.to_tag().map(str::to_string),
            sdp,
            signalled_from: cx.source.addr,
            receiver,
        }));
        self.park(
            Parked::Forward {
                cx: Box::new(cx),
                targets,
                query: query.clone(),
            },
            query,
        );
        None
    }

    /// True for a call to or from the service host: never relayed for NAT (the media
    /// engine is on this host), only bridged when the other side is a browser.
    fn touches_service(&self, cx: &RequestCtx, targets: &Targets) -> bool {
        let service = self.cfg.services.host.map(|h| h.addr);
        let to_service = targets
            .groups
            .iter()
            .flatten()
            .any(|t| Some(t.dest.addr) == service);
        Some(cx.source.addr) == service || to_service
    }

    /// Whether a new call joins a browser and a plain RTP phone: the profile its offer is
    /// to be turned into (`Some`), or `None` when no target needs that. Without a relay
    /// that can bridge them, the call is refused when every target needs it, and the
    /// targets that need it are left out when only some do (each logged). The service
    /// host (voicemail, conference, music on hold, announcements, park) is a plain RTP
    /// party here: its target is reached over UDP, its offers are `RTP/AVP`.
    fn bridge_wanted(
        &self,
        cx: &RequestCtx,
        targets: &mut Targets,
        caller: MediaProfile,
    ) -> Result<Option<MediaProfile>, CallError> {
        let call_id = cx.req.call_id();
        let service = self.touches_service(cx, targets);
        let dests = targets.groups.iter().flatten().map(|t| &t.dest);
        let (receiver, all) = match bridging(caller, dests) {
            Bridging::None => return Ok(None),
            Bridging::All(receiver) => (receiver, true),
            Bridging::Some(receiver) => (receiver, false),
        };
        if self.cfg.relay_bridges_webrtc {
            tracing::info!(
                %call_id,
                caller = ?caller,
                callee = ?receiver,
                every_target = all,
                service_host = service,
                "relay: a browser and an RTP phone in one call, media bridged"
            );
            return Ok(Some(receiver));
        }
        if all {
            tracing::warn!(
                %call_id,
                caller = ?caller,
                callee = ?receiver,
                service_host = service,
                "relay: a browser and an RTP phone cannot talk without [relay] backend = \"rtpengine\": call refused (488)"
            );
            return Err(CallError::NoWebRtcBridge);
        }
        tracing::warn!(
            %call_id,
            caller = ?caller,
            left_out = ?receiver,
            "relay: the callee's devices of the other media profile are not rung: bridging needs [relay] backend = \"rtpengine\""
        );
        for group in &mut targets.groups {
            group.retain(|t| MediaProfile::of_dest(&t.dest) == caller);
        }
        targets.groups.retain(|g| !g.is_empty());
        Ok(None)
    }

    /// Whether a new call is to be relayed: `always`, or a party behind NAT (the caller
    /// by its request, a callee by its binding: contact address other than its source).
    /// Calls to or from the service host never are.
    fn relay_wanted(&self, cx: &RequestCtx, targets: &Targets) -> bool {
        if self.touches_service(cx, targets) {
            return false;
        }
        if self.cfg.relay == RelayMode::Always {
            return true;
        }
        let caller = behind_nat(&cx.req, cx.source.addr.ip());
        let callee = targets.groups.iter().flatten().any(|t| {
            t.request_uri
                .as_deref()
                .and_then(contact_ip)
                .is_some_and(|ip| ip != t.dest.addr.ip())
        });
        if caller || callee {
            tracing::info!(
                call_id = %cx.req.call_id(),
                caller_nat = caller,
                callee_nat = callee,
                "relay: call behind NAT, media relayed"
            );
        }
        caller || callee
    }

    /// Response side: `resp` goes upstream now (`Some`), or waits for the relay's answer
    /// (`None`: parked).
    pub(super) fn relay_response(
        &mut self,
        fork_id: TransactionId,
        b: usize,
        resp: SipMessage,
    ) -> Option<SipMessage> {
        let status = resp.status();
        if self.cfg.relay == RelayMode::Never
            || !(101..300).contains(&status)
            || !has_sdp(&resp)
            || !matches!(resp.cseq().method, Method::Invite | Method::Update)
        {
            return Some(resp);
        }
        let from_tag = resp.from_tag().unwrap_or("");
        let Some(receiver) = self
            .relayed
            .by_call_id
            .get(resp.call_id())
            .map(|r| r.receiver(from_tag, false))
        else {
            return Some(resp);
        };
        let Some(sdp) = sdp_text(&resp) else {
            return Some(resp);
        };
        let Some(branch) = self.forks.get(&fork_id).and_then(|f| f.branches.get(b)) else {
            return Some(resp);
        };
        let signalled_from = branch.dest.addr;
        if branch.direct {
            // This branch got the caller's own SDP: its answer needs no relay, and once
            // it answers, the bridged offer to the others is dead.
            if (200..300).contains(&status) {
                self.relay_release(resp.call_id());
            }
            return Some(resp);
        }
        if let Some(r) = self.relayed.by_call_id.get_mut(resp.call_id()) {
            if from_tag == r.caller_tag {
                r.callee_profile = MediaProfile::of_sdp(&sdp);
            }
        }
        if !self.can_park() {
            tracing::warn!(call_id = %resp.call_id(), "relay: answer not relayed (overload)");
            return Some(resp);
        }
        let query = Query::Relay(Box::new(RelayQuery {
            op: RelayOp::Answer,
            call_id: resp.call_id().to_string(),
            from_tag: resp.from_tag().unwrap_or("").to_string(),
            to_tag: resp.to_tag().map(str::to_string),
            sdp,
            signalled_from,
            receiver,
        }));
        self.park(
            Parked::Response {
                fork_id,
                branch: b,
                resp: Box::new(resp),
                query: query.clone(),
            },
            query,
        );
        None
    }

    /// The relay answered a parked offer or answer: the request or response goes on.
    pub(super) fn relay_resumed(
        &mut self,
        now: Duration,
        wall: u64,
        parked: Parked,
        answer: QueryAnswer,
    ) {
        match parked {
            Parked::Forward {
                mut cx,
                mut targets,
                query,
            } => {
                if self.layer.state(cx.id).is_none() {
                    return; // the caller gave up meanwhile
                }
                cx.now = now;
                cx.wall = wall;
                cx.relay_done = true;
                match answer {
                    QueryAnswer::Sdp(sdp) => {
                        let Some(req) = with_body(&cx.req, &sdp) else {
                            self.answer(&cx, Answer::new(500, "Relay SDP Unusable"));
                            return;
                        };
                        cx.req = req;
                        if cx.req.to_tag().is_none() {
                            if let Query::Relay(q) = query {
                                let caller = MediaProfile::of_sdp(&q.sdp);
                                self.remember_relayed(&cx, caller, q.receiver);
                                let direct = DirectBranches {
                                    bridged_to: q.receiver,
                                    sdp: q.sdp,
                                };
                                let mixed = targets
                                    .groups
                                    .iter()
                                    .flatten()
                                    .any(|t| direct.applies_to(&t.dest));
                                if mixed {
                                    targets.direct = Some(Box::new(direct));
                                }
                            }
                        }
                        self.forward_now(*cx, targets);
                    }
                    QueryAnswer::Refused { status, reason } => {
                        tracing::warn!(
                            call_id = %cx.req.call_id(),
                            status,
                            %reason,
                            "relay refused the offer: call refused"
                        );
                        self.answer(&cx, Answer::new(status, "Media Relay Refused"));
                    }
                    _ => {
                        tracing::warn!(call_id = %cx.req.call_id(), "relay: no answer to the offer");
                        self.answer(&cx, Answer::new(503, "Media Relay Unavailable"));
                    }
                }
            }
            Parked::Response {
                fork_id,
                branch,
                resp,
                ..
            } => {
                let resp = *resp;
                let resp = match answer {
                    QueryAnswer::Sdp(sdp) => with_body(&resp, &sdp).unwrap_or(resp),
                    other => {
                        // The callee answered already: better its SDP as it is than no call.
                        tracing::warn!(
                            call_id = %resp.call_id(),
                            answer = ?other,
                            "relay refused the answer: forwarded unrelayed"
                        );
                        resp
                    }
                };
                self.branch_response_relayed(now, fork_id, branch, resp);
            }
            _ => {}
        }
    }

    fn remember_relayed(&mut self, cx: &RequestCtx, caller: MediaProfile, callee: MediaProfile) {
        let call_id = cx.req.call_id().to_string();
        let call = cx.id.get();
        self.relayed.by_call.insert(call, call_id.clone());
        self.relayed.by_call_id.insert(
            call_id,
            Relayed {
                caller_tag: cx.req.from_tag().unwrap_or("").to_string(),
                call,
                caller_profile: caller,
                callee_profile: callee,
            },
        );
    }

    /// A partly bridged call was answered by a branch that needs no relay: its media
    /// ends now (the call is no longer relayed).
    fn relay_release(&mut self, call_id: &str) {
        if let Some(r) = self.relayed.by_call_id.remove(call_id) {
            self.relayed.by_call.remove(&r.call);
            tracing::info!(%call_id, "relay: answered by a device of the caller's profile, relay released");
            self.outbox.push(Output::RelayDelete(RelayDelete {
                call_id: call_id.to_string(),
                from_tag: r.caller_tag,
            }));
        }
    }

    /// A call attempt ended (failure, CANCEL, BYE): a relayed call's media ends with it.
    pub(super) fn relay_finished(&mut self, call: u64) {
        let Some(call_id) = self.relayed.by_call.remove(&call) else {
            return;
        };
        match self.relayed.by_call_id.remove(&call_id) {
            Some(r) if r.call == call => self.outbox.push(Output::RelayDelete(RelayDelete {
                call_id,
                from_tag: r.caller_tag,
            })),
            Some(r) => {
                // A later attempt with the same Call-ID holds it now.
                self.relayed.by_call_id.insert(call_id, r);
            }
            None => {}
        }
    }
}
