//! `[nat]`: keep-alives to phones behind NAT (issue 19, docs/nat.md): how often the
//! server pings a phone that registered over UDP from behind a NAT, and with what. The
//! pings themselves are the proxy's (`proxy/src/core/keepalive.rs`).

use std::time::Duration;

use anyhow::bail;
use serde::Deserialize;

/// `[nat]`: keeping NATed phones reachable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatSection {
    /// Seconds between pings to one NATed phone; 0 turns keep-alives off.
    pub keepalive_secs: u64,
    /// What a ping is: `"options"` (an OPTIONS request, answered) or `"crlf"` (a double
    /// CRLF datagram).
    pub keepalive: String,
}

impl Default for NatSection {
    fn default() -> Self {
        NatSection {
            // Below the 30 s that many home routers keep an idle UDP mapping (and
            // Linux's `nf_conntrack_udp_timeout`).
            keepalive_secs: 25,
            keepalive: "options".into(),
        }
    }
}

impl NatSection {
    /// The proxy's view.
    pub fn to_proxy(&self) -> proxy::KeepAliveConfig {
        proxy::KeepAliveConfig {
            interval: Duration::from_secs(self.keepalive_secs),
            mode: if self.keepalive == "crlf" {
                proxy::KeepAliveMode::Crlf
            } else {
                proxy::KeepAliveMode::Options
            },
        }
    }

    /// Checks the values.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !matches!(self.keepalive.as_str(), "options" | "crlf") {
            bail!(
                "nat.keepalive: {:?} is not one of \"options\", \"crlf\"",
                self.keepalive
            );
        }
        if self.keepalive_secs > 3600 {
            bail!(
                "nat.keepalive_secs: {} is more than 3600 (a NAT forgets far sooner)",
                self.keepalive_secs
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let d = NatSection::default();
        d.validate().unwrap();
        assert_eq!(d.to_proxy().interval, Duration::from_secs(25));
        assert_eq!(d.to_proxy().mode, proxy::KeepAliveMode::Options);
        let crlf: NatSection = toml::from_str("keepalive = \"crlf\"\nkeepalive_secs = 0").unwrap();
        crlf.validate().unwrap();
        assert_eq!(crlf.to_proxy().mode, proxy::KeepAliveMode::Crlf);
        assert!(crlf.to_proxy().interval.is_zero());
        let bad: NatSection = toml::from_str("keepalive = \"stun\"").unwrap();
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("nat.keepalive"), "{e}");
        assert!(toml::from_str::<NatSection>("keepalive_sec = 5").is_err());
    }
}
