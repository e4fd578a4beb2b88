//! The call record of each call attempt, folded from the proxy's call events: a pure
//! function of the event stream and the wall-clock time of the proxy's clock zero, so it
//! is tested on a virtual clock.
//!
//! A record is written (handed out to be saved) when its call fails (complete), when it
//! is answered (an open row: no end yet, so a crash mid-call leaves it behind, never a
//! lost call) and when an answered call ends (the same row, complete). Calls in set-up and
//! answered calls wait here, at most [`Fold::new`]'s bound; past it the oldest is given up
//! (its record as it stands is written) and counted.

use std::collections::HashMap;

use model::CallRecord;
use proxy::events::{CallEvent, CallEventKind, Hangup};

/// Builds call records from call events.
#[derive(Debug)]
pub struct Fold {
    /// Prefix of every record id: unique per server run.
    run: String,
    /// Unix milliseconds at the proxy's clock zero.
    origin_ms: u64,
    open: HashMap<u64, CallRecord>,
    max_open: usize,
    /// Calls given up because too many were open.
    pub evicted: u64,
    /// Events about a call not known here (given up, or from before this run).
    pub orphans: u64,
}

impl Fold {
    /// A fold for the run `run` whose proxy clock started at `origin_ms`, keeping at most
    /// `max_open` calls open.
    pub fn new(run: &str, origin_ms: u64, max_open: usize) -> Fold {
        Fold {
            run: run.to_string(),
            origin_ms,
            open: HashMap::new(),
            max_open: max_open.max(1),
            evicted: 0,
            orphans: 0,
        }
    }

    /// Calls open now (in set-up or answered).
    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.open.len()
    }

    /// Applies one event; `out` receives the records to save now (in order).
    pub fn apply(&mut self, ev: &CallEvent, out: &mut Vec<CallRecord>) {
        let at = self.origin_ms + u64::try_from(ev.at.as_millis()).unwrap_or(u64::MAX / 2);
        let call = ev.call.0;
        if let CallEventKind::Started(s) = &ev.kind {
            if self.open.len() >= self.max_open {
                self.give_up_oldest(out);
            }
            let rec = CallRecord {
                id: format!("{}-{}", self.run, ev.call),
                call_id: s.call_id.clone(),
                caller: s.identity.as_ref().map(|a| a.to_string()),
                caller_from: s.from.clone(),
                dialled: s.dialled.clone(),
                translated: s.dialled.clone(),
                target: s.dialled.clone(),
                source: s.source.clone(),
                started_ms: at,
                ..CallRecord::default()
            };
            self.open.insert(call, rec);
            return;
        }
        let Some(rec) = self.open.get_mut(&call) else {
            self.orphans += 1;
            return;
        };
        match &ev.kind {
            CallEventKind::Started(_) | CallEventKind::Ringing => {}
            CallEventKind::Retargeted { cause, target } => {
                rec.chain.push((cause.as_str().to_string(), target.clone()));
                rec.target = target.clone();
            }
            CallEventKind::Gateway {
                name,
                translated,
                target,
            } => {
                rec.gateway = Some(name.clone());
                rec.translated = translated.clone();
                rec.target = target.clone();
            }
            CallEventKind::Answered { status } => {
                rec.status = *status;
                rec.answered_ms = Some(at);
                out.push(rec.clone());
            }
            CallEventKind::Failed { status, reason } => {
                rec.status = *status;
                rec.reason = reason.clone();
                rec.ended_ms = Some(at);
                // A 487 answers the caller's own CANCEL.
                if *status == 487 {
                    rec.hangup = Some(Hangup::Caller.as_str().to_string());
                }
                if let Some(rec) = self.open.remove(&call) {
                    out.push(rec);
                }
            }
            CallEventKind::Ended { by } => {
                rec.ended_ms = Some(at);
                rec.duration_ms = rec.answered_ms.map(|a| at.saturating_sub(a));
                rec.hangup = Some(by.as_str().to_string());
                if let Some(rec) = self.open.remove(&call) {
                    out.push(rec);
                }
            }
        }
    }

    /// Writes the oldest open call as it stands and forgets it.
    fn give_up_oldest(&mut self, out: &mut Vec<CallRecord>) {
        let oldest = self
            .open
            .iter()
            .min_by_key(|(_, r)| r.started_ms)
            .map(|(k, _)| *k);
        if let Some(rec) = oldest.and_then(|k| self.open.remove(&k)) {
            self.evicted += 1;
            if rec.status != 0 {
                out.push(rec);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use model::AddressOfRecord;
    use proxy::events::{CallRef, CallStart, RetargetCause};

    use super::*;

    const T0: u64 = 1_700_000_000_000;
    const S: Duration = Duration::from_secs(1);

    fn ev(call: u64, at: Duration, kind: CallEventKind) -> CallEvent {
        CallEvent {
            call: CallRef(call),
            at,
            kind,
        }
    }

    fn started(call: u64, at: Duration) -> CallEvent {
        ev(
            call,
            at,
            CallEventKind::Started(Box::new(CallStart {
                call_id: format!("c{call}"),
                identity: Some(AddressOfRecord::new("alice", "example.com")),
                from: "sip:alice@example.com".into(),
                dialled: "sip:bob@example.com".into(),
                source: "udp:192.0.2.7:5060".into(),
                routed: true,
            })),
        )
    }

    fn run(fold: &mut Fold, events: &[CallEvent]) -> Vec<CallRecord> {
        let mut out = Vec::new();
        for e in events {
            fold.apply(e, &mut out);
        }
        out
    }

    #[test]
    fn an_answered_call_is_written_at_the_answer_then_at_its_end() {
        let mut f = Fold::new("r", T0, 10);
        let out = run(
            &mut f,
            &[
                started(1, S),
                ev(1, 2 * S, CallEventKind::Ringing),
                ev(1, 4 * S, CallEventKind::Answered { status: 200 }),
            ],
        );
        assert_eq!(out.len(), 1);
        let open = &out[0];
        assert_eq!(open.id, "r-1");
        assert_eq!(open.caller.as_deref(), Some("alice@example.com"));
        assert_eq!(open.started_ms, T0 + 1000);
        assert_eq!(open.answered_ms, Some(T0 + 4000));
        assert_eq!(
            (open.ended_ms, open.duration_ms, open.status),
            (None, None, 200)
        );
        let out = run(
            &mut f,
            &[ev(1, 64 * S, CallEventKind::Ended { by: Hangup::Callee })],
        );
        assert_eq!(out[0].id, "r-1");
        assert_eq!(out[0].ended_ms, Some(T0 + 64_000));
        assert_eq!(out[0].duration_ms, Some(60_000));
        assert_eq!(out[0].hangup.as_deref(), Some("callee"));
        assert_eq!(f.open(), 0);
    }

    #[test]
    fn a_forwarded_busy_call_keeps_its_chain_and_is_written_once() {
        let mut f = Fold::new("r", T0, 10);
        let out = run(
            &mut f,
            &[
                started(2, S),
                ev(
                    2,
                    2 * S,
                    CallEventKind::Retargeted {
                        cause: RetargetCause::Busy,
                        target: "sip:carol@example.com".into(),
                    },
                ),
                ev(
                    2,
                    3 * S,
                    CallEventKind::Failed {
                        status: 486,
                        reason: "Busy Here".into(),
                    },
                ),
            ],
        );
        assert_eq!(out.len(), 1);
        let r = &out[0];
        assert_eq!(r.target, "sip:carol@example.com");
        assert_eq!(r.dialled, "sip:bob@example.com");
        assert_eq!(r.chain, [("busy".into(), "sip:carol@example.com".into())]);
        assert_eq!((r.status, r.reason.as_str()), (486, "Busy Here"));
        assert_eq!(r.ended_ms, Some(T0 + 3000));
        assert_eq!(
            (r.answered_ms, r.duration_ms, r.hangup.clone()),
            (None, None, None)
        );
    }

    #[test]
    fn a_failed_over_gateway_call_names_the_last_gateway_and_the_translated_number() {
        let mut f = Fold::new("r", T0, 10);
        let gw = |name: &str, uri: &str| CallEventKind::Gateway {
            name: name.into(),
            translated: "+4930123456".into(),
            target: uri.into(),
        };
        let out = run(
            &mut f,
            &[
                started(4, S),
                ev(4, S, gw("gw-a", "sip:030123456@127.0.0.1:5070")),
                ev(4, 2 * S, gw("gw-b", "sip:4930123456@127.0.0.1:5080")),
                ev(4, 3 * S, CallEventKind::Answered { status: 200 }),
            ],
        );
        assert_eq!(out.len(), 1);
        let r = &out[0];
        assert_eq!(r.gateway.as_deref(), Some("gw-b"));
        assert_eq!(r.translated, "+4930123456");
        assert_eq!(r.target, "sip:4930123456@127.0.0.1:5080");
        assert_eq!(r.dialled, "sip:bob@example.com");
        assert_eq!(r.status, 200);
        assert!(r.chain.is_empty());
    }

    #[test]
    fn a_call_that_never_reached_a_gateway_has_none() {
        let mut f = Fold::new("r", T0, 10);
        let failed = CallEventKind::Failed {
            status: 503,
            reason: "All Gateways Down".into(),
        };
        let out = run(&mut f, &[started(5, S), ev(5, S, failed)]);
        assert_eq!(out[0].gateway, None);
        assert_eq!(out[0].translated, "sip:bob@example.com");
    }

    #[test]
    fn a_cancelled_call_was_hung_up_by_the_caller() {
        let mut f = Fold::new("r", T0, 10);
        let out = run(
            &mut f,
            &[
                started(3, S),
                ev(
                    3,
                    2 * S,
                    CallEventKind::Failed {
                        status: 487,
                        reason: String::new(),
                    },
                ),
            ],
        );
        assert_eq!(out[0].hangup.as_deref(), Some("caller"));
    }

    #[test]
    fn bounded_and_orphans_counted() {
        let mut f = Fold::new("r", T0, 2);
        let mut out = run(
            &mut f,
            &[
                started(1, S),
                ev(1, S, CallEventKind::Answered { status: 200 }),
                started(2, 2 * S),
                started(3, 3 * S),
            ],
        );
        // The answered call 1 was the oldest: written at its answer, given up for call 3.
        assert_eq!(f.evicted, 1);
        assert_eq!(f.open(), 2);
        assert_eq!(out.len(), 2);
        out.clear();
        f.apply(
            &ev(1, 9 * S, CallEventKind::Ended { by: Hangup::Caller }),
            &mut out,
        );
        assert!(out.is_empty());
        assert_eq!(f.orphans, 1);
    }
}
