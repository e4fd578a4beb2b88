//! Bounded replay protection for nonce counts.
//!
//! # What is single-use
//!
//! Each `(nonce, nc)` pair is single-use: a nonce may be reused by the same
//! client with a strictly larger `nc` (RFC 7616 §3.4), so a captured request
//! can never be replayed as-is, but a client need not fetch a new challenge
//! for every request. A nonce itself stays usable until it is too old for
//! [`crate::NonceSigner::check`] or the tracker forgets it.
//!
//! Credentials without `qop` (RFC 2069 mode) carry no `nc`; record them with
//! `nc = 1`, which makes the nonce itself single-use.
//!
//! Requiring `nc` to strictly increase rejects requests that overtake each
//! other (e.g. over UDP); such a client gets a new challenge and retries.
//!
//! # Bounded memory without opening a replay window
//!
//! The tracker holds at most `capacity` nonces and evicts the oldest
//! recorded one. A naive bounded map would then accept an evicted nonce
//! again from `nc = 1`. To prevent that it remembers the newest issue time of
//! any evicted nonce and refuses ([`NcStatus::Forgotten`]) every untracked
//! nonce issued at or before it; the server answers those with a fresh
//! challenge (`stale=true`). Size `capacity` for the number of nonces in use
//! within the nonce lifetime, or legitimate clients will see more
//! re-challenges.
//!
//! # Keys
//!
//! A nonce is remembered by a 64-bit hash under a per-process random key, not by its
//! text (~50 bytes, twice: ~200 bytes per nonce before, 40 now). Two live nonces with the
//! same hash (odds about n²/2⁶⁵: 3·10⁻⁸ for a million) make the second one look
//! replayed, and its client gets a fresh challenge; a hash can never make a replay pass.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;

/// Outcome of [`NonceCountTracker::check_and_record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NcStatus {
    /// `nc` is larger than any seen for this nonce; it is now recorded.
    Accepted,
    /// `nc` is not larger than the highest already seen: a replay (or a
    /// reordered request). Reject the request.
    Replayed {
        /// Highest `nc` recorded for this nonce.
        highest_seen: u32,
    },
    /// The tracker may have evicted this nonce and cannot tell whether `nc`
    /// is fresh. Reject and re-challenge with a new nonce (`stale=true`).
    Forgotten,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    highest_nc: u32,
    issued_at: u64,
}

/// Records the highest `nc` per nonce in a fixed-capacity table.
#[derive(Debug, Clone)]
pub struct NonceCountTracker {
    capacity: usize,
    hasher: RandomState,
    entries: HashMap<u64, Entry>,
    order: VecDeque<u64>,
    evicted_watermark: Option<u64>,
}

impl NonceCountTracker {
    /// Creates a tracker that holds at most `capacity` nonces (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        NonceCountTracker {
            capacity,
            hasher: RandomState::new(),
            // Grown on demand: the bound is a ceiling, not a reservation (a server with a
            // bound of a million nonces must not start with a hundred megabytes of table).
            entries: HashMap::new(),
            order: VecDeque::new(),
            evicted_watermark: None,
        }
    }

    /// Maximum number of nonces held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of nonces currently held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no nonce is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets the nonces (at the front of the insertion order) issued before `cutoff`:
    /// past their lifetime the signer refuses them as stale anyway, so keeping them only
    /// costs memory. Raises the watermark like an eviction, so a forgotten nonce is still
    /// never accepted again. Amortised O(1) per nonce.
    pub fn forget_issued_before(&mut self, cutoff: u64) {
        while let Some(front) = self.order.front() {
            match self.entries.get(front) {
                Some(e) if e.issued_at >= cutoff => break,
                Some(e) => {
                    let w = self
                        .evicted_watermark
                        .map_or(e.issued_at, |w| w.max(e.issued_at));
                    self.evicted_watermark = Some(w);
                    if let Some(old) = self.order.pop_front() {
                        self.entries.remove(&old);
                    }
                }
                None => {
                    self.order.pop_front();
                }
            }
        }
    }

    /// Checks `nc` for `nonce` and records it if it is fresh.
    ///
    /// `nonce` must already have passed [`crate::NonceSigner::check`], and
    /// `issued_at` is the time that check returned; `nc = 0` is never
    /// accepted. Call this only after the digest itself verified, so that
    /// forged requests cannot advance a legitimate client's counter.
    pub fn check_and_record(&mut self, nonce: &str, issued_at: u64, nc: u32) -> NcStatus {
        let key = self.hasher.hash_one(nonce);
        if let Some(entry) = self.entries.get_mut(&key) {
            if nc <= entry.highest_nc {
                return NcStatus::Replayed {
                    highest_seen: entry.highest_nc,
                };
            }
            entry.highest_nc = nc;
            return NcStatus::Accepted;
        }
        if self.evicted_watermark.is_some_and(|w| issued_at <= w) {
            return NcStatus::Forgotten;
        }
        if nc == 0 {
            return NcStatus::Replayed { highest_seen: 0 };
        }
        while self.entries.len() >= self.capacity {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                let w = self
                    .evicted_watermark
                    .map_or(e.issued_at, |w| w.max(e.issued_at));
                self.evicted_watermark = Some(w);
            }
        }
        self.entries.insert(
            key,
            Entry {
                highest_nc: nc,
                issued_at,
            },
        );
        self.order.push_back(key);
        // Evicting a nonce issued later than this one may have raised the
        // watermark above it; it is tracked now, so that does not matter.
        NcStatus::Accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_nonces_are_forgotten_but_never_accepted_again() {
        let mut t = NonceCountTracker::new(100);
        assert_eq!(t.check_and_record("old", 10, 1), NcStatus::Accepted);
        assert_eq!(t.check_and_record("new", 50, 1), NcStatus::Accepted);
        t.forget_issued_before(40);
        assert_eq!(t.len(), 1);
        assert_eq!(t.check_and_record("old", 10, 2), NcStatus::Forgotten);
        assert_eq!(t.check_and_record("new", 50, 2), NcStatus::Accepted);
        t.forget_issued_before(40);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn nc_must_strictly_increase() {
        let mut t = NonceCountTracker::new(4);
        assert_eq!(
            t.check_and_record("a", 10, 0),
            NcStatus::Replayed { highest_seen: 0 }
        );
        assert_eq!(t.check_and_record("a", 10, 1), NcStatus::Accepted);
        assert_eq!(
            t.check_and_record("a", 10, 1),
            NcStatus::Replayed { highest_seen: 1 }
        );
        assert_eq!(t.check_and_record("a", 10, 3), NcStatus::Accepted);
        assert_eq!(
            t.check_and_record("a", 10, 2),
            NcStatus::Replayed { highest_seen: 3 }
        );
        assert_eq!(t.check_and_record("b", 10, 1), NcStatus::Accepted);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn eviction_is_bounded_and_does_not_reopen_replays() {
        let mut t = NonceCountTracker::new(2);
        assert_eq!(t.capacity(), 2);
        assert!(t.is_empty());
        assert_eq!(t.check_and_record("n1", 100, 1), NcStatus::Accepted);
        assert_eq!(t.check_and_record("n2", 101, 1), NcStatus::Accepted);
        assert_eq!(t.check_and_record("n3", 102, 1), NcStatus::Accepted);
        assert_eq!(t.len(), 2);
        // n1 was evicted: a replay of it must not be accepted.
        assert_eq!(t.check_and_record("n1", 100, 1), NcStatus::Forgotten);
        // An untracked nonce issued no later than the evicted one is refused.
        assert_eq!(t.check_and_record("n0", 99, 1), NcStatus::Forgotten);
        // Newer nonces still work, and tracked ones keep working.
        assert_eq!(t.check_and_record("n4", 103, 1), NcStatus::Accepted);
        assert_eq!(t.check_and_record("n4", 103, 2), NcStatus::Accepted);
        assert_eq!(t.check_and_record("n2", 101, 2), NcStatus::Forgotten);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn zero_capacity_is_one() {
        let mut t = NonceCountTracker::new(0);
        assert_eq!(t.capacity(), 1);
        assert_eq!(t.check_and_record("x", 1, 1), NcStatus::Accepted);
        assert_eq!(t.check_and_record("y", 2, 1), NcStatus::Accepted);
        assert_eq!(t.check_and_record("x", 1, 2), NcStatus::Forgotten);
    }
}
