//! The configuration file (TOML). Every key has a default; `switchboard run` with no file
//! runs on those defaults. See docs/configuration.md for the reference.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

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
}

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
        }
    }
}

/// `[metrics]`: the Prometheus endpoint.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSection {
    /// Address of the HTTP endpoint serving `GET /metrics`, e.g. "127.0.0.1:9090". Off when
    /// absent.
    pub listen: Option<SocketAddr>,
}

/// `[server]`: process-wide settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Where the SQLite database and the control socket live.
    pub data_dir: PathBuf,
    /// This node's name (recorded in bindings; must differ between nodes sharing a database).
    pub node_name: String,
    /// Log format: "text" or "json".
    pub log_format: String,
    /// Create the demo domain and users when the database has no domain at all.
    pub demo: bool,
    /// Seconds a SIGTERM waits for pending transactions.
    pub shutdown_grace_secs: u64,
    /// Bound on the queue between the network and the proxy core; beyond it messages are
    /// dropped and counted (UDP senders retransmit).
    pub core_queue: usize,
    /// Threads of the async runtime: 1 (default) runs the transports and the proxy core on
    /// one thread; n > 1 a work-stealing pool of n; 0 one per core.
    pub threads: usize,
    /// Let the kernel back the heap with 2 MB transparent huge pages (when its policy
    /// allows). Off by default: on a heap of small objects they cost ~25 MB with 50,000
    /// contacts and no measurable CPU.
    pub transparent_huge_pages: bool,
    /// A request that would start new work (INVITE, REGISTER, SUBSCRIBE, OPTIONS, MESSAGE,
    /// PUBLISH) and waited longer than this in the core queue is dropped unanswered; its
    /// sender retransmits (0: never drop).
    pub max_queue_delay_ms: u64,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            data_dir: PathBuf::from("data"),
            node_name: "switchboard".into(),
            log_format: "text".into(),
            demo: true,
            shutdown_grace_secs: 32,
            core_queue: 65536,
            threads: 1,
            transparent_huge_pages: false,
            max_queue_delay_ms: 1000,
        }
    }
}

/// `[sip]`: listening and proxy behaviour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipSection {
    /// Listening sockets as `udp:IP:PORT` or `tcp:IP:PORT`.
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
        }
    }
}

/// `[transaction]`: RFC 3261 timers and the table bound.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransactionSection {
    /// T1 in milliseconds.
    pub t1_ms: u64,
    /// T2 in milliseconds.
    pub t2_ms: u64,
    /// T4 in milliseconds.
    pub t4_ms: u64,
    /// Most live transactions; more get 503 + Retry-After.
    pub max_transactions: usize,
}

impl Default for TransactionSection {
    fn default() -> Self {
        TransactionSection {
            t1_ms: 500,
            t2_ms: 4000,
            t4_ms: 5000,
            max_transactions: 1 << 20,
        }
    }
}

/// `[registrar]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrarSection {
    /// Shortest registration accepted (423 below).
    pub min_expires: u32,
    /// Longest registration granted.
    pub max_expires: u32,
    /// Expiry when none is asked for.
    pub default_expires: u32,
    /// Most contacts per address-of-record.
    pub max_contacts_per_aor: usize,
    /// Most bindings in total.
    pub max_bindings: usize,
    /// How long binding changes gather before they are written to the database in one
    /// transaction (0: write as soon as the writer is free). A crash loses at most this
    /// much; a clean stop writes everything.
    pub write_behind_ms: u64,
}

impl Default for RegistrarSection {
    fn default() -> Self {
        let d = registrar::RegistrarConfig::default();
        RegistrarSection {
            min_expires: d.min_expires,
            max_expires: d.max_expires,
            default_expires: d.default_expires,
            max_contacts_per_aor: d.max_contacts_per_aor,
            max_bindings: d.max_bindings,
            write_behind_ms: 1000,
        }
    }
}

/// `[auth]`: digest authentication and brute-force protection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSection {
    /// Challenge users of local domains (REGISTER 401, other requests 407).
    pub enabled: bool,
    /// Seconds a nonce is valid; older ones get `stale=true`.
    pub nonce_ttl_secs: u64,
    /// Failed attempts per source address within the window before it is refused.
    pub max_failures_per_source: u32,
    /// Failed attempts per user within the window before the user is refused.
    pub max_failures_per_user: u32,
    /// Failure window in seconds.
    pub failure_window_secs: u64,
    /// Seconds a source or user stays refused.
    pub ban_secs: u64,
    /// Allow an authenticated user to use one of their aliases in From.
    pub allow_alias_identity: bool,
    /// Digest algorithms offered, in order: "MD5", "SHA-256".
    pub algorithms: Vec<String>,
    /// 64 hex digits signing nonces; nodes sharing a domain must share it. Default: random
    /// at each start (nonces then do not survive a restart: phones just re-authenticate).
    pub nonce_secret: Option<String>,
    /// Most nonces whose nonce-counts are tracked against replay; beyond, the oldest are
    /// forgotten and anything issued before them is answered `stale=true`.
    pub max_nonces: usize,
}

impl Default for AuthSection {
    fn default() -> Self {
        let d = proxy::AuthConfig::default();
        AuthSection {
            enabled: d.enabled,
            nonce_ttl_secs: d.nonce_ttl_secs,
            max_failures_per_source: d.max_failures_per_source,
            max_failures_per_user: d.max_failures_per_user,
            failure_window_secs: d.failure_window_secs,
            ban_secs: d.ban_secs,
            allow_alias_identity: d.allow_alias_identity,
            algorithms: d
                .algorithms
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
            nonce_secret: None,
            max_nonces: d.max_nonces,
        }
    }
}

impl AuthSection {
    /// The proxy's view.
    pub fn to_proxy(&self) -> proxy::AuthConfig {
        proxy::AuthConfig {
            enabled: self.enabled,
            nonce_ttl_secs: self.nonce_ttl_secs,
            max_failures_per_source: self.max_failures_per_source,
            max_failures_per_user: self.max_failures_per_user,
            failure_window_secs: self.failure_window_secs,
            ban_secs: self.ban_secs,
            allow_alias_identity: self.allow_alias_identity,
            max_nonces: self.max_nonces,
            algorithms: self
                .algorithms
                .iter()
                .filter_map(|a| a.parse().ok())
                .collect(),
            ..proxy::AuthConfig::default()
        }
    }

    /// The nonce key: from the file, or random.
    pub fn secret(&self) -> anyhow::Result<[u8; 32]> {
        let mut key = [0u8; 32];
        match &self.nonce_secret {
            Some(hex) => {
                let b = hex.as_bytes();
                if b.len() != 64 || !b.iter().all(u8::is_ascii_hexdigit) {
                    bail!("auth.nonce_secret: expected 64 hex digits");
                }
                for (i, k) in key.iter_mut().enumerate() {
                    *k = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)?;
                }
            }
            None => {
                use std::io::Read as _;
                std::fs::File::open("/dev/urandom")
                    .and_then(|mut f| f.read_exact(&mut key))
                    .context("reading /dev/urandom for the nonce key")?;
            }
        }
        Ok(key)
    }
}

/// `[database]`
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSection {
    /// `sqlite://...`, `mysql://...` or `postgres://...`; default: SQLite in the data dir.
    pub url: Option<String>,
    /// Connection pool size.
    pub max_connections: Option<u32>,
    /// Several Switchboard nodes share this database: look registrations up in it on every
    /// call, so a phone registered on one node is reached through any other.
    pub shared_location: bool,
}

/// One listening socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    /// true for TCP.
    pub tcp: bool,
    /// Address.
    pub addr: SocketAddr,
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
        if let Some(h) = &self.sip.advertised_host {
            model::validate::check_host("sip.advertised_host", h).map_err(|e| match e {
                model::StoreError::Invalid { field, why } => anyhow::anyhow!("{field}: {why}"),
                e => anyhow::anyhow!("{e}"),
            })?;
        }
        if !matches!(self.sip.mode.as_str(), "proxy" | "redirect") {
            bail!(
                "sip.mode: expected \"proxy\" or \"redirect\", got {:?}",
                self.sip.mode
            );
        }
        if !matches!(self.server.log_format.as_str(), "text" | "json") {
            bail!("server.log_format: expected \"text\" or \"json\"");
        }
        let r = &self.registrar;
        if r.min_expires > r.max_expires || r.default_expires > r.max_expires {
            bail!("registrar: need min_expires <= default_expires <= max_expires");
        }
        self.auth.secret()?;
        for a in &self.auth.algorithms {
            match a.parse::<sip_auth::Algorithm>() {
                Ok(sip_auth::Algorithm::Md5 | sip_auth::Algorithm::Sha256) => {}
                _ => bail!("auth.algorithms: {a:?} is not \"MD5\" or \"SHA-256\""),
            }
        }
        if self.auth.max_nonces == 0 {
            bail!("auth.max_nonces: must be at least 1");
        }
        if self.auth.algorithms.is_empty() {
            bail!("auth.algorithms: at least one algorithm is needed");
        }
        if let Some(a) = &self.services.screening_announcement {
            if !(a.starts_with("sip:") || a.starts_with("sips:") || a.starts_with("http"))
                || a.contains(['<', '>', ' ', '\r', '\n'])
            {
                bail!("services.screening_announcement: {a:?} is not a sip: or http(s) URI");
            }
        }
        if self.services.findme_contact_ring_secs == 0 {
            bail!("services.findme_contact_ring_secs: must be at least 1");
        }
        if self.transaction.t1_ms == 0 || self.transaction.t2_ms < self.transaction.t1_ms {
            bail!("transaction: need 0 < t1_ms <= t2_ms");
        }
        Ok(())
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
        if self.sip.listen.is_empty() {
            bail!("sip.listen: at least one address is needed");
        }
        self.sip
            .listen
            .iter()
            .map(|l| {
                let (t, a) = l
                    .split_once(':')
                    .with_context(|| format!("sip.listen: {l:?} is not transport:ip:port"))?;
                let tcp = match t.to_ascii_lowercase().as_str() {
                    "udp" => false,
                    "tcp" => true,
                    other => bail!("sip.listen: unknown transport {other:?} in {l:?} (udp or tcp)"),
                };
                let addr: SocketAddr = a
                    .parse()
                    .with_context(|| format!("sip.listen: bad address in {l:?}"))?;
                Ok(Listen { tcp, addr })
            })
            .collect()
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
}
