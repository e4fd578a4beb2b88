//! Handles the caller keeps for a call and for a request sent outside a dialog, and the
//! generator of tags and branches (random-looking, from a seed: this crate draws no random
//! numbers itself).

use std::fmt;

/// One call (an incoming INVITE and the dialog it creates). Never reused by an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub(crate) u64);

impl CallHandle {
    /// The raw number (unique within one agent).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CallHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

/// A request sent outside any dialog (e.g. a NOTIFY); its final answer comes back as
/// [`crate::UaEvent::Response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestHandle(pub(crate) u64);

/// Tags, branches and Call-IDs: splitmix64 over a seed and a counter, so two agents with
/// different seeds never collide and none repeats within an agent.
#[derive(Debug, Clone)]
pub(crate) struct Tokens {
    seed: u64,
    counter: u64,
}

impl Tokens {
    pub(crate) fn new(seed: u64) -> Tokens {
        Tokens { seed, counter: 0 }
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        let mut z = self
            .seed
            .wrapping_add(self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn tag(&mut self) -> String {
        format!("{:016x}", self.next())
    }

    pub(crate) fn branch(&mut self) -> String {
        format!("z9hG4bK{:016x}", self.next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ() {
        let mut a = Tokens::new(1);
        let mut b = Tokens::new(2);
        let x = a.tag();
        assert_ne!(x, a.tag());
        assert_ne!(x, b.tag());
        assert!(a.branch().starts_with("z9hG4bK"));
    }
}
