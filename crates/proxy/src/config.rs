//! Proxy settings.

use std::time::Duration;

use crate::auth::AuthConfig;
use crate::flood::FloodConfig;

/// Whether INVITEs are proxied or redirected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Stateful forking proxy.
    Proxy,
    /// Redirect server: answer INVITE with 302 and the callee's contacts.
    Redirect,
}

/// What happens to messages from a banned source (`[security] ban_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanAction {
    /// Dropped unanswered: a scanner or cracking tool waits for its own timeout and the
    /// server spends nothing on it.
    Drop,
    /// Requests get a stateless answer (403 for an authentication ban, 503 with
    /// Retry-After for a flood ban); responses and ACKs are dropped.
    Reply,
}

/// What the proxy needs to know about itself.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Host (IP or name) put in Via and Record-Route and recognised in Route, for every
    /// peer (behind 1:1 NAT). None: each peer gets the local address it reaches
    /// (see `interfaces.rs`).
    pub advertised_host: Option<String>,
    /// Every address this server listens on (a wildcard listener: every interface address
    /// of its family). Recognised as this server in Route, Request-URI and Via.
    pub local_addrs: Vec<std::net::IpAddr>,
    /// Every port this server listens on.
    pub listen_ports: Vec<u16>,
    /// Port put in Via and Record-Route.
    pub advertised_port: u16,
    /// Ports put in Via and Record-Route for transports listening elsewhere than
    /// `advertised_port` (TLS on 5061): see [`ProxyConfig::port_for`].
    pub transport_ports: Vec<(crate::destination::Transport, u16)>,
    /// Other host names and addresses that mean "this server" in a Route or Request-URI.
    pub aliases: Vec<String>,
    /// Proxy or redirect.
    pub mode: ProxyMode,
    /// Add Record-Route to dialog-creating requests.
    pub record_route: bool,
    /// How long an INVITE may ring (no final response) before the proxy cancels it.
    pub no_answer_timeout: Duration,
    /// Most calls (INVITE forks) in progress; more get 503 with Retry-After.
    pub max_forks: usize,
    /// The Server / User-Agent value.
    pub server_name: String,
    /// Several nodes share one database: look registrations up in the store on every
    /// call (through [`crate::Proxy::poll_query`]) instead of this node's memory.
    pub shared_location: bool,
    /// Requests larger than this many bytes go over TCP instead of UDP (RFC 3261 §18.1.1:
    /// 1300 when the path MTU is unknown); 0 disables the switch.
    pub udp_max_request_bytes: usize,
    /// Treat every UDP request as if its top Via carried `rport` (RFC 3581): answer at the
    /// source address and port, and record `received`/`rport` (Kamailio's `force_rport()`).
    pub force_rport: bool,
    /// Digest authentication.
    pub auth: AuthConfig,
    /// Key that signs nonces; nodes behind one name must share it.
    pub secret: [u8; 32],
    /// Call services (forwarding, find-me, screening).
    pub services: crate::services::ServicesConfig,
    /// The flood limiter.
    pub flood: FloodConfig,
    /// What banned sources get.
    pub ban_action: BanAction,
    /// Most bans in force at once; when full, the oldest ban is forgotten.
    pub max_bans: usize,
    /// Request-URIs whose host is a name are resolved (RFC 3263) through
    /// [`crate::Proxy::poll_query`]; false: they get 503 (no resolver).
    pub dns: bool,
    /// Which calls the media relay carries (`[relay] mode`); `Never` without a relay.
    pub relay: crate::nat::RelayMode,
    /// The relay terminates DTLS-SRTP and ICE (rtpengine), so a browser and a plain RTP
    /// phone can be bridged; false (the embedded relay): such a call gets 488.
    pub relay_bridges_webrtc: bool,
    /// Keep-alives to phones registered over UDP from behind NAT (`[nat]`).
    pub keepalive: KeepAliveConfig,
}

/// What a keep-alive to a phone behind NAT is (`[nat] keepalive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeepAliveMode {
    /// An OPTIONS request: the phone answers, so a silent phone shows.
    #[default]
    Options,
    /// A double CRLF datagram: the smallest thing a SIP stack skips; no answer.
    Crlf,
}

/// `[nat] keepalive_secs` and `[nat] keepalive`.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeepAliveConfig {
    /// Time between pings to one phone; zero: no keep-alives.
    pub interval: Duration,
    /// What is sent.
    pub mode: KeepAliveMode,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            advertised_host: None,
            local_addrs: vec![std::net::IpAddr::from([127, 0, 0, 1])],
            listen_ports: vec![5060],
            advertised_port: 5060,
            transport_ports: Vec::new(),
            aliases: Vec::new(),
            mode: ProxyMode::Proxy,
            record_route: true,
            no_answer_timeout: Duration::from_secs(60),
            max_forks: 65536,
            server_name: concat!("Switchboard/", env!("CARGO_PKG_VERSION")).into(),
            shared_location: false,
            udp_max_request_bytes: 1300,
            force_rport: true,
            auth: AuthConfig::default(),
            secret: [7; 32],
            services: crate::services::ServicesConfig::default(),
            flood: FloodConfig::default(),
            ban_action: BanAction::Drop,
            max_bans: 65536,
            dns: false,
            relay: crate::nat::RelayMode::Never,
            relay_bridges_webrtc: false,
            keepalive: KeepAliveConfig::default(),
        }
    }
}

impl ProxyConfig {
    /// The port a peer reaches this server on over `transport`: its own listener's port
    /// when one is configured for it, else `advertised_port` (UDP and TCP share it).
    pub fn port_for(&self, transport: crate::destination::Transport) -> u16 {
        self.transport_ports
            .iter()
            .find(|(t, _)| *t == transport)
            .map_or(self.advertised_port, |(_, p)| *p)
    }
}
