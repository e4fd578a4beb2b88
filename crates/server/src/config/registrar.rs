//! `[registrar]`: registration expiries, the bounds on contacts and bindings, and the
//! write-behind delay. The registrar is the `registrar` crate.

use anyhow::bail;
use serde::Deserialize;

/// `[registrar]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrarSection {
    /// Shortest registration accepted (423 below).
    pub min_expires: u32,
    /// Longest registration granted.
    pub max_expires: u32,
    /// Expiry when none is asked for.
    pub default_expires: u32,
    /// Most contacts per address-of-record.
    pub max_contacts_per_aor: usize,
    /// Most bindings in total.
    pub max_bindings: usize,
    /// How long binding changes gather before they are written to the database in one
    /// transaction (0: write as soon as the writer is free). A crash loses at most this
    /// much; a clean stop writes everything.
    pub write_behind_ms: u64,
}

impl Default for RegistrarSection {
    fn default() -> Self {
        let d = registrar::RegistrarConfig::default();
        RegistrarSection {
            min_expires: d.min_expires,
            max_expires: d.max_expires,
            default_expires: d.default_expires,
            max_contacts_per_aor: d.max_contacts_per_aor,
            max_bindings: d.max_bindings,
            write_behind_ms: 1000,
        }
    }
}

impl RegistrarSection {
    /// Checks that the expiries are in order.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.min_expires > self.max_expires || self.default_expires > self.max_expires {
            bail!("registrar: need min_expires <= default_expires <= max_expires");
        }
        Ok(())
    }
}
