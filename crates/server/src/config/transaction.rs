//! `[transaction]`: the RFC 3261 timers T1, T2, T4 and the bound of the transaction table.
//! The transaction layer is the `sip-transaction` crate.

use anyhow::bail;
use serde::Deserialize;

/// `[transaction]`: RFC 3261 timers and the table bound.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransactionSection {
    /// T1 in milliseconds.
    pub t1_ms: u64,
    /// T2 in milliseconds.
    pub t2_ms: u64,
    /// T4 in milliseconds.
    pub t4_ms: u64,
    /// Most live transactions; more get 503 + Retry-After.
    pub max_transactions: usize,
}

impl Default for TransactionSection {
    fn default() -> Self {
        TransactionSection {
            t1_ms: 500,
            t2_ms: 4000,
            t4_ms: 5000,
            max_transactions: 1 << 20,
        }
    }
}

impl TransactionSection {
    /// Checks that 0 < T1 <= T2.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.t1_ms == 0 || self.t2_ms < self.t1_ms {
            bail!("transaction: need 0 < t1_ms <= t2_ms");
        }
        Ok(())
    }
}
