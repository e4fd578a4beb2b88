//! `[pstn]`: PSTN gateway calls. Gateways and routes themselves are in the database
//! (`switchboard gateway ...`, `switchboard route ...`); this section holds the timer.

use std::time::Duration;

use serde::Deserialize;

/// `[pstn]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PstnSection {
    /// A gateway that neither rings nor answers within this many milliseconds is given
    /// up and the route's next gateway tried (default 3000).
    pub gateway_timeout_ms: u64,
}

impl Default for PstnSection {
    fn default() -> Self {
        PstnSection {
            gateway_timeout_ms: 3000,
        }
    }
}

impl PstnSection {
    /// Checks the timer's range.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(100..=60_000).contains(&self.gateway_timeout_ms) {
            anyhow::bail!(
                "[pstn] gateway_timeout_ms: {} is outside 100..=60000",
                self.gateway_timeout_ms
            );
        }
        Ok(())
    }

    /// The gateway timeout.
    pub fn gateway_timeout(&self) -> Duration {
        Duration::from_millis(self.gateway_timeout_ms)
    }
}
