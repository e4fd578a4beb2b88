//! Call events: the typed stream of what happened to each call attempt (an initial INVITE),
//! from `Started` to `Answered` or `Failed`, and for an answered call to `Ended`.
//!
//! The proxy reports each fact once, at the place it happens, through [`CallEvents`]; the
//! operator log lines (`call setup|answered|failed|ended`, [`crate::oplog`]) and the call
//! metrics (set-up time, duration) are written here from the same event, and the event then
//! waits in a bounded queue for the server (as [`crate::Output::CallEvent`]), whose call
//! records (CDRs) are a fold of the stream. Nothing about a call is computed twice.
//!
//! This module owns the event types, the table of calls in set-up (what the log lines need
//! of them) and the queue. It does not decide anything about routing, and it does not know
//! answered calls (the dialog table does, and reports their end).

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use model::AddressOfRecord;
use sip_message::SipMessage;

use crate::destination::Destination;
use crate::metrics::Metrics;
pub use crate::oplog::Hangup;

/// Events waiting for the server at most; past that, new events are dropped and counted.
pub const MAX_QUEUED_EVENTS: usize = 65_536;

/// Calls in set-up tracked at most (each holds its Call-ID, From and To for the log lines).
/// A call whose final answer is never seen is forgotten when the table is full.
pub const MAX_CALLS_IN_SETUP: usize = 1 << 18;

/// One call attempt, the same in all of its events: the number of the INVITE's server
/// transaction, unique within one [`crate::Proxy`] (two attempts may share a Call-ID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallRef(pub u64);

impl fmt::Display for CallRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}", self.0)
    }
}

/// Why a call went somewhere else than where it was dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetargetCause {
    /// Unconditional forwarding (RFC 5359 §2.7).
    Always,
    /// Busy forwarding (§2.8).
    Busy,
    /// No-answer forwarding (§2.9).
    NoAnswer,
    /// Unavailable forwarding (not registered or not reachable).
    Unavailable,
    /// The next step of a find-me list (§2.12).
    FindMe,
}

impl RetargetCause {
    /// The name used in logs, call records and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            RetargetCause::Always => "always",
            RetargetCause::Busy => "busy",
            RetargetCause::NoAnswer => "no-answer",
            RetargetCause::Unavailable => "unavailable",
            RetargetCause::FindMe => "find-me",
        }
    }

    /// The cause a name (from [`RetargetCause::as_str`]) stands for.
    pub fn parse(s: &str) -> Option<RetargetCause> {
        [
            RetargetCause::Always,
            RetargetCause::Busy,
            RetargetCause::NoAnswer,
            RetargetCause::Unavailable,
            RetargetCause::FindMe,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// How a call ended, for the proxy's own followers (dialog state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finished {
    /// Its final answer was a failure with this status.
    Failed(u16),
    /// The answered call ended.
    Ended(Hangup),
}

/// What is known of a call when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStart {
    /// The Call-ID.
    pub call_id: String,
    /// The local user the caller authenticated as; None for a caller from outside (or
    /// with authentication off).
    pub identity: Option<AddressOfRecord>,
    /// The From URI, as the caller sent it.
    pub from: String,
    /// The Request-URI the caller dialled.
    pub dialled: String,
    /// Where the INVITE came from, `udp:192.0.2.7:5060`.
    pub source: String,
    /// False when the server answered the INVITE before routing it (a malformed request,
    /// a refused identity, overload): no `call setup` line is logged for it.
    pub routed: bool,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEventKind {
    /// A caller's INVITE arrived (after authentication) or was answered before routing.
    Started(Box<CallStart>),
    /// The first provisional answer above 100 (ringing, session progress) went upstream.
    Ringing,
    /// A 2xx went upstream: the call is up.
    Answered {
        /// The status sent (200 as a rule).
        status: u16,
    },
    /// The call was sent on to another target.
    Retargeted {
        /// Why.
        cause: RetargetCause,
        /// The new target (a local user `sip:bob@example.com` or an outside URI).
        target: String,
    },
    /// The call was sent to a PSTN gateway (once per gateway tried, in order: the last one
    /// is the gateway the call left through).
    Gateway {
        /// The gateway's name.
        name: String,
        /// The number dialled, after the domain's dial plan (`+4930123456`).
        translated: String,
        /// The Request-URI sent to the gateway (after its strip and prefix).
        target: String,
    },
    /// The caller got a final answer of 300 or more: the call ends here.
    Failed {
        /// The status sent.
        status: u16,
        /// Its reason phrase, when the server chose one (empty when the answer of a
        /// callee was relayed).
        reason: String,
    },
    /// An answered call ended.
    Ended {
        /// Who ended it.
        by: Hangup,
    },
}

/// One fact about one call attempt, at proxy time `at` (the clock of `handle_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    /// The call attempt.
    pub call: CallRef,
    /// When, on the proxy's clock.
    pub at: Duration,
    /// What happened.
    pub kind: CallEventKind,
}

/// A call in set-up: what its log lines and metrics need.
#[derive(Debug)]
struct Open {
    started: Duration,
    call_id: Box<str>,
    from: Box<str>,
    to: Box<str>,
    routed: bool,
    rang: bool,
}

/// The calls in set-up and the queue of events for the server.
#[derive(Debug, Default)]
pub(crate) struct CallEvents {
    open: sip_transaction::IdMap<u64, Open>,
    queue: VecDeque<CallEvent>,
    /// Calls that ended since the proxy last looked (`take_finished`).
    finished: Vec<(u64, Finished)>,
    /// Events dropped because the server did not drain the queue.
    pub dropped: u64,
    /// Events emitted.
    pub emitted: u64,
}

/// True for the INVITE that starts a call (not a re-INVITE inside one).
pub(crate) fn is_initial_invite(req: &SipMessage) -> bool {
    req.method() == sip_message::Method::Invite && req.to_tag().is_none()
}

impl CallEvents {
    fn push(&mut self, call: u64, at: Duration, kind: CallEventKind) {
        self.emitted += 1;
        // The end of a call, for the dialog state (`core/dialog_event.rs`), drained by the
        // proxy itself after every input.
        let end = match &kind {
            CallEventKind::Failed { status, .. } => Some(Finished::Failed(*status)),
            CallEventKind::Ended { by } => Some(Finished::Ended(*by)),
            _ => None,
        };
        if let Some(end) = end {
            if self.finished.len() < MAX_QUEUED_EVENTS {
                self.finished.push((call, end));
            }
        }
        if self.queue.len() >= MAX_QUEUED_EVENTS {
            self.dropped += 1;
            return;
        }
        self.queue.push_back(CallEvent {
            call: CallRef(call),
            at,
            kind,
        });
    }

    /// Calls that ended since the last call, and how.
    pub(crate) fn take_finished(&mut self) -> Vec<(u64, Finished)> {
        std::mem::take(&mut self.finished)
    }

    /// The next event for the server.
    pub(crate) fn poll(&mut self) -> Option<CallEvent> {
        self.queue.pop_front()
    }

    /// Events waiting for the server.
    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Calls in set-up.
    #[cfg(test)]
    pub(crate) fn in_setup(&self) -> usize {
        self.open.len()
    }

    /// A call attempt starts (once: later calls for the same attempt do nothing). A routed
    /// call logs `call setup`.
    pub(crate) fn started(
        &mut self,
        now: Duration,
        call: u64,
        req: &SipMessage,
        identity: Option<&AddressOfRecord>,
        source: &dyn fmt::Display,
        routed: bool,
    ) {
        if !is_initial_invite(req) || self.open.contains_key(&call) {
            return;
        }
        if self.open.len() >= MAX_CALLS_IN_SETUP {
            // Calls whose answer was never seen; the oldest of them go.
            let mut oldest: Vec<(Duration, u64)> =
                self.open.iter().map(|(k, o)| (o.started, *k)).collect();
            oldest.sort_unstable();
            for (_, k) in oldest.into_iter().take(MAX_CALLS_IN_SETUP / 16) {
                self.open.remove(&k);
            }
        }
        let from = req.from().map_or("", |f| f.uri.raw);
        let dialled = req.request_uri_str();
        if routed {
            crate::oplog::call_setup(req.call_id(), from, dialled, source);
        }
        let to = req.to().map_or("", |t| t.uri.raw);
        self.open.insert(
            call,
            Open {
                started: now,
                call_id: req.call_id().into(),
                from: from.into(),
                to: to.into(),
                routed,
                rang: false,
            },
        );
        let start = CallStart {
            call_id: req.call_id().to_string(),
            identity: identity.cloned(),
            from: from.to_string(),
            dialled: dialled.to_string(),
            source: source.to_string(),
            routed,
        };
        self.push(call, now, CallEventKind::Started(Box::new(start)));
    }

    /// A provisional answer above 100 went upstream.
    pub(crate) fn ringing(&mut self, now: Duration, call: u64) {
        if let Some(o) = self.open.get_mut(&call) {
            if !o.rang {
                o.rang = true;
                self.push(call, now, CallEventKind::Ringing);
            }
        }
    }

    /// The call was sent on to `target`.
    pub(crate) fn retargeted(
        &mut self,
        now: Duration,
        call: u64,
        cause: RetargetCause,
        target: &str,
    ) {
        if self.open.contains_key(&call) {
            let target = target.to_string();
            self.push(call, now, CallEventKind::Retargeted { cause, target });
        }
    }

    /// The call was sent to gateway `name` as `target`, `translated` being the number
    /// after the dial plan.
    pub(crate) fn gateway(
        &mut self,
        now: Duration,
        call: u64,
        name: &str,
        translated: &str,
        target: &str,
    ) {
        if self.open.contains_key(&call) {
            let kind = CallEventKind::Gateway {
                name: name.to_string(),
                translated: translated.to_string(),
                target: target.to_string(),
            };
            self.push(call, now, kind);
        }
    }

    /// A final answer to `req` went to the caller. Only a call attempt's first final
    /// answer counts; challenges (401/407) are steps of the set-up, not its end. A call
    /// answered before it was started (refused before routing) starts here, from `source`
    /// (the server's own answers give it; relayed answers belong to started calls).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn result(
        &mut self,
        now: Duration,
        call: u64,
        req: &SipMessage,
        status: u16,
        reason: Option<&str>,
        source: Option<&Destination>,
        identity: Option<&AddressOfRecord>,
        metrics: &mut Metrics,
    ) {
        if status < 200 || matches!(status, 401 | 407) || !is_initial_invite(req) {
            return;
        }
        if !self.open.contains_key(&call) {
            // Without a source this is the answer of a call already over (or never ours).
            let Some(source) = source else { return };
            self.started(now, call, req, identity, source, false);
        }
        let Some(o) = self.open.remove(&call) else {
            return;
        };
        crate::oplog::call_result(&o.call_id, &o.from, &o.to, status);
        if o.routed {
            metrics.call_setup(now.saturating_sub(o.started));
        }
        let kind = if (200..300).contains(&status) {
            CallEventKind::Answered { status }
        } else {
            CallEventKind::Failed {
                status,
                reason: reason.unwrap_or("").to_string(),
            }
        };
        self.push(call, now, kind);
    }

    /// An answered call ended after `lasted`.
    pub(crate) fn ended(
        &mut self,
        now: Duration,
        call: u64,
        call_id: &str,
        lasted: Duration,
        by: Hangup,
        metrics: &mut Metrics,
    ) {
        metrics.call_duration(lasted);
        crate::oplog::call_ended(call_id, lasted.as_secs_f64(), by);
        self.push(call, now, CallEventKind::Ended { by });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn invite(to_tag: bool) -> SipMessage {
        let tag = if to_tag { ";tag=b" } else { "" };
        let text = format!(
            "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n\
             From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>{tag}\r\n\
             Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        );
        SipMessage::parse(Bytes::from(text)).unwrap()
    }

    const S: Duration = Duration::from_secs(1);

    fn kinds(ev: &mut CallEvents) -> Vec<CallEventKind> {
        std::iter::from_fn(|| ev.poll()).map(|e| e.kind).collect()
    }

    #[test]
    fn a_call_starts_once_rings_once_and_ends_with_its_first_final_answer() {
        let mut ev = CallEvents::default();
        let mut m = Metrics::default();
        let req = invite(false);
        let alice = AddressOfRecord::new("alice", "example.com");
        ev.started(S, 7, &req, Some(&alice), &"udp:192.0.2.7:5060", true);
        ev.started(S, 7, &req, None, &"udp:192.0.2.7:5060", true);
        ev.ringing(2 * S, 7);
        ev.ringing(2 * S, 7);
        ev.result(3 * S, 7, &req, 407, None, None, None, &mut m);
        ev.result(3 * S, 7, &req, 486, Some("Busy Here"), None, None, &mut m);
        ev.result(4 * S, 7, &req, 500, None, None, None, &mut m);
        let k = kinds(&mut ev);
        assert_eq!(k.len(), 3, "{k:?}");
        let CallEventKind::Started(s) = &k[0] else {
            panic!("{k:?}")
        };
        assert_eq!(s.identity.as_ref(), Some(&alice));
        assert_eq!(s.dialled, "sip:bob@example.com");
        assert_eq!(s.source, "udp:192.0.2.7:5060");
        assert_eq!(k[1], CallEventKind::Ringing);
        assert_eq!(
            k[2],
            CallEventKind::Failed {
                status: 486,
                reason: "Busy Here".into()
            }
        );
        assert_eq!(ev.in_setup(), 0);
    }

    #[test]
    fn a_call_refused_before_routing_starts_and_fails_together() {
        let mut ev = CallEvents::default();
        let mut m = Metrics::default();
        let src = Destination {
            transport: crate::destination::Transport::Udp,
            addr: "192.0.2.7:5060".parse().unwrap(),
            conn: None,
        };
        let req = invite(false);
        ev.result(S, 9, &req, 403, Some("Forbidden"), Some(&src), None, &mut m);
        ev.result(S, 9, &req, 500, None, None, None, &mut m);
        let k = kinds(&mut ev);
        assert_eq!(k.len(), 2, "{k:?}");
        assert!(
            matches!(&k[0], CallEventKind::Started(s) if !s.routed && s.source == "udp:192.0.2.7:5060")
        );
        assert!(matches!(&k[1], CallEventKind::Failed { status: 403, .. }));
    }

    #[test]
    fn re_invites_are_no_calls_and_the_queue_is_bounded() {
        let mut ev = CallEvents::default();
        let mut m = Metrics::default();
        let re = invite(true);
        ev.started(S, 1, &re, None, &"-", true);
        ev.result(S, 1, &re, 200, None, None, None, &mut m);
        assert_eq!(ev.queued(), 0);
        for i in 0..MAX_QUEUED_EVENTS as u64 + 5 {
            ev.ended(S, i, "c", S, Hangup::Caller, &mut m);
        }
        assert_eq!(ev.queued(), MAX_QUEUED_EVENTS);
        assert_eq!(ev.dropped, 5);
    }

    #[test]
    fn gateway_attempts_of_a_call_in_setup_are_reported() {
        let mut ev = CallEvents::default();
        let req = invite(false);
        ev.gateway(S, 3, "gw-a", "+4930123", "sip:30123@127.0.0.1:5070");
        ev.started(S, 3, &req, None, &"-", true);
        ev.gateway(S, 3, "gw-a", "+4930123", "sip:30123@127.0.0.1:5070");
        let k = kinds(&mut ev);
        assert_eq!(k.len(), 2, "{k:?}");
        assert_eq!(
            k[1],
            CallEventKind::Gateway {
                name: "gw-a".into(),
                translated: "+4930123".into(),
                target: "sip:30123@127.0.0.1:5070".into(),
            }
        );
    }

    #[test]
    fn causes_have_names_both_ways() {
        for c in [
            RetargetCause::Always,
            RetargetCause::Busy,
            RetargetCause::NoAnswer,
            RetargetCause::Unavailable,
            RetargetCause::FindMe,
        ] {
            assert_eq!(RetargetCause::parse(c.as_str()), Some(c));
        }
        assert_eq!(RetargetCause::parse("x"), None);
    }
}
