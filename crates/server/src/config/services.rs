//! `[services]`: the keys of the call services (forwarding, find-me, screening), their
//! defaults, their checks and the proxy's view of them. The services are `proxy::services`.

use std::time::Duration;

use anyhow::bail;
use serde::Deserialize;

/// `[services]`: call services (forwarding, find-me, screening; docs/services.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServicesSection {
    /// URI sent in `Error-Info` with the 403 answering a screened call, e.g.
    /// "sip:announcement@192.0.2.1". None: no Error-Info.
    pub screening_announcement: Option<String>,
    /// Most forwarding hops in one call.
    pub max_forward_chain: u32,
    /// Seconds each q-group of a find-me user's own phones rings.
    pub findme_contact_ring_secs: u64,
}

impl Default for ServicesSection {
    fn default() -> Self {
        let d = proxy::ServicesConfig::default();
        ServicesSection {
            screening_announcement: d.screening_announcement,
            max_forward_chain: d.max_chain,
            findme_contact_ring_secs: d.findme_contact_ring.as_secs(),
        }
    }
}

impl ServicesSection {
    /// The proxy's view.
    pub fn to_proxy(&self) -> proxy::ServicesConfig {
        proxy::ServicesConfig {
            screening_announcement: self.screening_announcement.clone(),
            max_chain: self.max_forward_chain,
            findme_contact_ring: Duration::from_secs(self.findme_contact_ring_secs),
            ..proxy::ServicesConfig::default()
        }
    }

    /// Checks the announcement URI and the ring time.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if let Some(a) = &self.screening_announcement {
            if !(a.starts_with("sip:") || a.starts_with("sips:") || a.starts_with("http"))
                || a.contains(['<', '>', ' ', '\r', '\n'])
            {
                bail!("services.screening_announcement: {a:?} is not a sip: or http(s) URI");
            }
        }
        if self.findme_contact_ring_secs == 0 {
            bail!("services.findme_contact_ring_secs: must be at least 1");
        }
        Ok(())
    }
}
