//! Deterministic mutation: a xorshift generator, a byte mutator (overwrite, splice a
//! dictionary token, cut, duplicate a slice) and the loop that feeds mutated seeds to a
//! fuzz target body and saves the first input that panics.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// A xorshift64 generator: the same seed gives the same inputs on every run.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Self {
        XorShift(seed)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value below `bound` (which must not be 0).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }
}

/// How a seed is changed: up to `max_edits` edits, each picked from `choices` kinds
/// (0 overwrite a byte, 1 splice a `dictionary` token, 2 cut up to `max_cut` bytes,
/// 3 duplicate up to `max_copy` bytes elsewhere; a kind above 3 leaves the input as it is).
#[derive(Debug, Clone, Copy)]
pub struct Mutator<'a> {
    /// Tokens of the grammar under test, spliced in whole.
    pub dictionary: &'a [&'a [u8]],
    /// At most this many edits per input (at least one).
    pub max_edits: u64,
    /// How many edit kinds are drawn from (4, or more to leave some rounds idle).
    pub choices: u64,
    /// The longest cut.
    pub max_cut: usize,
    /// The longest duplicated slice.
    pub max_copy: usize,
}

impl Mutator<'_> {
    /// Applies one round of edits to `d`.
    pub fn mutate(&self, d: &mut Vec<u8>, rnd: &mut XorShift) {
        for _ in 0..(1 + rnd.next_u64() % self.max_edits) {
            let i = rnd.below(d.len().max(1));
            match rnd.next_u64() % self.choices {
                0 if !d.is_empty() => {
                    let k = i.min(d.len() - 1);
                    d[k] = rnd.next_u64() as u8;
                }
                1 => {
                    let w = self.dictionary[rnd.below(self.dictionary.len())];
                    let i = i.min(d.len());
                    d.splice(i..i, w.iter().copied());
                }
                2 if !d.is_empty() => {
                    let s = i.min(d.len() - 1);
                    let e = (s + 1 + rnd.next_u64() as usize % self.max_cut).min(d.len());
                    d.drain(s..e);
                }
                3 if !d.is_empty() => {
                    let s = i.min(d.len() - 1);
                    let e = (s + 1 + rnd.next_u64() as usize % self.max_copy).min(d.len());
                    let c = d[s..e].to_vec();
                    let j = rnd.below(d.len());
                    d.splice(j..j, c);
                }
                _ => {}
            }
        }
    }
}

/// How many mutated inputs a run feeds: `SWITCHBOARD_MUTATION_ITERS`, else `default`.
pub fn mutation_iterations(default: usize) -> usize {
    std::env::var("SWITCHBOARD_MUTATION_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Feeds `iterations` mutated seeds to `run`: input `n` is the seed `pick` chooses, changed
/// by `mutator`. The first input that panics is written to `<temp dir>/<name>-mutation-<n>`
/// and the run panics naming that file.
pub fn run_mutations(
    name: &str,
    iterations: usize,
    rnd: &mut XorShift,
    mutator: &Mutator<'_>,
    mut pick: impl FnMut(usize, &mut XorShift) -> Vec<u8>,
    run: impl Fn(&[u8]),
) {
    for n in 0..iterations {
        let mut d = pick(n, rnd);
        mutator.mutate(&mut d, rnd);
        if catch_unwind(AssertUnwindSafe(|| run(&d))).is_err() {
            let path = std::env::temp_dir().join(format!("{name}-mutation-{n}"));
            let saved = std::fs::write(&path, &d);
            panic!(
                "input {n} panicked; written to {} ({saved:?})",
                path.display()
            );
        }
    }
}
