//! The event state compositor's table for `Event: presence` (RFC 3903): per user, one
//! publication per device, each found by its entity tag (`SIP-ETag` / `SIP-If-Match`),
//! with its PIDF document and its end. A refresh or a modification gives the publication a
//! new tag (RFC 3903 §4.1); removing or expiring it drops it.
//!
//! Bounded twice: in total (`[presence] max_publications`, over it: 503) and per user
//! (`max_publications_per_user`, over it: 403). Expiry is driven by the proxy's timer
//! ([`Publications::next_expiry`], [`Publications::expire`]) because a watcher must be told
//! when a device's state goes away.
//!
//! Not here: the PUBLISH transaction (`core/publish.rs`), the document (`pidf.rs`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use model::AddressOfRecord;

use super::pidf::Document;

/// One device's publication.
#[derive(Debug, Clone)]
pub(crate) struct Publication {
    /// Its current entity tag.
    pub etag: String,
    /// Its document.
    pub doc: Document,
    /// When it ends (proxy time).
    pub expires_at: Duration,
}

/// Why a new publication was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `max_publications` reached.
    Full,
    /// The user holds `max_publications_per_user` already.
    UserFull,
}

/// The publications, bounded.
#[derive(Debug, Default)]
pub(crate) struct Publications {
    by_user: HashMap<AddressOfRecord, Vec<Publication>>,
    by_etag: HashMap<String, AddressOfRecord>,
    /// Ends to look at, earliest first; an entry whose tag is gone or whose end moved is
    /// stale and skipped.
    ends: BinaryHeap<Reverse<(Duration, String)>>,
    max: usize,
    max_per_user: usize,
}

impl Publications {
    /// An empty table.
    pub fn new(max: usize, max_per_user: usize) -> Self {
        Publications {
            max,
            max_per_user,
            ..Publications::default()
        }
    }

    /// Publications held.
    pub fn len(&self) -> usize {
        self.by_etag.len()
    }

    /// A new publication of `user`.
    pub fn insert(&mut self, user: &AddressOfRecord, p: Publication) -> Result<(), Refused> {
        if self.by_etag.len() >= self.max {
            return Err(Refused::Full);
        }
        if self.by_user.get(user).map_or(0, Vec::len) >= self.max_per_user {
            return Err(Refused::UserFull);
        }
        self.by_etag.insert(p.etag.clone(), user.clone());
        self.ends.push(Reverse((p.expires_at, p.etag.clone())));
        self.by_user.entry(user.clone()).or_default().push(p);
        self.compact();
        Ok(())
    }

    /// `user`'s publication tagged `etag`.
    pub fn get(&self, user: &AddressOfRecord, etag: &str) -> Option<&Publication> {
        if self.by_etag.get(etag) != Some(user) {
            return None;
        }
        self.by_user.get(user)?.iter().find(|p| p.etag == etag)
    }

    /// Refreshes (`doc` None) or modifies `user`'s publication `etag`: its new tag, new
    /// end and, when given, new document. False when there is no such publication.
    pub fn update(
        &mut self,
        user: &AddressOfRecord,
        etag: &str,
        new_etag: String,
        expires_at: Duration,
        doc: Option<Document>,
    ) -> bool {
        if self.by_etag.get(etag) != Some(user) {
            return false;
        }
        let Some(p) = self
            .by_user
            .get_mut(user)
            .and_then(|l| l.iter_mut().find(|p| p.etag == etag))
        else {
            return false;
        };
        p.etag = new_etag.clone();
        p.expires_at = expires_at;
        if let Some(d) = doc {
            p.doc = d;
        }
        self.by_etag.remove(etag);
        self.by_etag.insert(new_etag.clone(), user.clone());
        self.ends.push(Reverse((expires_at, new_etag)));
        self.compact();
        true
    }

    /// Removes `user`'s publication `etag`.
    pub fn remove(&mut self, user: &AddressOfRecord, etag: &str) -> bool {
        if self.by_etag.get(etag) != Some(user) {
            return false;
        }
        self.by_etag.remove(etag);
        if let Some(list) = self.by_user.get_mut(user) {
            list.retain(|p| p.etag != etag);
            if list.is_empty() {
                self.by_user.remove(user);
            }
        }
        true
    }

    /// `user`'s documents, oldest publication first.
    pub fn documents(&self, user: &AddressOfRecord) -> impl Iterator<Item = &Document> {
        self.by_user.get(user).into_iter().flatten().map(|p| &p.doc)
    }

    fn end_of(&self, etag: &str) -> Option<Duration> {
        let user = self.by_etag.get(etag)?;
        self.by_user
            .get(user)?
            .iter()
            .find(|p| p.etag == etag)
            .map(|p| p.expires_at)
    }

    /// When the next publication ends.
    pub fn next_expiry(&mut self) -> Option<Duration> {
        while let Some(Reverse((at, etag))) = self.ends.peek() {
            if self.end_of(etag) == Some(*at) {
                return Some(*at);
            }
            self.ends.pop();
        }
        None
    }

    /// Drops the publications ended by `now`: the users whose state changed.
    pub fn expire(&mut self, now: Duration) -> Vec<AddressOfRecord> {
        let mut changed: Vec<AddressOfRecord> = Vec::new();
        while let Some(Reverse((at, _))) = self.ends.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, etag))) = self.ends.pop() else {
                break;
            };
            if self.end_of(&etag) != Some(at) {
                continue;
            }
            if let Some(user) = self.by_etag.get(&etag).cloned() {
                self.remove(&user, &etag);
                if !changed.contains(&user) {
                    changed.push(user);
                }
            }
        }
        changed
    }

    /// Keeps the heap of ends within a bound of the table (refreshes leave stale ones).
    fn compact(&mut self) {
        if self.ends.len() > 2 * self.by_etag.len() + 64 {
            let live: Vec<Reverse<(Duration, String)>> = self
                .by_user
                .values()
                .flatten()
                .map(|p| Reverse((p.expires_at, p.etag.clone())))
                .collect();
            self.ends = live.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(etag: &str, secs: u64) -> Publication {
        Publication {
            etag: etag.into(),
            doc: Document::default(),
            expires_at: Duration::from_secs(secs),
        }
    }

    #[test]
    fn one_publication_per_device_bounded_per_user_and_in_total() {
        let bob = AddressOfRecord::new("bob", "example.com");
        let carol = AddressOfRecord::new("carol", "example.com");
        let mut t = Publications::new(3, 2);
        t.insert(&bob, p("e1", 10)).unwrap();
        t.insert(&bob, p("e2", 20)).unwrap();
        assert_eq!(t.insert(&bob, p("e3", 20)), Err(Refused::UserFull));
        t.insert(&carol, p("e4", 20)).unwrap();
        assert_eq!(t.insert(&carol, p("e5", 20)), Err(Refused::Full));
        assert_eq!(t.documents(&bob).count(), 2);
        // Another user's tag is not bob's.
        assert!(t.get(&bob, "e4").is_none());
        assert!(!t.update(&bob, "e4", "x".into(), Duration::from_secs(99), None));
        assert!(t.update(&bob, "e1", "e1b".into(), Duration::from_secs(30), None));
        assert!(t.get(&bob, "e1").is_none());
        assert!(t.get(&bob, "e1b").is_some());
        assert!(t.remove(&bob, "e2"));
        assert_eq!(t.len(), 2);
        t.insert(&carol, p("e6", 40)).unwrap();
    }

    #[test]
    fn publications_expire_on_the_timer_and_refreshes_move_the_end() {
        let bob = AddressOfRecord::new("bob", "example.com");
        let mut t = Publications::new(10, 10);
        t.insert(&bob, p("e1", 10)).unwrap();
        t.insert(&bob, p("e2", 20)).unwrap();
        assert_eq!(t.next_expiry(), Some(Duration::from_secs(10)));
        assert!(t.update(&bob, "e1", "e1b".into(), Duration::from_secs(30), None));
        assert_eq!(t.next_expiry(), Some(Duration::from_secs(20)));
        assert!(t.expire(Duration::from_secs(19)).is_empty());
        assert_eq!(
            t.expire(Duration::from_secs(20)),
            std::slice::from_ref(&bob)
        );
        assert_eq!(t.documents(&bob).count(), 1);
        assert_eq!(t.next_expiry(), Some(Duration::from_secs(30)));
        assert_eq!(
            t.expire(Duration::from_secs(31)),
            std::slice::from_ref(&bob)
        );
        assert_eq!(t.next_expiry(), None);
        assert_eq!(t.len(), 0);
    }
}
