//! [`BoundedMap`]: a hash map with a fixed number of entries where, when it is full, the
//! entry inserted longest ago is forgotten to make room. The flood limiter, the
//! authentication throttle and the ban list keep their per-address and per-user state in
//! one, so an attacker inventing addresses or user names can never grow memory.
//!
//! Insertion order lives in a queue of (key, sequence) pairs; an entry removed early leaves
//! a stale pair behind, skipped when popped and compacted away when the queue doubles.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// A map of at most `max` entries; the oldest inserted goes first when room is needed.
#[derive(Debug)]
pub(crate) struct BoundedMap<K, V> {
    map: HashMap<K, (V, u64)>,
    order: VecDeque<(K, u64)>,
    next: u64,
    max: usize,
}

impl<K: Hash + Eq + Clone, V> BoundedMap<K, V> {
    /// An empty map holding at most `max` (at least 1) entries.
    pub(crate) fn new(max: usize) -> Self {
        BoundedMap {
            map: HashMap::new(),
            order: VecDeque::new(),
            next: 0,
            max: max.max(1),
        }
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|(v, _)| v)
    }

    /// The entry for `k`, created with `make` when absent. Returns the value and, when
    /// an older entry had to be forgotten for it, that entry.
    pub(crate) fn entry_or_insert_with(
        &mut self,
        k: &K,
        make: impl FnOnce() -> V,
    ) -> (&mut V, Option<(K, V)>) {
        let mut evicted = None;
        if !self.map.contains_key(k) {
            if self.map.len() >= self.max {
                evicted = self.pop_oldest();
            }
            self.compact();
        }
        let (order, next) = (&mut self.order, &mut self.next);
        let (v, _) = self.map.entry(k.clone()).or_insert_with(|| {
            let seq = *next;
            *next += 1;
            order.push_back((k.clone(), seq));
            (make(), seq)
        });
        (v, evicted)
    }

    /// Removes `k`.
    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        self.map.remove(k).map(|(v, _)| v)
    }

    /// Removes and returns the entries for which `drop` is true.
    pub(crate) fn drain_where(&mut self, mut drop: impl FnMut(&K, &V) -> bool) -> Vec<(K, V)> {
        let keys: Vec<K> = self
            .map
            .iter()
            .filter(|(k, (v, _))| drop(k, v))
            .map(|(k, _)| k.clone())
            .collect();
        let out = keys
            .into_iter()
            .filter_map(|k| self.map.remove(&k).map(|(v, _)| (k, v)))
            .collect();
        self.compact();
        out
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, (v, _))| (k, v))
    }

    fn pop_oldest(&mut self) -> Option<(K, V)> {
        while let Some((k, seq)) = self.order.pop_front() {
            if self.map.get(&k).is_some_and(|(_, s)| *s == seq) {
                return self.map.remove(&k).map(|(v, _)| (k, v));
            }
        }
        None
    }

    /// Drops stale queue pairs once they outnumber the live ones.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.map.len() + 16 {
            let map = &self.map;
            self.order
                .retain(|(k, seq)| map.get(k).is_some_and(|(_, s)| s == seq));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_forgotten_when_full() {
        let mut m: BoundedMap<u32, &str> = BoundedMap::new(2);
        assert!(m.entry_or_insert_with(&1, || "a").1.is_none());
        assert!(m.entry_or_insert_with(&2, || "b").1.is_none());
        // Touching 1 again does not make it younger: insertion order decides.
        *m.entry_or_insert_with(&1, || "x").0 = "a2";
        let (_, evicted) = m.entry_or_insert_with(&3, || "c");
        assert_eq!(evicted, Some((1, "a2")));
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(&2), Some(&"b"));
        m.remove(&2);
        // The stale queue pair of 2 is skipped: 3 is the oldest live one.
        m.entry_or_insert_with(&4, || "d");
        let (_, evicted) = m.entry_or_insert_with(&5, || "e");
        assert_eq!(evicted, Some((3, "c")));
    }

    #[test]
    fn queue_stays_bounded_under_churn() {
        let mut m: BoundedMap<u32, ()> = BoundedMap::new(8);
        for i in 0..10_000 {
            m.entry_or_insert_with(&i, || ());
            if i % 2 == 0 {
                m.remove(&i);
            }
        }
        assert!(m.len() <= 8);
        assert!(m.order.len() <= 2 * 8 + 17);
        let gone = m.drain_where(|k, _| k % 3 == 0);
        assert!(gone.iter().all(|(k, _)| k % 3 == 0));
    }
}
