//! The hasher of the table's id map. Transaction ids are counted up by the layer, never
//! chosen by a peer, so a multiply-and-rotate mix spreads them well enough; SipHash (the
//! default, made to resist keys chosen by an attacker) was about 1 % of a busy proxy's
//! CPU samples. The key maps, whose keys come from the wire, keep SipHash.

use std::hash::{BuildHasher, Hasher};

/// Builds [`IdHasher`]s.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct IdHash;

impl BuildHasher for IdHash {
    type Hasher = IdHasher;

    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

/// Mixes integers with a 64-bit odd multiplier (the golden ratio's).
#[derive(Debug)]
pub(super) struct IdHasher(u64);

const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(K);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(K);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_spread_over_high_and_low_bits() {
        let h = |n: u64| IdHash.hash_one(n);
        let low: std::collections::HashSet<u64> = (1..=1024).map(|n| h(n) & 1023).collect();
        let high: std::collections::HashSet<u64> = (1..=1024).map(|n| h(n) >> 57).collect();
        assert_eq!(low.len(), 1024);
        assert_eq!(high.len(), 128);
    }
}
