//! Dialog-event subscriptions (RFC 6665 over RFC 4235): who watches whom, found by the
//! subscription's dialog (refreshes, NOTIFY answers) and by the watched user (fan-out on
//! a call's change). Each keeps the CSeq of our NOTIFYs and the dialog-info version.
//!
//! Bounded twice: in total (`[presence] max_subscriptions`, over it: 503) and per watcher
//! (`max_per_user`, over it: 403). Expired subscriptions are dropped when met (a refresh,
//! a fan-out, a full table): no timer is needed.

use std::collections::HashMap;
use std::time::Duration;

use model::AddressOfRecord;

use crate::destination::Destination;
use crate::services::mwi::DialogKey;

/// One watcher's subscription.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    /// The user watched.
    pub watched: AddressOfRecord,
    /// Who watches (the bound per user).
    pub watcher: AddressOfRecord,
    /// The watcher's From URI (the NOTIFY's To).
    pub remote_uri: String,
    /// The watcher's Contact (the NOTIFY's Request-URI).
    pub contact: String,
    /// Where the SUBSCRIBE came from (NOTIFYs go there: NAT).
    pub dest: Destination,
    /// When it ends (proxy time).
    pub expires_at: Duration,
    /// The last CSeq we used in this dialog.
    pub cseq: u32,
    /// The next dialog-info version (RFC 4235 §4.1.1: 0 first, one more per NOTIFY).
    pub version: u32,
}

/// Why a subscription was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `max_subscriptions` reached.
    Full,
    /// The watcher holds `max_per_user` already.
    UserFull,
}

/// The subscriptions, bounded.
#[derive(Debug, Default)]
pub(crate) struct Watchers {
    by_dialog: HashMap<DialogKey, Watch>,
    by_watched: HashMap<AddressOfRecord, Vec<DialogKey>>,
    per_watcher: HashMap<AddressOfRecord, usize>,
    max: usize,
    max_per_user: usize,
}

impl Watchers {
    /// An empty table.
    pub fn new(max: usize, max_per_user: usize) -> Self {
        Watchers {
            max,
            max_per_user,
            ..Watchers::default()
        }
    }

    /// Stores a new subscription.
    pub fn insert(&mut self, now: Duration, key: DialogKey, w: Watch) -> Result<(), Refused> {
        if self.by_dialog.len() >= self.max {
            self.sweep(now);
            if self.by_dialog.len() >= self.max {
                return Err(Refused::Full);
            }
        }
        if self.per_watcher.get(&w.watcher).copied().unwrap_or(0) >= self.max_per_user {
            self.sweep(now);
            if self.per_watcher.get(&w.watcher).copied().unwrap_or(0) >= self.max_per_user {
                return Err(Refused::UserFull);
            }
        }
        *self.per_watcher.entry(w.watcher.clone()).or_default() += 1;
        self.by_watched
            .entry(w.watched.clone())
            .or_default()
            .push(key.clone());
        if let Some(old) = self.by_dialog.insert(key.clone(), w) {
            // The same dialog again (cannot happen with our fresh tags): keep counts true.
            self.unindex(&key, &old);
        }
        Ok(())
    }

    /// The live subscription of a dialog (an expired one is dropped).
    pub fn get_mut(&mut self, now: Duration, key: &DialogKey) -> Option<&mut Watch> {
        if self.by_dialog.get(key).is_some_and(|w| w.expires_at <= now) {
            self.remove(key);
        }
        self.by_dialog.get_mut(key)
    }

    /// Ends a subscription.
    pub fn remove(&mut self, key: &DialogKey) -> Option<Watch> {
        let w = self.by_dialog.remove(key)?;
        self.unindex(key, &w);
        Some(w)
    }

    fn unindex(&mut self, key: &DialogKey, w: &Watch) {
        if let Some(keys) = self.by_watched.get_mut(&w.watched) {
            if let Some(i) = keys.iter().position(|k| k == key) {
                keys.swap_remove(i);
            }
            if keys.is_empty() {
                self.by_watched.remove(&w.watched);
            }
        }
        if let Some(n) = self.per_watcher.get_mut(&w.watcher) {
            *n -= 1;
            if *n == 0 {
                self.per_watcher.remove(&w.watcher);
            }
        }
    }

    /// Drops every expired subscription.
    fn sweep(&mut self, now: Duration) {
        let gone: Vec<DialogKey> = self
            .by_dialog
            .iter()
            .filter(|(_, w)| w.expires_at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.remove(&k);
        }
    }

    /// The live subscriptions to `user` (expired ones of it are dropped).
    pub fn of(&mut self, now: Duration, user: &AddressOfRecord) -> Vec<DialogKey> {
        let Some(keys) = self.by_watched.get(user) else {
            return Vec::new();
        };
        let (live, dead): (Vec<DialogKey>, Vec<DialogKey>) = keys
            .iter()
            .cloned()
            .partition(|k| self.by_dialog.get(k).is_some_and(|w| w.expires_at > now));
        for k in dead {
            self.remove(&k);
        }
        live
    }

    /// Someone watches `user` (cheap: no allocation).
    pub fn watched(&self, user: &AddressOfRecord) -> bool {
        self.by_watched.contains_key(user)
    }

    /// Subscriptions held.
    pub fn len(&self) -> usize {
        self.by_dialog.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::Transport;

    fn watch(watched: &str, watcher: &str, expires: u64) -> Watch {
        Watch {
            watched: AddressOfRecord::new(watched, "example.com"),
            watcher: AddressOfRecord::new(watcher, "example.com"),
            remote_uri: format!("sip:{watcher}@example.com"),
            contact: "sip:w@192.0.2.1".into(),
            dest: Destination {
                transport: Transport::Udp,
                addr: "192.0.2.1:5060".parse().unwrap_or_else(|_| unreachable!()),
                conn: None,
            },
            expires_at: Duration::from_secs(expires),
            cseq: 0,
            version: 0,
        }
    }

    fn key(n: &str) -> DialogKey {
        (n.into(), "a".into(), "b".into())
    }

    #[test]
    fn bounded_in_total_and_per_watcher() {
        let now = Duration::from_secs(1);
        let mut t = Watchers::new(3, 2);
        t.insert(now, key("1"), watch("bob", "alice", 10)).unwrap();
        t.insert(now, key("2"), watch("carol", "alice", 10))
            .unwrap();
        assert_eq!(
            t.insert(now, key("3"), watch("dave", "alice", 10)),
            Err(Refused::UserFull)
        );
        t.insert(now, key("3"), watch("bob", "carol", 10)).unwrap();
        assert_eq!(
            t.insert(now, key("4"), watch("bob", "dave", 10)),
            Err(Refused::Full)
        );
        let bob = AddressOfRecord::new("bob", "example.com");
        let mut of_bob = t.of(now, &bob);
        of_bob.sort();
        assert_eq!(of_bob, [key("1"), key("3")]);
        t.remove(&key("1"));
        assert_eq!(t.of(now, &bob), [key("3")]);
        t.insert(now, key("5"), watch("dave", "alice", 10)).unwrap();
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn expired_subscriptions_are_forgotten_when_met() {
        let mut t = Watchers::new(2, 2);
        t.insert(Duration::ZERO, key("1"), watch("bob", "alice", 10))
            .unwrap();
        t.insert(Duration::ZERO, key("2"), watch("bob", "carol", 30))
            .unwrap();
        let bob = AddressOfRecord::new("bob", "example.com");
        assert_eq!(t.of(Duration::from_secs(20), &bob), [key("2")]);
        assert!(t.get_mut(Duration::from_secs(40), &key("2")).is_none());
        assert!(!t.watched(&bob));
        assert_eq!(t.len(), 0);
        t.insert(Duration::from_secs(40), key("3"), watch("bob", "alice", 50))
            .unwrap();
        assert!(t.watched(&bob));
    }
}
