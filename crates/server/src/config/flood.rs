//! `[flood]`: the keys of the per-source request-rate limiter, their defaults, their checks
//! and the proxy's view of them. The limiter itself is `proxy::flood`.

use std::time::Duration;

use anyhow::bail;
use serde::Deserialize;

/// `[flood]`: the per-source request-rate limiter (docs/security.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FloodSection {
    /// Count requests per source and ban floods.
    pub enabled: bool,
    /// Requests one source (an IPv4 address, an IPv6 /64) may send within the window.
    pub max_requests: u32,
    /// The sliding window, in seconds.
    pub window_secs: u64,
    /// Seconds a flooding source stays banned.
    pub ban_secs: u64,
    /// Sources tracked at once; the one counted longest ago is forgotten when full.
    pub max_sources: usize,
    /// Address blocks never counted, e.g. ["10.0.0.0/8", "2001:db8::/32"].
    pub exempt: Vec<String>,
}

impl Default for FloodSection {
    fn default() -> Self {
        let d = proxy::FloodConfig::default();
        FloodSection {
            enabled: d.enabled,
            max_requests: d.max_requests,
            window_secs: d.window.as_secs(),
            ban_secs: d.ban_secs,
            max_sources: d.max_sources,
            exempt: Vec::new(),
        }
    }
}

impl FloodSection {
    /// The proxy's view (the exemptions were checked by `validate`).
    pub fn to_proxy(&self) -> proxy::FloodConfig {
        proxy::FloodConfig {
            enabled: self.enabled,
            max_requests: self.max_requests,
            window: Duration::from_secs(self.window_secs),
            ban_secs: self.ban_secs,
            max_sources: self.max_sources,
            exempt: self.exempt.iter().filter_map(|c| c.parse().ok()).collect(),
        }
    }
}

impl FloodSection {
    /// Checks the exempt blocks and the limits.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        for c in &self.exempt {
            if let Err(e) = c.parse::<proxy::Cidr>() {
                bail!("flood.exempt: {e}");
            }
        }
        if self.enabled
            && (self.max_requests == 0 || self.window_secs == 0 || self.max_sources == 0)
        {
            bail!("flood: max_requests, window_secs and max_sources must be at least 1");
        }
        Ok(())
    }
}
