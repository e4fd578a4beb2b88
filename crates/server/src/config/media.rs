//! `[media]`: the media engine's keys (RTP port range, addresses, dead-media timeout) and
//! the service host's SIP address; their defaults, checks and the engine's view of them.
//! The engine is the `media` crate, the host the `services` crate.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

/// `[media]`: RTP for media services (docs/media.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaSection {
    /// Run the media engine and the service host (voicemail).
    pub enabled: bool,
    /// RTP ports, `"FIRST-LAST"`; each call takes one even port.
    pub rtp_ports: String,
    /// Address the RTP sockets bind to.
    pub bind_address: IpAddr,
    /// Address written in SDP; default: `bind_address`, or the host's address when that
    /// is a wildcard.
    pub advertised_address: Option<IpAddr>,
    /// A call with no RTP for this long is hung up (logged).
    pub rtp_timeout_secs: u64,
    /// The service host's SIP address (the proxy sends calls for services there).
    pub service_listen: SocketAddr,
    /// The media clock thread's nice value (-20 to 19; 0 leaves it alone).
    pub clock_nice: i32,
    /// The media clock thread's `SCHED_FIFO` priority (1 to 99; 0: off). Default 10: the
    /// clock must wake on time on a busy host (decision 0028); refused, `clock_nice` applies.
    pub clock_realtime_priority: u8,
}

impl Default for MediaSection {
    fn default() -> Self {
        MediaSection {
            enabled: true,
            rtp_ports: "20000-20999".into(),
            bind_address: IpAddr::from([0, 0, 0, 0]),
            advertised_address: None,
            rtp_timeout_secs: 60,
            service_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            clock_nice: -10,
            clock_realtime_priority: 10,
        }
    }
}

impl MediaSection {
    /// The port range.
    pub fn ports(&self) -> anyhow::Result<(u16, u16)> {
        let (a, b) = self
            .rtp_ports
            .split_once('-')
            .context("media.rtp_ports: expected \"FIRST-LAST\", e.g. \"20000-20999\"")?;
        let first: u16 = a
            .trim()
            .parse()
            .with_context(|| format!("media.rtp_ports: {a:?} is not a port"))?;
        let last: u16 = b
            .trim()
            .parse()
            .with_context(|| format!("media.rtp_ports: {b:?} is not a port"))?;
        if first == 0 || first > last || last - first < 1 {
            bail!(
                "media.rtp_ports: {first}-{last} holds no even port pair (FIRST < LAST, FIRST > 0)"
            );
        }
        Ok((first, last))
    }

    /// The engine's view.
    pub fn to_engine(&self) -> anyhow::Result<media::MediaConfig> {
        let (first_port, last_port) = self.ports()?;
        Ok(media::MediaConfig {
            bind_address: self.bind_address,
            advertised_address: self.advertised_address,
            first_port,
            last_port,
            rtp_timeout: Duration::from_secs(self.rtp_timeout_secs),
            clock_nice: self.clock_nice,
            clock_realtime_priority: self.clock_realtime_priority,
            ..media::MediaConfig::default()
        })
    }

    /// Checks the port range and the timeout.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        self.ports()?;
        if !(-20..=19).contains(&self.clock_nice) {
            bail!(
                "media.clock_nice: {} is not a nice value (-20 to 19)",
                self.clock_nice
            );
        }
        if self.clock_realtime_priority > 99 {
            bail!(
                "media.clock_realtime_priority: {} is not a SCHED_FIFO priority (1 to 99, 0: off)",
                self.clock_realtime_priority
            );
        }
        if self.rtp_timeout_secs == 0 {
            bail!("media.rtp_timeout_secs: must be at least 1");
        }
        if self.advertised_address.is_some_and(|a| a.is_unspecified()) {
            bail!("media.advertised_address: a wildcard address cannot be advertised");
        }
        Ok(())
    }
}
