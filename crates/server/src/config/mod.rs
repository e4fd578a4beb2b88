//! The configuration file (TOML). Every key has a default; `switchboard run` with no file
//! runs on those defaults. See docs/configuration.md for the reference.
//!
//! This module owns the whole file, its loading and the order its sections are checked in
//! (the first failing check is the error reported); each `[section]` has its own file here
//! with its keys, defaults, checks and, where one exists, the proxy's view of it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

mod auth;
mod cdr;
mod conference;
mod database;
mod dns;
mod flood;
mod media;
mod media_services;
mod messages;
mod metrics;
mod nat;
mod portal;
mod presence;
mod pstn;
mod registrar;
mod relay;
mod security;
mod server;
mod services;
mod sip;
mod tls;
mod transaction;
mod voicemail;

pub use auth::AuthSection;
pub use cdr::CdrSection;
pub use conference::ConferenceSection;
pub use database::DatabaseSection;
pub use dns::DnsSection;
pub use flood::FloodSection;
pub use media::MediaSection;
pub use media_services::{AnnouncementsSection, MohSection, ParkSection};
pub use messages::MessagesSection;
pub use metrics::MetricsSection;
pub use nat::NatSection;
pub use portal::PortalSection;
pub use presence::PresenceSection;
pub use pstn::PstnSection;
pub use registrar::RegistrarSection;
pub use relay::RelaySection;
pub use security::SecuritySection;
pub use server::ServerSection;
pub use services::ServicesSection;
pub use sip::{Listen, SipSection};
pub use tls::TlsSection;
pub use transaction::TransactionSection;
pub use voicemail::VoicemailSection;

/// The whole file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[server]`
    pub server: ServerSection,
    /// `[sip]`
    pub sip: SipSection,
    /// `[transaction]`
    pub transaction: TransactionSection,
    /// `[registrar]`
    pub registrar: RegistrarSection,
    /// `[database]`
    pub database: DatabaseSection,
    /// `[auth]`
    pub auth: AuthSection,
    /// `[metrics]`
    pub metrics: MetricsSection,
    /// `[services]`
    pub services: ServicesSection,
    /// Where this configuration was read from (not a key of the file).
    #[serde(skip)]
    pub source: crate::discovery::ConfigSource,
    /// `[flood]`
    pub flood: FloodSection,
    /// `[security]`
    pub security: SecuritySection,
    /// `[media]`
    pub media: MediaSection,
    /// `[voicemail]`
    pub voicemail: VoicemailSection,
    /// `[cdr]`
    pub cdr: CdrSection,
    /// `[portal]`
    pub portal: PortalSection,
    /// `[pstn]`
    pub pstn: PstnSection,
    /// `[conference]`
    pub conference: ConferenceSection,
    /// `[moh]`
    pub moh: MohSection,
    /// `[announcements]`
    pub announcements: AnnouncementsSection,
    /// `[park]`
    pub park: ParkSection,
    /// `[presence]`
    pub presence: PresenceSection,
    /// `[messages]`
    pub messages: MessagesSection,
    /// `[tls]`
    pub tls: TlsSection,
    /// `[dns]`
    pub dns: DnsSection,
    /// `[relay]`
    pub relay: RelaySection,
    /// `[nat]`
    pub nat: NatSection,
}
impl Config {
    /// Reads and checks a file.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let cfg: Config =
            toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks values that TOML types do not.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.listens()?;
        self.sip.validate()?;
        self.tls.validate()?;
        self.dns.validate()?;
        self.server.validate()?;
        self.registrar.validate()?;
        self.auth.validate()?;
        self.services.validate()?;
        self.voicemail.validate()?;
        self.pstn.validate()?;
        self.transaction.validate()?;
        self.media.validate()?;
        self.relay.validate(&self.media)?;
        self.nat.validate()?;
        self.moh.validate()?;
        self.announcements.validate()?;
        self.park.validate()?;
        self.voicemail.validate()?;
        self.cdr.validate()?;
        self.conference.validate()?;
        self.presence.validate()?;
        self.messages.validate()?;
        self.validate_protections()?;
        self.portal.validate()?;
        Ok(())
    }

    /// `[flood]`, `[security]` and the throttle's `[auth]` keys.
    fn validate_protections(&self) -> anyhow::Result<()> {
        self.flood.validate()?;
        self.security.validate()?;
        self.auth.validate_throttle()
    }

    /// UDP sockets to bind per address: `udp_workers`, or one per runtime thread.
    pub fn udp_sockets(&self) -> usize {
        match (self.sip.udp_workers, self.server.threads) {
            (0, 0) => std::thread::available_parallelism().map_or(1, |n| n.get()),
            (0, t) => t,
            (n, _) => n,
        }
    }

    /// The listening sockets.
    pub fn listens(&self) -> anyhow::Result<Vec<Listen>> {
        self.sip.listens()
    }

    /// The database URL.
    pub fn database_url(&self) -> String {
        self.database.url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.server.data_dir.join("switchboard.db").display()
            )
        })
    }

    /// The control socket path.
    pub fn control_path(&self) -> PathBuf {
        self.server.data_dir.join("switchboard.ctl")
    }

    /// No-answer timeout.
    pub fn no_answer_timeout(&self) -> Duration {
        Duration::from_secs(self.sip.no_answer_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let c: Config = toml::from_str("").unwrap();
        c.validate().unwrap();
        assert_eq!(c.listens().unwrap().len(), 2);
        let bad: Result<Config, _> = toml::from_str("[sip]\nlisten = 3");
        assert!(bad.is_err());
        let c: Config = toml::from_str("[sip]\nlisten = [\"sctp:1.2.3.4:5\"]").unwrap();
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("unknown transport"));
        let c: Config = toml::from_str("[sip]\nadvertised_host = \"my host\"").unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.starts_with("sip.advertised_host: \"my host\""), "{e}");
        for ok in ["sip.example.com", "192.0.2.1", "2001:db8::1"] {
            let c: Config = toml::from_str(&format!("[sip]\nadvertised_host = {ok:?}")).unwrap();
            c.validate().unwrap();
        }
        let unknown: Result<Config, _> = toml::from_str("[sip]\nlistn = []");
        assert!(unknown.unwrap_err().to_string().contains("listn"));
    }

    #[test]
    fn media_and_voicemail() {
        let c: Config = toml::from_str("").unwrap();
        assert_eq!(c.media.ports().unwrap(), (20000, 20999));
        assert_eq!(
            c.media.to_engine().unwrap().rtp_timeout,
            Duration::from_secs(60)
        );
        assert_eq!(c.voicemail.max_message_secs, 180);
        for (bad, says) in [
            (
                "[media]\nrtp_ports = \"20000\"",
                "media.rtp_ports: expected",
            ),
            (
                "[media]\nrtp_ports = \"20010-20000\"",
                "media.rtp_ports: 20010-20000",
            ),
            (
                "[media]\nrtp_ports = \"x-20000\"",
                "media.rtp_ports: \"x\" is not a port",
            ),
            ("[media]\nrtp_timeout_secs = 0", "media.rtp_timeout_secs"),
            ("[media]\nclock_nice = -21", "media.clock_nice"),
            (
                "[media]\nclock_realtime_priority = 100",
                "media.clock_realtime_priority",
            ),
            (
                "[voicemail]\nmax_message_secs = 0",
                "voicemail.max_message_secs",
            ),
        ] {
            let c: Config = toml::from_str(bad).unwrap();
            let e = format!("{:#}", c.validate().unwrap_err());
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn protections() {
        // The old name of the (source, user) limit still works.
        let c: Config = toml::from_str("[auth]\nmax_failures_per_source = 3").unwrap();
        assert_eq!(c.auth.to_proxy().max_failures_per_source_user, 3);
        let c: Config = toml::from_str(
            "[flood]\nexempt = [\"10.0.0.0/8\", \"::1\"]\n[security]\nban_action = \"reply\"",
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.flood.to_proxy().exempt.len(), 2);
        assert_eq!(c.security.ban_action(), proxy::BanAction::Reply);
        for bad in [
            "[flood]\nexempt = [\"10.0.0.0/40\"]",
            "[security]\nban_action = \"tarpit\"",
            "[flood]\nmax_requests = 0",
        ] {
            let c: Config = toml::from_str(bad).unwrap();
            assert!(c.validate().is_err(), "{bad}");
        }
    }
}
