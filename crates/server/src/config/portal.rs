//! `[portal]`: where the web portal listens and the bounds of its sessions, login
//! throttle and audit log. Serving it is the `portal` crate's job (`crate::portal_view`
//! wires it to the running server).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::bail;
use serde::Deserialize;

/// `[portal]`: the web portal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortalSection {
    /// `IP:PORT` of the HTTP listener; empty turns the portal off.
    pub listen: String,
    /// Most sessions held at once (a login beyond ends the least recently used).
    pub max_sessions: usize,
    /// Minutes a session may stay unused.
    pub session_idle_mins: u64,
    /// Mark cookies `Secure`: set it when the portal is reached over HTTPS through a
    /// reverse proxy.
    pub secure_cookies: bool,
    /// Failed logins per address, and per account, before logins are refused.
    pub max_failed_logins: u32,
    /// Seconds failed logins are remembered and logins refused once over the limit.
    pub login_ban_secs: u64,
    /// Audit log entries kept (the oldest go).
    pub audit_keep: u64,
    /// Users per page of the user list (1 to 200).
    pub page_size: u32,
}

impl Default for PortalSection {
    fn default() -> Self {
        let d = portal::PortalConfig::default();
        Self {
            listen: "127.0.0.1:8080".into(),
            max_sessions: d.max_sessions,
            session_idle_mins: d.session_idle.as_secs() / 60,
            secure_cookies: d.secure_cookies,
            max_failed_logins: d.max_failed_logins,
            login_ban_secs: d.login_ban.as_secs(),
            audit_keep: d.audit_keep,
            page_size: d.page_size,
        }
    }
}

impl PortalSection {
    /// The listener's address; `None` when the portal is off.
    pub fn addr(&self) -> anyhow::Result<Option<SocketAddr>> {
        let l = self.listen.trim();
        if l.is_empty() {
            return Ok(None);
        }
        match l.parse() {
            Ok(a) => Ok(Some(a)),
            Err(_) => bail!("portal.listen: {l:?} is not IP:PORT (empty turns the portal off)"),
        }
    }

    /// Checks the bounds.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.addr()?;
        if self.max_sessions == 0 {
            bail!("portal.max_sessions: must be at least 1");
        }
        if self.session_idle_mins == 0 {
            bail!("portal.session_idle_mins: must be at least 1");
        }
        if self.max_failed_logins == 0 {
            bail!("portal.max_failed_logins: must be at least 1");
        }
        if self.audit_keep == 0 {
            bail!("portal.audit_keep: must be at least 1");
        }
        if !(1..=admin::MAX_PAGE).contains(&self.page_size) {
            bail!("portal.page_size: must be 1 to {}", admin::MAX_PAGE);
        }
        Ok(())
    }

    /// The portal's view of this section.
    pub fn to_portal(&self) -> portal::PortalConfig {
        portal::PortalConfig {
            max_sessions: self.max_sessions,
            session_idle: Duration::from_secs(self.session_idle_mins * 60),
            secure_cookies: self.secure_cookies,
            max_failed_logins: self.max_failed_logins,
            login_ban: Duration::from_secs(self.login_ban_secs),
            audit_keep: self.audit_keep,
            page_size: self.page_size,
            ..portal::PortalConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_by_default_off_when_empty_and_checked() {
        let d = PortalSection::default();
        assert_eq!(d.addr().unwrap(), Some("127.0.0.1:8080".parse().unwrap()));
        let off = PortalSection {
            listen: String::new(),
            ..PortalSection::default()
        };
        assert_eq!(off.addr().unwrap(), None);
        let bad = PortalSection {
            listen: "localhost".into(),
            ..PortalSection::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("portal.listen"));
        let bad = PortalSection {
            page_size: 0,
            ..PortalSection::default()
        };
        assert!(bad.validate().is_err());
    }
}
