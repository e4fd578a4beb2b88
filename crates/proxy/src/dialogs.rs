//! Which calls are up: dialogs established through the proxy (a 2xx to an INVITE went
//! upstream) and not yet ended by a BYE. For the `switchboard_dialogs_active` gauge and
//! the call-duration histogram; routing never depends on it (the proxy record-routes and
//! keeps no dialog state it needs).
//!
//! A dialog is found by a keyed 64-bit hash of its Call-ID and its two tags (in either
//! order, so a BYE from either side finds it), in a bounded table; it keeps its Call-ID
//! and call attempt for the call's `Ended` event ([`crate::events`]). A dialog whose BYE
//! the proxy never sees (a phone lost power) is forgotten after [`MAX_AGE`] (the call
//! ended by timeout), and the oldest is forgotten when the table is full (by the server).

use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash, Hasher};
use std::time::Duration;

/// Most dialogs remembered.
pub(crate) const MAX_DIALOGS: usize = 1 << 20;

/// A dialog older than this is taken to have ended unseen (Kamailio's dialog module
/// default lifetime is also 12 hours).
pub(crate) const MAX_AGE: Duration = Duration::from_secs(12 * 3600);

/// How a dialog left the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// A BYE, after the dialog had lasted `lasted`; `by_caller` when its From tag is the
    /// caller's (the party that sent the INVITE hung up).
    Bye {
        /// How long the call was up.
        lasted: Duration,
        /// The caller sent the BYE.
        by_caller: bool,
        /// The call attempt it was ([`crate::events::CallRef`]).
        call: u64,
    },
    /// Not found (never established through us, or already forgotten).
    Unknown,
}

/// A dialog that left the table without a BYE: its call attempt, Call-ID, how long it had
/// lasted, and why (its age: timeout; the table full: server).
pub(crate) type Gone = (u64, Box<str>, Duration, crate::oplog::Hangup);

/// One established dialog.
#[derive(Debug)]
struct Live {
    /// When the 2xx went upstream.
    at: Duration,
    /// A hash of the caller's tag (who hung up).
    caller: u32,
    /// The call attempt ([`crate::events::CallRef`]) and its Call-ID, for its end event.
    call: u64,
    call_id: Box<str>,
}

/// The table of established dialogs.
#[derive(Debug)]
pub(crate) struct Dialogs {
    hasher: RandomState,
    /// Keyed by a SipHash of the dialog's identifiers (`hasher`), so a cheap mix suffices.
    live: sip_transaction::IdMap<u64, Live>,
    /// Dialogs forgotten unseen since the last [`Dialogs::take_gone`].
    gone: Vec<Gone>,
    /// Establishment order, for expiry; may hold keys already ended (skipped lazily).
    order: VecDeque<(u64, Duration)>,
    max: usize,
    /// Dialogs forgotten unseen (age or table bound).
    pub expired: u64,
    /// Dialogs established.
    pub started: u64,
}

impl Dialogs {
    pub(crate) fn new(max: usize) -> Self {
        Dialogs {
            hasher: RandomState::new(),
            live: Default::default(),
            gone: Vec::new(),
            order: VecDeque::new(),
            max: max.max(1),
            expired: 0,
            started: 0,
        }
    }

    fn key(&self, call_id: &str, a: &str, b: &str) -> u64 {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let mut h = self.hasher.build_hasher();
        call_id.hash(&mut h);
        lo.hash(&mut h);
        hi.hash(&mut h);
        h.finish()
    }

    fn tag_hash(&self, tag: &str) -> u32 {
        self.hasher.hash_one(tag) as u32
    }

    /// A 2xx to an INVITE went upstream (a retransmission changes nothing).
    pub(crate) fn established(
        &mut self,
        now: Duration,
        call_id: &str,
        from_tag: &str,
        to_tag: &str,
        call: u64,
    ) {
        self.expire(now);
        let k = self.key(call_id, from_tag, to_tag);
        if self.live.contains_key(&k) {
            return;
        }
        while self.live.len() >= self.max {
            match self.order.pop_front() {
                Some((old, _)) => {
                    if let Some(d) = self.live.remove(&old) {
                        self.expired += 1;
                        let lasted = now.saturating_sub(d.at);
                        self.gone
                            .push((d.call, d.call_id, lasted, crate::oplog::Hangup::Server));
                    }
                }
                None => break,
            }
        }
        let caller = self.tag_hash(from_tag);
        self.live.insert(
            k,
            Live {
                at: now,
                caller,
                call,
                call_id: call_id.into(),
            },
        );
        self.order.push_back((k, now));
        self.started += 1;
    }

    /// A BYE of the dialog arrived.
    pub(crate) fn bye(
        &mut self,
        now: Duration,
        call_id: &str,
        from_tag: &str,
        to_tag: &str,
    ) -> Ended {
        let k = self.key(call_id, from_tag, to_tag);
        match self.live.remove(&k) {
            Some(d) => Ended::Bye {
                lasted: now.saturating_sub(d.at),
                by_caller: self.tag_hash(from_tag) == d.caller,
                call: d.call,
            },
            None => Ended::Unknown,
        }
    }

    /// Forgets dialogs older than [`MAX_AGE`].
    pub(crate) fn expire(&mut self, now: Duration) {
        while let Some(&(k, at)) = self.order.front() {
            if now.saturating_sub(at) < MAX_AGE && self.order.len() <= 2 * self.max {
                break;
            }
            self.order.pop_front();
            if self.live.get(&k).map(|v| v.at) == Some(at) {
                if let Some(d) = self.live.remove(&k) {
                    self.expired += 1;
                    let lasted = now.saturating_sub(d.at);
                    self.gone
                        .push((d.call, d.call_id, lasted, crate::oplog::Hangup::Timeout));
                }
            }
        }
    }

    /// Dialogs forgotten without a BYE since the last call.
    pub(crate) fn take_gone(&mut self) -> Vec<Gone> {
        std::mem::take(&mut self.gone)
    }

    /// Dialogs up now.
    pub(crate) fn len(&mut self, now: Duration) -> usize {
        self.expire(now);
        self.live.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn bye_from_either_side_ends_the_dialog_once() {
        let mut d = Dialogs::new(10);
        d.established(S, "c1", "alice", "bob", 1);
        d.established(S, "c1", "alice", "bob", 1); // 2xx retransmission
        assert_eq!(d.len(S), 1);
        assert_eq!(d.started, 1);
        assert_eq!(
            d.bye(5 * S, "c1", "bob", "alice"),
            Ended::Bye {
                lasted: 4 * S,
                by_caller: false,
                call: 1
            }
        );
        assert_eq!(d.bye(5 * S, "c1", "alice", "bob"), Ended::Unknown);
        assert_eq!(d.len(5 * S), 0);
    }

    #[test]
    fn other_call_or_tags_do_not_match() {
        let mut d = Dialogs::new(10);
        d.established(S, "c1", "a", "b", 1);
        assert_eq!(d.bye(S, "c2", "a", "b"), Ended::Unknown);
        assert_eq!(d.bye(S, "c1", "a", "x"), Ended::Unknown);
        assert_eq!(d.len(S), 1);
    }

    #[test]
    fn bounded_and_aged() {
        let mut d = Dialogs::new(2);
        d.established(S, "c1", "a", "b", 1);
        d.established(S, "c2", "a", "b", 1);
        d.established(S, "c3", "a", "b", 1);
        assert_eq!(d.len(S), 2);
        assert_eq!(d.expired, 1);
        assert_eq!(d.bye(S, "c1", "a", "b"), Ended::Unknown);
        assert_eq!(d.len(MAX_AGE + 2 * S), 0);
        assert_eq!(d.expired, 3);
        let why: Vec<_> = d.take_gone().into_iter().map(|g| g.3).collect();
        use crate::oplog::Hangup;
        assert_eq!(why, [Hangup::Server, Hangup::Timeout, Hangup::Timeout]);
    }

    #[test]
    fn ended_then_reestablished_key_is_not_expired_by_its_old_entry() {
        let mut d = Dialogs::new(10);
        d.established(S, "c1", "a", "b", 1);
        assert!(matches!(
            d.bye(2 * S, "c1", "a", "b"),
            Ended::Bye {
                by_caller: true,
                ..
            }
        ));
        d.established(MAX_AGE, "c1", "a", "b", 1);
        // the first entry's age is up, but the live dialog started later
        assert_eq!(d.len(MAX_AGE + 2 * S), 1);
        assert_eq!(d.expired, 0);
    }
}
