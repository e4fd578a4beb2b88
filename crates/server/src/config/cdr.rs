//! `[cdr]`: call records: on or off, how long they are kept, and the bounds of their
//! writer (its queue, its batches). Building and writing them is `crate::cdr`'s job.

use anyhow::bail;
use serde::Deserialize;

/// `[cdr]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CdrSection {
    /// Write a call record for every call attempt.
    pub enabled: bool,
    /// Records whose call started more than this many days ago are deleted (checked at
    /// start and every hour); 0 keeps them forever.
    pub keep_days: u32,
    /// Call events waiting for the writer at most; past that they are dropped and counted
    /// (`switchboard_cdr_events_total{outcome="dropped"}`), never slowing calls down.
    pub queue: usize,
    /// How long records gather before they are written in one transaction.
    pub write_ms: u64,
    /// Calls (in set-up or answered) the writer follows at most; past that the oldest is
    /// written as it stands and forgotten.
    pub max_open_calls: usize,
}

impl Default for CdrSection {
    fn default() -> Self {
        CdrSection {
            enabled: true,
            keep_days: 365,
            queue: 65_536,
            write_ms: 200,
            max_open_calls: 200_000,
        }
    }
}

impl CdrSection {
    /// Checks the bounds.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.queue == 0 {
            bail!("cdr.queue: must be at least 1");
        }
        if self.max_open_calls == 0 {
            bail!("cdr.max_open_calls: must be at least 1");
        }
        if self.write_ms > 60_000 {
            bail!("cdr.write_ms: at most 60000 (a crash loses what has not been written)");
        }
        Ok(())
    }
}
