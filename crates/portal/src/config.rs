//! The portal's settings (`[portal]` in the server's configuration file), with their
//! defaults and bounds.

use std::path::PathBuf;
use std::time::Duration;

/// How the portal runs.
#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// Most sessions held at once; a new login beyond it ends the least recently used one.
    pub max_sessions: usize,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// Mark cookies `Secure` (the portal is reached over TLS, through a reverse proxy).
    pub secure_cookies: bool,
    /// Failed logins from one address, or for one account, before logins are refused.
    pub max_failed_logins: u32,
    /// How long failed logins are remembered, and logins refused once over the limit.
    pub login_ban: Duration,
    /// Audit log entries kept (the oldest go).
    pub audit_keep: u64,
    /// Users per page of the user list (and records per page of the call history).
    pub page_size: u32,
    /// The server's data directory (voicemail files are under `voicemail/USER@DOMAIN/`).
    pub data_dir: PathBuf,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            max_sessions: 10_000,
            session_idle: Duration::from_secs(30 * 60),
            secure_cookies: false,
            max_failed_logins: 5,
            login_ban: Duration::from_secs(300),
            audit_keep: 100_000,
            page_size: 50,
            data_dir: PathBuf::from("data"),
        }
    }
}
