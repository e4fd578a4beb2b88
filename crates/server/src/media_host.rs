//! Starting and stopping the media engine and the service host (voicemail, music on
//! hold, announcements) for `switchboard run`, from `[media]`, `[voicemail]`, `[moh]` and
//! `[announcements]`.
//!
//! Mailbox data comes from the database through `mailboxes::StoreMailboxes`; each change
//! the service makes to a mailbox (a message left, saved or deleted) is handed back by
//! [`MediaHost::take_changes`], and `run.rs` turns it into message-waiting NOTIFYs.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use media::MediaEngine;
use services::{HostConfig, HostStatsHandle, MailboxChanged, Prompts, ServiceHost};
use tokio::sync::mpsc;

use crate::config::Config;

/// The sources the host serves: the proxy's own addresses and loopback.
fn trusted(sip_addrs: &[std::net::SocketAddr]) -> Vec<std::net::IpAddr> {
    let mut t: Vec<std::net::IpAddr> = vec![
        std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::Ipv6Addr::LOCALHOST.into(),
    ];
    for a in sip_addrs {
        if !a.ip().is_unspecified() && !t.contains(&a.ip()) {
            t.push(a.ip());
        }
    }
    t
}

/// Where `/metrics` reads the engine's and the host's counters (set while they run).
static METRICS: Mutex<Option<(MediaEngine, HostStatsHandle)>> = Mutex::new(None);

/// The conference rooms, while the host runs (`switchboard conference list`, metrics).
static CONFERENCE: Mutex<Option<services::conference::ConferenceRooms>> = Mutex::new(None);

/// The conference bridge's rooms, when the service host runs.
pub fn conference_rooms() -> Option<services::conference::ConferenceRooms> {
    CONFERENCE.lock().ok().and_then(|c| c.clone())
}

/// Appends the media engine's and the service host's metrics (nothing when not running).
pub fn render_metrics(out: &mut String) {
    let Some((engine, host)) = METRICS.lock().ok().and_then(|m| m.clone()) else {
        return;
    };
    let e = engine.stats();
    let h = host.get();
    let rooms = conference_rooms().map(|c| c.list()).unwrap_or_default();
    let participants: usize = rooms.iter().map(|r| r.participants.len()).sum();
    let lines: [(&str, &str, &str, u64); 11] = [
        (
            "switchboard_media_sessions",
            "gauge",
            "RTP sessions open (bounded by [media] rtp_ports).",
            e.sessions as u64,
        ),
        (
            "switchboard_media_sessions_refused_total",
            "counter",
            "Calls refused for want of an RTP port.",
            e.refused,
        ),
        (
            "switchboard_media_clock_ticks_total",
            "counter",
            "Ticks of the media clock (four per 20 ms while media is open; none while idle).",
            e.ticks,
        ),
        (
            "switchboard_media_clock_late_ticks_total",
            "counter",
            "Ticks that started more than 2 ms late.",
            e.late_ticks,
        ),
        (
            "switchboard_media_clock_max_lateness_microseconds",
            "gauge",
            "The latest a tick started after its due time.",
            e.max_lateness_us,
        ),
        (
            "switchboard_service_calls",
            "gauge",
            "Calls in progress on the service host.",
            h.calls,
        ),
        (
            "switchboard_service_calls_answered_total",
            "counter",
            "Calls the service host answered.",
            h.answered,
        ),
        (
            "switchboard_service_calls_refused_total",
            "counter",
            "INVITEs the service host refused.",
            h.refused,
        ),
        (
            "switchboard_conference_rooms",
            "gauge",
            "Conference rooms open (bounded by [conference] max_rooms).",
            rooms.len() as u64,
        ),
        (
            "switchboard_conference_participants",
            "gauge",
            "Participants in conference rooms (PIN prompts included).",
            participants as u64,
        ),
        (
            "switchboard_park_orbits_in_use",
            "gauge",
            "Call park orbits holding a call, all domains (bounded by [park] orbits per domain).",
            h.parked,
        ),
    ];
    for (name, kind, help, v) in lines {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
        );
    }
}

/// The running engine and host.
pub struct MediaHost {
    engine: MediaEngine,
    host: ServiceHost,
    changes: Option<mpsc::Receiver<MailboxChanged>>,
}

impl MediaHost {
    /// Starts both, when `[media] enabled`. `sip_addrs` are the proxy's bound SIP
    /// sockets: INVITEs to the host are trusted from their addresses and from loopback
    /// (a proxy on a wildcard address reaches the loopback host from 127.0.0.1).
    /// `proxy_udp` is the proxy's UDP socket: the calls the host places (a parked call's
    /// ring-back) go there (a wildcard address is reached on loopback).
    pub async fn start(
        cfg: &Config,
        sip_addrs: &[std::net::SocketAddr],
        proxy_udp: Option<std::net::SocketAddr>,
        store: Arc<dyn model::VoicemailStore>,
    ) -> anyhow::Result<Option<MediaHost>> {
        if !cfg.media.enabled {
            return Ok(None);
        }
        let engine =
            MediaEngine::start(cfg.media.to_engine()?).context("starting the media engine")?;
        let prompts_dir = cfg.voicemail.prompts_dir(&cfg.server.data_dir);
        if !prompts_dir.is_dir() {
            tracing::warn!(dir = %prompts_dir.display(), "voicemail prompt directory missing: prompts play as silence");
        }
        let (tx, rx) = mpsc::channel::<MailboxChanged>(1024);
        let host = ServiceHost::start(
            HostConfig {
                listen: cfg.media.service_listen,
                trusted: trusted(sip_addrs),
                voicemail: cfg.voicemail.to_service(&cfg.server.data_dir),
                conference: cfg.conference.to_service(),
                moh_files: cfg.moh.files.clone(),
                announcements_dir: cfg.announcements.dir.clone(),
                park_orbits: cfg.park.orbits()?,
                park_timeout: std::time::Duration::from_secs(cfg.park.timeout_secs),
                proxy: proxy_udp.map(|a| {
                    let ip = match a.ip() {
                        std::net::IpAddr::V4(v4) if v4.is_unspecified() => {
                            std::net::Ipv4Addr::LOCALHOST.into()
                        }
                        std::net::IpAddr::V6(v6) if v6.is_unspecified() => {
                            std::net::Ipv6Addr::LOCALHOST.into()
                        }
                        ip => ip,
                    };
                    std::net::SocketAddr::new(ip, a.port())
                }),
                ..HostConfig::default()
            },
            engine.clone(),
            Arc::new(crate::mailboxes::StoreMailboxes::new(
                store,
                cfg.voicemail.max_messages,
            )),
            Arc::new(Prompts::new(prompts_dir)),
            tx,
        )
        .await
        .with_context(|| format!("binding the service host on {}", cfg.media.service_listen))?;
        let (first, last) = cfg.media.ports()?;
        tracing::info!(
            services = %host.local_addr(),
            rtp_ports = %format!("{first}-{last}"),
            "media engine and service host ready"
        );
        if let Ok(mut m) = METRICS.lock() {
            *m = Some((engine.clone(), host.stats_handle()));
        }
        if let Ok(mut c) = CONFERENCE.lock() {
            *c = Some(host.conference_rooms());
        }
        Ok(Some(MediaHost {
            engine,
            host,
            changes: Some(rx),
        }))
    }

    /// The mailboxes the service changed (once: the caller drains them).
    pub fn take_changes(&mut self) -> Option<mpsc::Receiver<MailboxChanged>> {
        self.changes.take()
    }

    /// The service host's SIP address (the proxy's `services.host`).
    pub fn services_addr(&self) -> std::net::SocketAddr {
        self.host.local_addr()
    }

    /// Stops the host and the engine's clock.
    pub fn stop(self) {
        if let Ok(mut m) = METRICS.lock() {
            *m = None;
        }
        if let Ok(mut c) = CONFERENCE.lock() {
            *c = None;
        }
        self.host.shutdown();
        self.engine.shutdown();
    }
}
