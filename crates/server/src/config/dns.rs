//! `[dns]`: the name servers and cache of the RFC 3263 resolver (`crate::dns`), used for
//! Request-URIs whose host is a name.

use std::net::SocketAddr;

use anyhow::bail;
use serde::Deserialize;

/// `[dns]`: resolving SIP URIs (NAPTR, SRV, A/AAAA).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsSection {
    /// Resolve names at all; false: a Request-URI with a host name gets 503.
    pub enabled: bool,
    /// Name servers as `IP:PORT`; empty: the system's (`/etc/resolv.conf`).
    pub servers: Vec<SocketAddr>,
    /// Most answers cached (each kept for its TTL, at most `max_ttl_secs`).
    pub cache_size: usize,
    /// Longest time an answer is cached, whatever its TTL.
    pub max_ttl_secs: u64,
    /// Seconds to wait for a name server before trying again or giving up.
    pub timeout_secs: u64,
}

impl Default for DnsSection {
    fn default() -> Self {
        DnsSection {
            enabled: true,
            servers: Vec::new(),
            cache_size: 1024,
            max_ttl_secs: 3600,
            timeout_secs: 2,
        }
    }
}

impl DnsSection {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.enabled && self.cache_size == 0 {
            bail!("dns.cache_size: must be at least 1");
        }
        if self.timeout_secs == 0 {
            bail!("dns.timeout_secs: must be at least 1");
        }
        Ok(())
    }
}
