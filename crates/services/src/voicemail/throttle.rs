//! [`PinThrottle`]: wrong PINs per mailbox. After `attempts` wrong PINs in a row the
//! mailbox is locked for `lockout` (every PIN is refused, right or wrong, without asking
//! the store), like the failed-login throttle of SIP passwords. Bounded: at most
//! `capacity` mailboxes are tracked; past it the oldest entry is forgotten.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::mailbox::MailboxId;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

/// Wrong-PIN counters.
#[derive(Debug)]
pub struct PinThrottle {
    attempts: u32,
    lockout: Duration,
    capacity: usize,
    entries: Mutex<HashMap<MailboxId, Entry>>,
}

impl PinThrottle {
    /// A throttle locking after `attempts` failures for `lockout`.
    pub fn new(attempts: u32, lockout: Duration, capacity: usize) -> PinThrottle {
        PinThrottle {
            attempts: attempts.max(1),
            lockout,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// True while the mailbox is locked.
    pub fn is_locked(&self, mailbox: &MailboxId, now: Instant) -> bool {
        self.entries
            .lock()
            .ok()
            .and_then(|e| e.get(mailbox).and_then(|x| x.locked_until))
            .is_some_and(|until| now < until)
    }

    /// A wrong PIN; true when this one locked the mailbox.
    pub fn failed(&self, mailbox: &MailboxId, now: Instant) -> bool {
        let Ok(mut e) = self.entries.lock() else {
            return false;
        };
        if e.len() >= self.capacity && !e.contains_key(mailbox) {
            if let Some(oldest) = e.iter().min_by_key(|(_, v)| v.last).map(|(k, _)| k.clone()) {
                e.remove(&oldest);
            }
        }
        let entry = e.entry(mailbox.clone()).or_insert(Entry {
            failures: 0,
            locked_until: None,
            last: now,
        });
        if entry.locked_until.is_some_and(|u| now >= u) {
            entry.locked_until = None;
            entry.failures = 0;
        }
        entry.failures += 1;
        entry.last = now;
        if entry.failures >= self.attempts && entry.locked_until.is_none() {
            entry.locked_until = Some(now + self.lockout);
            return true;
        }
        false
    }

    /// A right PIN: the count starts again.
    pub fn succeeded(&self, mailbox: &MailboxId) {
        if let Ok(mut e) = self.entries.lock() {
            e.remove(mailbox);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_attempts_and_unlocks_later() {
        let t = PinThrottle::new(3, Duration::from_secs(300), 2);
        let m = MailboxId::new("alice", "example.com");
        let now = Instant::now();
        assert!(!t.failed(&m, now));
        assert!(!t.failed(&m, now));
        assert!(t.failed(&m, now));
        assert!(t.is_locked(&m, now + Duration::from_secs(299)));
        assert!(!t.is_locked(&m, now + Duration::from_secs(300)));
        t.succeeded(&m);
        assert!(!t.is_locked(&m, now));
        // Bounded: a third mailbox pushes out the oldest.
        t.failed(&MailboxId::new("a", "x"), now);
        t.failed(&MailboxId::new("b", "x"), now + Duration::from_secs(1));
        t.failed(&MailboxId::new("c", "x"), now + Duration::from_secs(2));
        assert_eq!(t.entries.lock().unwrap().len(), 2);
    }
}
