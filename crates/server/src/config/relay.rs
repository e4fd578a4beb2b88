//! `[relay]`: which backend carries the media of calls that need a relay (issue 19):
//! the embedded RTP relay, or an external rtpengine driven over its `ng` protocol
//! (`relay::rtpengine`). Owns the backend choice and rtpengine's address; when to relay
//! (`[relay] mode`) is the relay stage's.

use std::net::SocketAddr;

use anyhow::bail;
use serde::Deserialize;

/// The media relay backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RelayBackend {
    /// The relay inside this server, on the media port range.
    #[default]
    Embedded,
    /// An rtpengine at `[relay] rtpengine` (its `--listen-ng`).
    Rtpengine,
}

/// `[relay]`: the media relay.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RelaySection {
    /// `embedded` (default) or `rtpengine`.
    pub backend: RelayBackend,
    /// rtpengine's `ng` control address, e.g. `127.0.0.1:2223`; required with
    /// `backend = "rtpengine"`.
    pub rtpengine: Option<SocketAddr>,
}

impl RelaySection {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.backend == RelayBackend::Rtpengine && self.rtpengine.is_none() {
            bail!(
                "relay.rtpengine: required when relay.backend = \"rtpengine\" \
                 (rtpengine's ng address, e.g. \"127.0.0.1:2223\")"
            );
        }
        Ok(())
    }

    /// The `ng` client's settings, when rtpengine is the backend.
    pub fn rtpengine_client(&self) -> Option<relay::rtpengine::RtpEngineConfig> {
        match (self.backend, self.rtpengine) {
            (RelayBackend::Rtpengine, Some(addr)) => {
                Some(relay::rtpengine::RtpEngineConfig::new(addr))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<RelaySection> {
        let s: RelaySection = toml::from_str(text)?;
        s.validate()?;
        Ok(s)
    }

    #[test]
    fn the_embedded_relay_is_the_default() {
        let s = parse("").unwrap();
        assert_eq!(s.backend, RelayBackend::Embedded);
        assert!(s.rtpengine_client().is_none());
    }

    #[test]
    fn rtpengine_needs_its_address() {
        let s = parse("backend = \"rtpengine\"\nrtpengine = \"127.0.0.1:2223\"\n").unwrap();
        let client = s.rtpengine_client().unwrap();
        assert_eq!(client.address.to_string(), "127.0.0.1:2223");
        let e = parse("backend = \"rtpengine\"\n").unwrap_err().to_string();
        assert!(e.contains("relay.rtpengine"), "{e}");
        let e = parse("backend = \"kamailio\"\n").unwrap_err().to_string();
        assert!(e.contains("backend"), "{e}");
        let e = parse("backend = \"rtpengine\"\nrtpengine = \"localhost\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rtpengine"), "{e}");
    }
}
