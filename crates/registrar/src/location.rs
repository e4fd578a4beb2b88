//! The location service: address-of-record -> bindings, in memory, sharded and bounded.
//! Bindings are held in their compact form (`stored.rs`) and handed out as
//! [`model::Binding`]s.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};

use model::{AddressOfRecord, Binding};
use parking_lot::RwLock;

use crate::stored::{AorKey, AorRef, Stored};

/// One shard: each address-of-record's bindings, in a slice of their exact count.
type Shard = hashbrown::HashMap<AorKey, Box<[Stored]>, RandomState>;

const SHARDS: usize = 16;

/// A change to persist (written behind to the store by the server).
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Refresh this binding (a contact already bound registered again).
    Save(Binding),
    /// Insert this binding: a contact that was not bound (persisted like `Save`; told
    /// apart for the operator's log).
    Add(Binding),
    /// Remove the binding of this contact.
    Delete(AddressOfRecord, String),
    /// Remove every binding of this AOR.
    DeleteAll(AddressOfRecord),
}

/// The table is at its configured bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocationFull;

/// The in-memory location table.
pub struct Location {
    shards: Vec<RwLock<Shard>>,
    hasher: std::collections::hash_map::RandomState,
    total: AtomicUsize,
    max_total: usize,
}

impl Location {
    /// An empty table holding at most `max_total` bindings.
    pub fn new(max_total: usize) -> Self {
        Location {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(Shard::with_hasher(RandomState::new())))
                .collect(),
            hasher: Default::default(),
            total: AtomicUsize::new(0),
            max_total,
        }
    }

    fn shard(&self, aor: &AddressOfRecord) -> &RwLock<Shard> {
        &self.shards[(self.hasher.hash_one(aor) as usize) % SHARDS]
    }

    /// Live bindings of an AOR at `now`, best q first (then most recently refreshed).
    pub fn lookup(&self, aor: &AddressOfRecord, now: u64) -> Vec<Binding> {
        let g = self.shard(aor).read();
        let Some(list) = g.get(&AorRef(aor)) else {
            return Vec::new();
        };
        let mut live: Vec<&Stored> = list.iter().filter(|b| b.expires_at() > now).collect();
        live.sort_by(|a, b| b.q().cmp(&a.q()).then(b.expires_at().cmp(&a.expires_at())));
        live.into_iter().map(|b| b.to_binding(aor)).collect()
    }

    /// Runs `f` on a copy of the AOR's binding list under the shard's write lock and keeps
    /// the result only when `f` returns `Ok` and the table bound holds.
    pub fn try_update<R, E>(
        &self,
        aor: &AddressOfRecord,
        f: impl FnOnce(&mut Vec<Binding>) -> Result<R, E>,
    ) -> Result<Result<R, E>, LocationFull> {
        let mut g = self.shard(aor).write();
        // Room for exactly one more (a Vec grown by push starts at four slots).
        let mut scratch = match g.get(&AorRef(aor)) {
            Some(list) => {
                let mut v = Vec::with_capacity(list.len() + 1);
                v.extend(list.iter().map(|b| b.to_binding(aor)));
                v
            }
            None => Vec::with_capacity(1),
        };
        let before = scratch.len();
        let r = match f(&mut scratch) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let after = scratch.len();
        if after > before && self.total.load(Ordering::Relaxed) + (after - before) > self.max_total
        {
            return Err(LocationFull);
        }
        if scratch.is_empty() {
            g.remove(&AorRef(aor));
        } else {
            let list: Box<[Stored]> = scratch.iter().map(Stored::new).collect();
            match g.get_mut(&AorRef(aor)) {
                Some(old) => *old = list,
                None => {
                    g.insert(AorKey::new(aor), list);
                }
            }
        }
        if after >= before {
            self.total.fetch_add(after - before, Ordering::Relaxed);
        } else {
            self.total.fetch_sub(before - after, Ordering::Relaxed);
        }
        Ok(Ok(r))
    }

    /// Loads bindings read from the store at start (expired ones are skipped).
    pub fn load(&self, bindings: Vec<Binding>, now: u64) -> usize {
        let mut n = 0;
        for b in bindings.into_iter().filter(|b| b.expires_at > now) {
            let aor = b.aor.clone();
            let ok = self.try_update(&aor, |list| {
                list.retain(|x| x.contact != b.contact);
                list.push(b);
                Ok::<(), ()>(())
            });
            if ok.is_ok() {
                n += 1;
            }
        }
        n
    }

    /// Removes expired bindings; returns what was removed so the store can follow.
    pub fn purge_expired(&self, now: u64) -> Vec<(AddressOfRecord, String)> {
        let mut gone = Vec::new();
        for shard in &self.shards {
            let mut g = shard.write();
            g.retain(|aor, list| {
                if list.iter().all(|b| b.expires_at() > now) {
                    return true;
                }
                let mut v = std::mem::take(list).into_vec();
                v.retain(|b| {
                    let keep = b.expires_at() > now;
                    if !keep {
                        gone.push((aor.to_aor(), b.contact().to_owned()));
                    }
                    keep
                });
                *list = v.into_boxed_slice();
                !list.is_empty()
            });
        }
        self.total.fetch_sub(
            gone.len().min(self.total.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
        gone
    }

    /// Removes every binding of an AOR, or all bindings. Returns how many went.
    pub fn clear(&self, aor: Option<&AddressOfRecord>) -> usize {
        let mut n = 0;
        match aor {
            Some(a) => {
                if let Some(list) = self.shard(a).write().remove(&AorRef(a)) {
                    n = list.len();
                }
            }
            None => {
                for shard in &self.shards {
                    let mut g = shard.write();
                    n += g.values().map(|l| l.len()).sum::<usize>();
                    g.clear();
                }
            }
        }
        self.total
            .fetch_sub(n.min(self.total.load(Ordering::Relaxed)), Ordering::Relaxed);
        n
    }

    /// Number of bindings held.
    pub fn len(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// True when no binding is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every live binding (for `location list`).
    pub fn all(&self, now: u64) -> Vec<Binding> {
        let mut v = Vec::new();
        for shard in &self.shards {
            for (key, list) in shard.read().iter() {
                let aor = key.to_aor();
                v.extend(
                    list.iter()
                        .filter(|b| b.expires_at() > now)
                        .map(|b| b.to_binding(&aor)),
                );
            }
        }
        v.sort_by(|a, b| a.aor.cmp(&b.aor).then(a.contact.cmp(&b.contact)));
        v
    }
}
