//! `[auth]`: digest authentication and the brute-force limits, their defaults, their checks,
//! the nonce key and the proxy's view of them. Authenticating is `proxy::auth` and
//! `sip-auth`.

use anyhow::{bail, Context};
use serde::Deserialize;

/// `[auth]`: digest authentication and brute-force protection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSection {
    /// Challenge users of local domains (REGISTER 401, other requests 407).
    pub enabled: bool,
    /// Seconds a nonce is valid; older ones get `stale=true`.
    pub nonce_ttl_secs: u64,
    /// Failed attempts for one user from one source within the window before that user
    /// is refused (403) from that source. `max_failures_per_source`, its name before
    /// 2026-12, is still read.
    #[serde(alias = "max_failures_per_source")]
    pub max_failures_per_source_user: u32,
    /// Failed attempts for one existing user from anywhere within the window before the
    /// user is refused (403) from everywhere.
    pub max_failures_per_user: u32,
    /// Distinct users failing from one source within the window before the source is
    /// banned.
    pub max_users_per_source: u32,
    /// Failures for unknown users from one source within the window before the source is
    /// banned.
    pub max_unknown_per_source: u32,
    /// Bound on each failure table ((source, user) pairs, users, sources).
    pub max_tracked: usize,
    /// Failure window in seconds.
    pub failure_window_secs: u64,
    /// Seconds a ban for failed authentications lasts (source, user or pair).
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
            max_failures_per_source_user: d.max_failures_per_source_user,
            max_failures_per_user: d.max_failures_per_user,
            max_users_per_source: d.max_users_per_source,
            max_unknown_per_source: d.max_unknown_per_source,
            max_tracked: d.max_tracked,
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
            max_failures_per_source_user: self.max_failures_per_source_user,
            max_failures_per_user: self.max_failures_per_user,
            max_users_per_source: self.max_users_per_source,
            max_unknown_per_source: self.max_unknown_per_source,
            max_tracked: self.max_tracked,
            failure_window_secs: self.failure_window_secs,
            ban_secs: self.ban_secs,
            allow_alias_identity: self.allow_alias_identity,
            max_nonces: self.max_nonces,
            algorithms: self
                .algorithms
                .iter()
                .filter_map(|a| a.parse().ok())
                .collect(),
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

    /// Checks the nonce key, the algorithms and the nonce bound.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        self.secret()?;
        for a in &self.algorithms {
            match a.parse::<sip_auth::Algorithm>() {
                Ok(sip_auth::Algorithm::Md5 | sip_auth::Algorithm::Sha256) => {}
                _ => bail!("auth.algorithms: {a:?} is not \"MD5\" or \"SHA-256\""),
            }
        }
        if self.max_nonces == 0 {
            bail!("auth.max_nonces: must be at least 1");
        }
        if self.algorithms.is_empty() {
            bail!("auth.algorithms: at least one algorithm is needed");
        }
        Ok(())
    }

    /// Checks the brute-force limits (with `[flood]` and `[security]`, the protections).
    pub(super) fn validate_throttle(&self) -> anyhow::Result<()> {
        if [
            self.max_failures_per_source_user,
            self.max_failures_per_user,
            self.max_users_per_source,
            self.max_unknown_per_source,
        ]
        .contains(&0)
            || self.max_tracked == 0
        {
            bail!("auth: the max_failures_*, max_*_per_source and max_tracked limits must be at least 1");
        }
        Ok(())
    }
}
