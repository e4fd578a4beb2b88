//! `[relay]`: the media relay (issue 19, docs/nat.md): which calls it carries, which
//! backend carries them (the embedded RTP relay, or an external rtpengine driven over its
//! `ng` protocol, `relay::rtpengine`), and the embedded relay's ports, addresses,
//! dead-stream timeout and threads. The relay itself is the `relay` crate; the server
//! starts it (`relay_host.rs`, `relay_backend.rs`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

use super::MediaSection;

/// `[relay]`: the media relay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelaySection {
    /// Which calls are relayed: `"never"`, `"nat"` (a party behind NAT) or `"always"`.
    pub mode: String,
    /// Which relay: `"embedded"` (in this process) or `"rtpengine"` (at `rtpengine`).
    pub backend: String,
    /// rtpengine's `ng` control address, e.g. `127.0.0.1:2223`; required with
    /// `backend = "rtpengine"`.
    pub rtpengine: Option<SocketAddr>,
    /// The embedded relay's ports, `"FIRST-LAST"`; default: `[media] rtp_ports`, shared
    /// with the media engine (a port one holds is skipped by the other).
    pub rtp_ports: Option<String>,
    /// Address the relay's sockets bind to; default: the advertised address when it is one
    /// of this host's and `[media] bind_address` is a wildcard, else `[media] bind_address`.
    pub bind_address: Option<IpAddr>,
    /// Address written in relayed SDP; default: `[media] advertised_address`, else the
    /// bind address, else this host's first address that is not loopback.
    pub advertised_address: Option<IpAddr>,
    /// A relayed call none of whose streams carried a packet for this long is ended.
    pub timeout_secs: u64,
    /// Threads of the embedded relay's data plane.
    pub threads: usize,
}

impl Default for RelaySection {
    fn default() -> Self {
        RelaySection {
            mode: "nat".into(),
            backend: "embedded".into(),
            rtpengine: None,
            rtp_ports: None,
            bind_address: None,
            advertised_address: None,
            timeout_secs: 60,
            threads: 1,
        }
    }
}

impl RelaySection {
    /// The proxy's view of `mode`.
    pub fn mode(&self) -> proxy::RelayMode {
        match self.mode.as_str() {
            "always" => proxy::RelayMode::Always,
            "nat" => proxy::RelayMode::Nat,
            _ => proxy::RelayMode::Never,
        }
    }

    /// The embedded relay's configuration; `local` are this host's addresses (for the
    /// advertised address when none is configured).
    pub fn to_embedded(
        &self,
        media: &MediaSection,
        local: &[IpAddr],
    ) -> anyhow::Result<relay::embedded::EmbeddedConfig> {
        let (first_port, last_port) = match &self.rtp_ports {
            Some(r) => MediaSection {
                rtp_ports: r.clone(),
                ..MediaSection::default()
            }
            .ports()
            .map_err(|e| anyhow::anyhow!("{}", e.to_string().replace("media.", "relay.")))?,
            None => media.ports()?,
        };
        let configured_bind = self.bind_address.unwrap_or(media.bind_address);
        let advertised_address = self
            .advertised_address
            .or(media.advertised_address)
            .or((!configured_bind.is_unspecified()).then_some(configured_bind))
            .or_else(|| {
                local
                    .iter()
                    .copied()
                    .find(|a| !a.is_loopback() && a.is_ipv4() == configured_bind.is_ipv4())
            })
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        // A wildcard socket answers from whichever address the route to the phone picks;
        // a NAT only lets in what comes from the address the phone sent to. When the
        // advertised address is one of ours, the relay binds to it.
        let bind_address = match self.bind_address {
            None if configured_bind.is_unspecified() && local.contains(&advertised_address) => {
                advertised_address
            }
            _ => configured_bind,
        };
        Ok(relay::embedded::EmbeddedConfig {
            bind_address,
            advertised_address,
            first_port,
            last_port,
            timeout: Duration::from_secs(self.timeout_secs),
            threads: self.threads,
        })
    }

    /// The `ng` client's settings, when rtpengine is the backend.
    pub fn rtpengine_client(&self) -> Option<relay::rtpengine::RtpEngineConfig> {
        match (self.backend.as_str(), self.rtpengine) {
            ("rtpengine", Some(addr)) => Some(relay::rtpengine::RtpEngineConfig::new(addr)),
            _ => None,
        }
    }

    pub(super) fn validate(&self, media: &MediaSection) -> anyhow::Result<()> {
        if !["never", "nat", "always"].contains(&self.mode.as_str()) {
            bail!(
                "relay.mode: {:?} is not one of \"never\", \"nat\", \"always\"",
                self.mode
            );
        }
        if !["embedded", "rtpengine"].contains(&self.backend.as_str()) {
            bail!(
                "relay.backend: {:?} is not a relay backend (\"embedded\", \"rtpengine\")",
                self.backend
            );
        }
        if self.backend == "rtpengine" && self.rtpengine.is_none() {
            bail!(
                "relay.rtpengine: required when relay.backend = \"rtpengine\" \
                 (rtpengine's ng address, e.g. \"127.0.0.1:2223\")"
            );
        }
        if self.timeout_secs == 0 {
            bail!("relay.timeout_secs: must be at least 1");
        }
        if !(1..=64).contains(&self.threads) {
            bail!("relay.threads: {} is not 1 to 64", self.threads);
        }
        if self.advertised_address.is_some_and(|a| a.is_unspecified()) {
            bail!("relay.advertised_address: a wildcard address cannot be advertised");
        }
        self.to_embedded(media, &[]).context("relay.rtp_ports")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_share_the_media_range() {
        let r = RelaySection::default();
        assert_eq!(r.mode(), proxy::RelayMode::Nat);
        let media = MediaSection::default();
        r.validate(&media).unwrap();
        let e = r
            .to_embedded(
                &media,
                &["127.0.0.1".parse().unwrap(), "192.0.2.4".parse().unwrap()],
            )
            .unwrap();
        assert_eq!((e.first_port, e.last_port), (20000, 20999));
        assert_eq!(e.advertised_address, "192.0.2.4".parse::<IpAddr>().unwrap());
        // Replies leave from the address the phones send to.
        assert_eq!(e.bind_address, e.advertised_address);
        let elsewhere = RelaySection {
            advertised_address: Some("203.0.113.10".parse().unwrap()),
            ..RelaySection::default()
        };
        let e = elsewhere
            .to_embedded(&media, &["192.0.2.4".parse().unwrap()])
            .unwrap();
        assert!(
            e.bind_address.is_unspecified(),
            "1:1 NAT: the public address is not ours"
        );
        assert_eq!(e.timeout, Duration::from_secs(60));
    }

    #[test]
    fn bad_values_name_their_key() {
        let media = MediaSection::default();
        for (r, key) in [
            (
                RelaySection {
                    mode: "sometimes".into(),
                    ..Default::default()
                },
                "relay.mode",
            ),
            (
                RelaySection {
                    backend: "x".into(),
                    ..Default::default()
                },
                "relay.backend",
            ),
            (
                RelaySection {
                    timeout_secs: 0,
                    ..Default::default()
                },
                "relay.timeout_secs",
            ),
            (
                RelaySection {
                    threads: 0,
                    ..Default::default()
                },
                "relay.threads",
            ),
            (
                RelaySection {
                    rtp_ports: Some("9-3".into()),
                    ..Default::default()
                },
                "relay.rtp_ports",
            ),
        ] {
            let e = format!("{:#}", r.validate(&media).unwrap_err());
            assert!(e.contains(key), "{e}");
        }
    }

    #[test]
    fn rtpengine_needs_its_address() {
        let parse = |text: &str| -> anyhow::Result<RelaySection> {
            let s: RelaySection = toml::from_str(text)?;
            s.validate(&MediaSection::default())?;
            Ok(s)
        };
        assert!(parse("").unwrap().rtpengine_client().is_none());
        let s = parse("backend = \"rtpengine\"\nrtpengine = \"127.0.0.1:2223\"\n").unwrap();
        let client = s.rtpengine_client().unwrap();
        assert_eq!(client.address.to_string(), "127.0.0.1:2223");
        let e = parse("backend = \"rtpengine\"\n").unwrap_err().to_string();
        assert!(e.contains("relay.rtpengine"), "{e}");
        let e = parse("backend = \"rtpengine\"\nrtpengine = \"localhost\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rtpengine"), "{e}");
    }
}
