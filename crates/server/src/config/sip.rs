//! `[sip]`: listening sockets, the advertised address, proxy or redirect mode and the bounds
//! on calls, connections and messages; their defaults and checks. The transports and the
//! proxy core apply them.

use std::net::SocketAddr;

use anyhow::{bail, Context};
use serde::Deserialize;

/// `[sip]`: listening and proxy behaviour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipSection {
    /// Listening sockets as `udp:IP:PORT`, `tcp:IP:PORT`, `tls:IP:PORT`, `ws:IP:PORT` or
    /// `wss:IP:PORT`.
    pub listen: Vec<String>,
    /// Host put in Via and Record-Route; default: the first listen address, or 127.0.0.1
    /// when that is a wildcard.
    pub advertised_host: Option<String>,
    /// Port put in Via and Record-Route; default: the first listen port.
    pub advertised_port: Option<u16>,
    /// Other names of this server (recognised in Route and Request-URI).
    pub aliases: Vec<String>,
    /// "proxy" or "redirect".
    pub mode: String,
    /// Record-Route dialog-creating requests.
    pub record_route: bool,
    /// Seconds an INVITE may ring unanswered.
    pub no_answer_timeout_secs: u64,
    /// Most calls being set up at once.
    pub max_calls: usize,
    /// UDP sockets per address, bound with `SO_REUSEPORT` (0: one per runtime thread).
    pub udp_workers: usize,
    /// Most TCP connections.
    pub max_connections: usize,
    /// Seconds before an idle TCP connection is closed.
    pub tcp_idle_timeout_secs: u64,
    /// Largest message accepted.
    pub max_message_bytes: usize,
    /// Requests forwarded over UDP that are larger than this go over TCP instead (RFC 3261
    /// §18.1.1); 0 keeps them on UDP (for phones that cannot take TCP, e.g. behind NAT).
    pub udp_max_request_bytes: usize,
    /// Answer every UDP request at its source address and port, and record `received` and
    /// `rport` in its Via as if the client had asked (RFC 3581; Kamailio's `force_rport()`),
    /// for phones behind NAT that do not send `rport`. False: RFC 3261 §18.2.2 (the Via port).
    pub force_rport: bool,
    /// Origins a WebSocket upgrade may come from (`https://phone.example.com`); empty:
    /// any origin. Others are refused with 403.
    pub ws_origins: Vec<String>,
}

impl Default for SipSection {
    fn default() -> Self {
        SipSection {
            listen: vec!["udp:0.0.0.0:5060".into(), "tcp:0.0.0.0:5060".into()],
            advertised_host: None,
            advertised_port: None,
            aliases: Vec::new(),
            mode: "proxy".into(),
            record_route: true,
            no_answer_timeout_secs: 60,
            max_calls: 65536,
            udp_workers: 0,
            max_connections: 4096,
            tcp_idle_timeout_secs: 600,
            max_message_bytes: 65535,
            udp_max_request_bytes: 1300,
            force_rport: true,
            ws_origins: Vec::new(),
        }
    }
}

/// One listening socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    /// UDP, TCP or TLS.
    pub kind: transport::TransportKind,
    /// Address.
    pub addr: SocketAddr,
}

impl SipSection {
    /// Checks the advertised host and the mode (the listening sockets are checked by
    /// [`SipSection::listens`]).
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if let Some(h) = &self.advertised_host {
            model::validate::check_host("sip.advertised_host", h).map_err(|e| match e {
                model::StoreError::Invalid { field, why } => anyhow::anyhow!("{field}: {why}"),
                e => anyhow::anyhow!("{e}"),
            })?;
        }
        if !matches!(self.mode.as_str(), "proxy" | "redirect") {
            bail!(
                "sip.mode: expected \"proxy\" or \"redirect\", got {:?}",
                self.mode
            );
        }
        Ok(())
    }

    /// The listening sockets.
    pub fn listens(&self) -> anyhow::Result<Vec<Listen>> {
        if self.listen.is_empty() {
            bail!("sip.listen: at least one address is needed");
        }
        self.listen
            .iter()
            .map(|l| {
                let (t, a) = l
                    .split_once(':')
                    .with_context(|| format!("sip.listen: {l:?} is not transport:ip:port"))?;
                let kind = transport::TransportKind::parse(t).with_context(|| {
                    format!(
                        "sip.listen: unknown transport {t:?} in {l:?} (udp, tcp, tls, ws or wss)"
                    )
                })?;
                let addr: SocketAddr = a
                    .parse()
                    .with_context(|| format!("sip.listen: bad address in {l:?}"))?;
                Ok(Listen { kind, addr })
            })
            .collect()
    }
}
