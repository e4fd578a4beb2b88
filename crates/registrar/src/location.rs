//! The location service: address-of-record -> bindings, in memory, sharded and bounded.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};

use model::{AddressOfRecord, Binding};
use parking_lot::RwLock;

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
    shards: Vec<RwLock<HashMap<AddressOfRecord, Vec<Binding>>>>,
    hasher: std::collections::hash_map::RandomState,
    total: AtomicUsize,
    max_total: usize,
}

impl Location {
    /// An empty table holding at most `max_total` bindings.
    pub fn new(max_total: usize) -> Self {
        Location {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: Default::default(),
            total: AtomicUsize::new(0),
            max_total,
        }
    }

    fn shard(&self, aor: &AddressOfRecord) -> &RwLock<HashMap<AddressOfRecord, Vec<Binding>>> {
        &self.shards[(self.hasher.hash_one(aor) as usize) % SHARDS]
    }

    /// Live bindings of an AOR at `now`, best q first (then most recently refreshed).
    pub fn lookup(&self, aor: &AddressOfRecord, now: u64) -> Vec<Binding> {
        let g = self.shard(aor).read();
        let mut v: Vec<Binding> = g
            .get(aor)
            .map(|bs| bs.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default();
        v.sort_by(|a, b| b.q.cmp(&a.q).then(b.expires_at.cmp(&a.expires_at)));
        v
    }

    /// Runs `f` on a copy of the AOR's binding list under the shard's write lock and keeps
    /// the result only when `f` returns `Ok` and the table bound holds.
    pub fn try_update<R, E>(
        &self,
        aor: &AddressOfRecord,
        f: impl FnOnce(&mut Vec<Binding>) -> Result<R, E>,
    ) -> Result<Result<R, E>, LocationFull> {
        let mut g = self.shard(aor).write();
        // Room for exactly one more: a Vec grown by push starts at four slots, and four
        // Bindings per address-of-record tripled the table's size with one phone each.
        let mut scratch = match g.get(aor) {
            Some(list) => {
                let mut v = Vec::with_capacity(list.len() + 1);
                v.extend_from_slice(list);
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
            g.remove(aor);
        } else {
            scratch.shrink_to_fit();
            g.insert(aor.clone(), scratch);
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
                list.retain(|b| {
                    let keep = b.expires_at > now;
                    if !keep {
                        gone.push((aor.clone(), b.contact.clone()));
                    }
                    keep
                });
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
                if let Some(list) = self.shard(a).write().remove(a) {
                    n = list.len();
                }
            }
            None => {
                for shard in &self.shards {
                    let mut g = shard.write();
                    n += g.values().map(Vec::len).sum::<usize>();
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
            for list in shard.read().values() {
                v.extend(list.iter().filter(|b| b.expires_at > now).cloned());
            }
        }
        v.sort_by(|a, b| a.aor.cmp(&b.aor).then(a.contact.cmp(&b.contact)));
        v
    }
}
