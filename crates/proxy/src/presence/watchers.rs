//! Subscriptions to the dialog and presence event packages (RFC 6665 over RFC 4235 and
//! RFC 3856): who watches whom, found by the subscription's dialog (refreshes, NOTIFY
//! answers) and by the watched user (fan-out on a change). Each keeps the CSeq of our
//! NOTIFYs and the dialog-info version.
//!
//! Bounded twice: in total (`[presence] max_subscriptions`, over it: 503) and per watcher
//! (`max_per_user`, over it: 403). Ends are kept in a heap for the proxy's timer
//! ([`Watchers::next_expiry`], [`Watchers::due`]), which sends the final NOTIFY of an
//! expired subscription (RFC 6665 §4.1.2.4); an expired one is not refreshed nor told.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use model::AddressOfRecord;

use crate::destination::Destination;
use crate::services::mwi::DialogKey;

/// The event package of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Package {
    /// `dialog` (RFC 4235).
    Dialog,
    /// `presence` (RFC 3856).
    Presence,
}

impl Package {
    /// The `Event` header's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Package::Dialog => "dialog",
            Package::Presence => "presence",
        }
    }
}

/// One watcher's subscription.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    /// Its event package.
    pub package: Package,
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
    /// Ends to look at, earliest first; an entry whose subscription is gone or whose end
    /// moved is stale and skipped.
    ends: BinaryHeap<Reverse<(Duration, DialogKey)>>,
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
        self.ends.push(Reverse((w.expires_at, key.clone())));
        if let Some(old) = self.by_dialog.insert(key.clone(), w) {
            // The same dialog again (cannot happen with our fresh tags): keep counts true.
            self.unindex(&key, &old);
        }
        self.compact();
        Ok(())
    }

    /// The live subscription of a dialog (an expired one waits for the timer).
    pub fn get_mut(&mut self, now: Duration, key: &DialogKey) -> Option<&mut Watch> {
        self.by_dialog.get_mut(key).filter(|w| w.expires_at > now)
    }

    /// A subscription refreshed: its new end.
    pub fn set_end(&mut self, key: &DialogKey, at: Duration) {
        if let Some(w) = self.by_dialog.get_mut(key) {
            w.expires_at = at;
            self.ends.push(Reverse((at, key.clone())));
            self.compact();
        }
    }

    /// When the next subscription ends.
    pub fn next_expiry(&mut self) -> Option<Duration> {
        while let Some(Reverse((at, key))) = self.ends.peek() {
            if self.by_dialog.get(key).is_some_and(|w| w.expires_at == *at) {
                return Some(*at);
            }
            self.ends.pop();
        }
        None
    }

    /// The subscriptions ended by `now` (still held: the caller NOTIFYs and removes them).
    pub fn due(&mut self, now: Duration) -> Vec<DialogKey> {
        let mut due = Vec::new();
        while let Some(Reverse((at, _))) = self.ends.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, key))) = self.ends.pop() else {
                break;
            };
            if self.by_dialog.get(&key).is_some_and(|w| w.expires_at == at) {
                due.push(key);
            }
        }
        due
    }

    /// Keeps the heap of ends within a bound of the table (refreshes leave stale ones).
    fn compact(&mut self) {
        if self.ends.len() > 2 * self.by_dialog.len() + 64 {
            let live: Vec<Reverse<(Duration, DialogKey)>> = self
                .by_dialog
                .iter()
                .map(|(k, w)| Reverse((w.expires_at, k.clone())))
                .collect();
            self.ends = live.into();
        }
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

    /// The live subscriptions to `user` for `package` (expired ones wait for the timer).
    pub fn of(&self, now: Duration, user: &AddressOfRecord, package: Package) -> Vec<DialogKey> {
        let Some(keys) = self.by_watched.get(user) else {
            return Vec::new();
        };
        keys.iter()
            .filter(|k| {
                self.by_dialog
                    .get(*k)
                    .is_some_and(|w| w.expires_at > now && w.package == package)
            })
            .cloned()
            .collect()
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

    fn watch(watched: &str, watcher: &str, expires: u64) -> Watch {
        Watch {
            package: Package::Dialog,
            watched: AddressOfRecord::new(watched, "example.com"),
            watcher: AddressOfRecord::new(watcher, "example.com"),
            remote_uri: format!("sip:{watcher}@example.com"),
            contact: "sip:w@192.0.2.1".into(),
            dest: crate::destination::test_phone(),
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
        let mut of_bob = t.of(now, &bob, Package::Dialog);
        of_bob.sort();
        assert_eq!(of_bob, [key("1"), key("3")]);
        assert!(t.of(now, &bob, Package::Presence).is_empty());
        t.remove(&key("1"));
        assert_eq!(t.of(now, &bob, Package::Dialog), [key("3")]);
        t.insert(now, key("5"), watch("dave", "alice", 10)).unwrap();
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn expired_subscriptions_are_due_on_the_timer() {
        let mut t = Watchers::new(2, 2);
        t.insert(Duration::ZERO, key("1"), watch("bob", "alice", 10))
            .unwrap();
        t.insert(Duration::ZERO, key("2"), watch("bob", "carol", 30))
            .unwrap();
        let bob = AddressOfRecord::new("bob", "example.com");
        assert_eq!(
            t.of(Duration::from_secs(20), &bob, Package::Dialog),
            [key("2")]
        );
        assert!(t.get_mut(Duration::from_secs(20), &key("1")).is_none());
        assert_eq!(t.next_expiry(), Some(Duration::from_secs(10)));
        t.set_end(&key("1"), Duration::from_secs(50));
        assert_eq!(t.next_expiry(), Some(Duration::from_secs(30)));
        assert!(t.due(Duration::from_secs(29)).is_empty());
        assert_eq!(t.due(Duration::from_secs(30)), [key("2")]);
        t.remove(&key("2"));
        assert_eq!(t.due(Duration::from_secs(60)), [key("1")]);
        t.remove(&key("1"));
        assert!(!t.watched(&bob));
        assert_eq!(t.next_expiry(), None);
        t.insert(Duration::from_secs(40), key("3"), watch("bob", "alice", 50))
            .unwrap();
        assert!(t.watched(&bob));
    }
}
