//! Click-to-dial attempts the portal started, and their progress: the REFER's answer
//! (from the proxy, by the attempt's number) and then the call the phone placed, matched
//! by its caller (the user) and its dialled URI (the target) among the proxy's call
//! events, then followed by its call reference.
//!
//! The table is bounded ([`MAX_DIALS`]); an attempt is forgotten [`KEEP`] after it began.
//! Sending the REFER is the proxy's (`core/click_to_dial.rs`); showing progress is the
//! portal's.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use model::AddressOfRecord;
use parking_lot::Mutex;
use portal::{DialProgress, DialStep};
use proxy::events::{CallEvent, CallEventKind, CallRef};

/// Most attempts followed at once; beyond it the oldest is forgotten.
pub const MAX_DIALS: usize = 1024;
/// How long an attempt is followed.
pub const KEEP: Duration = Duration::from_secs(600);

struct Dial {
    user: AddressOfRecord,
    began: Instant,
    call: Option<CallRef>,
    progress: DialProgress,
}

/// The attempts, by number.
#[derive(Default)]
pub struct Dials {
    table: Mutex<(u64, HashMap<u64, Dial>)>,
}

/// `sip:bob@Example.com;user=phone` as `bob@example.com` (what two URIs of one target
/// share).
fn uri_key(uri: &str) -> String {
    let rest = uri
        .trim()
        .trim_start_matches('<')
        .strip_prefix("sips:")
        .or_else(|| uri.trim().trim_start_matches('<').strip_prefix("sip:"))
        .unwrap_or(uri);
    let end = rest.find([';', '?', '>']).unwrap_or(rest.len());
    let rest = &rest[..end];
    match rest.rsplit_once('@') {
        Some((user, host)) => {
            let host = host.split(':').next().unwrap_or(host);
            format!("{user}@{}", host.to_ascii_lowercase())
        }
        None => rest.to_ascii_lowercase(),
    }
}

impl Dials {
    /// A new attempt of `user` calling `target` from `phone`; its number.
    pub fn begin(&self, user: &AddressOfRecord, target: &str, phone: &str) -> u64 {
        let mut g = self.table.lock();
        let now = Instant::now();
        g.1.retain(|_, d| now.duration_since(d.began) < KEEP);
        if g.1.len() >= MAX_DIALS {
            if let Some(oldest) = g.1.iter().min_by_key(|(_, d)| d.began).map(|(k, _)| *k) {
                g.1.remove(&oldest);
            }
        }
        g.0 += 1;
        let id = g.0;
        g.1.insert(
            id,
            Dial {
                user: user.clone(),
                began: now,
                call: None,
                progress: DialProgress {
                    target: target.to_string(),
                    phone: phone.to_string(),
                    step: DialStep::Referring,
                },
            },
        );
        id
    }

    /// The phone the REFER of attempt `id` went to.
    pub fn set_phone(&self, id: u64, contact: &str) {
        if let Some(d) = self.table.lock().1.get_mut(&id) {
            d.progress.phone = contact.to_string();
        }
    }

    /// Forgets an attempt whose REFER was never sent.
    pub fn forget(&self, id: u64) {
        self.table.lock().1.remove(&id);
    }

    /// Attempt `id` of `user`, if theirs.
    pub fn progress(&self, user: &AddressOfRecord, id: u64) -> Option<DialProgress> {
        let g = self.table.lock();
        g.1.get(&id)
            .filter(|d| &d.user == user)
            .map(|d| d.progress.clone())
    }

    /// The phone answered attempt `id`'s REFER.
    pub fn refer_answered(&self, id: u64, status: u16) {
        if let Some(d) = self.table.lock().1.get_mut(&id) {
            if d.progress.step == DialStep::Referring {
                d.progress.step = if (200..300).contains(&status) {
                    DialStep::Accepted(status)
                } else {
                    DialStep::Refused(status)
                };
            }
        }
    }

    /// Follows a call event: a new call from an attempt's user to its target becomes
    /// the attempt's call; that call's later events move it on.
    pub fn observe(&self, ev: &CallEvent) {
        let mut g = self.table.lock();
        if g.1.is_empty() {
            return;
        }
        if let CallEventKind::Started(start) = &ev.kind {
            let caller = start
                .identity
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_else(|| uri_key(&start.from));
            let dialled = uri_key(&start.dialled);
            let waiting = g.1.values_mut().find(|d| {
                d.call.is_none()
                    && matches!(d.progress.step, DialStep::Referring | DialStep::Accepted(_))
                    && d.user.to_string() == caller
                    && uri_key(&d.progress.target) == dialled
            });
            if let Some(d) = waiting {
                d.call = Some(ev.call);
                d.progress.step = DialStep::Calling;
            }
            return;
        }
        let Some(d) = g.1.values_mut().find(|d| d.call == Some(ev.call)) else {
            return;
        };
        let step = match &ev.kind {
            CallEventKind::Ringing => DialStep::Ringing,
            CallEventKind::Answered { .. } => DialStep::Answered,
            CallEventKind::Failed { status, .. } => DialStep::Failed(*status),
            CallEventKind::Ended { .. } => DialStep::Ended,
            _ => return,
        };
        d.progress.step = step;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proxy::events::CallStart;

    fn ev(call: u64, kind: CallEventKind) -> CallEvent {
        CallEvent {
            call: CallRef(call),
            at: Duration::ZERO,
            kind,
        }
    }

    #[test]
    fn the_refer_then_the_call_it_placed() {
        let dials = Dials::default();
        let alice = AddressOfRecord::new("alice", "example.com");
        let id = dials.begin(&alice, "sip:bob@example.com", "sip:alice@127.0.0.1:5070");
        assert_eq!(
            dials.progress(&alice, id).unwrap().step,
            DialStep::Referring
        );
        let bob = AddressOfRecord::new("bob", "example.com");
        assert!(dials.progress(&bob, id).is_none(), "not Bob's");
        dials.refer_answered(id, 202);
        assert_eq!(
            dials.progress(&alice, id).unwrap().step,
            DialStep::Accepted(202)
        );
        // Another call of Alice's is not this one.
        let start = |dialled: &str| {
            CallEventKind::Started(Box::new(CallStart {
                call_id: "c".into(),
                identity: None,
                from: "sip:alice@example.com".into(),
                dialled: dialled.into(),
                source: "udp:127.0.0.1:5070".into(),
                routed: true,
            }))
        };
        dials.observe(&ev(1, start("sip:carol@example.com")));
        dials.observe(&ev(2, start("sip:bob@EXAMPLE.com;user=phone")));
        dials.observe(&ev(1, CallEventKind::Ringing));
        assert_eq!(dials.progress(&alice, id).unwrap().step, DialStep::Calling);
        dials.observe(&ev(2, CallEventKind::Ringing));
        assert_eq!(dials.progress(&alice, id).unwrap().step, DialStep::Ringing);
        dials.observe(&ev(2, CallEventKind::Answered { status: 200 }));
        assert_eq!(dials.progress(&alice, id).unwrap().step, DialStep::Answered);
    }

    #[test]
    fn a_refused_refer_stays_refused() {
        let dials = Dials::default();
        let alice = AddressOfRecord::new("alice", "example.com");
        let id = dials.begin(&alice, "sip:2000@example.com", "c");
        dials.refer_answered(id, 603);
        assert_eq!(
            dials.progress(&alice, id).unwrap().step,
            DialStep::Refused(603)
        );
    }
}
