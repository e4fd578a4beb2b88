//! `[messages]`: instant messages kept for users who are offline (RFC 3428 MESSAGE,
//! docs/messages.md): whether they are, their bounds and how long they are kept; their
//! defaults, checks, and the proxy's view (`proxy::MessagesConfig`).

use anyhow::bail;
use serde::Deserialize;

/// `[messages]` (docs/messages.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessagesSection {
    /// A MESSAGE to a user with no phone online is stored (202) and delivered when the
    /// user registers; false: 480 as before.
    pub enabled: bool,
    /// Most messages kept for one user; more are answered 486.
    pub max_per_user: u32,
    /// Largest body stored, in bytes; larger ones are answered 413.
    pub max_bytes: usize,
    /// Messages older than this many days are deleted undelivered (0: kept until
    /// delivered or purged).
    pub keep_days: u32,
    /// Failed deliveries of one message before it is deleted (with a log line).
    pub max_attempts: u32,
}

impl Default for MessagesSection {
    fn default() -> Self {
        let d = proxy::MessagesConfig::default();
        MessagesSection {
            enabled: d.enabled,
            max_per_user: d.max_per_user,
            max_bytes: d.max_bytes,
            keep_days: 30,
            max_attempts: 10,
        }
    }
}

impl MessagesSection {
    /// The proxy's view.
    pub fn to_proxy(&self) -> proxy::MessagesConfig {
        proxy::MessagesConfig {
            enabled: self.enabled,
            max_per_user: self.max_per_user,
            max_bytes: self.max_bytes,
        }
    }

    /// Checks the bounds.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.max_per_user == 0 || self.max_per_user > 10_000 {
            bail!("messages.max_per_user: must be 1 to 10000");
        }
        if self.max_bytes == 0 || self.max_bytes > model::MAX_IM_BODY_LEN {
            bail!(
                "messages.max_bytes: must be 1 to {}",
                model::MAX_IM_BODY_LEN
            );
        }
        if self.max_attempts == 0 || self.max_attempts > 1000 {
            bail!("messages.max_attempts: must be 1 to 1000");
        }
        if self.keep_days > 3650 {
            bail!("messages.keep_days: must be 0 to 3650");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked() {
        MessagesSection::default().validate().unwrap();
        let bad = MessagesSection {
            max_bytes: model::MAX_IM_BODY_LEN + 1,
            ..MessagesSection::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_bytes"));
        let bad = MessagesSection {
            max_per_user: 0,
            ..MessagesSection::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_per_user"));
    }
}
