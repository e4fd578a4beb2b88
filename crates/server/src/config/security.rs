//! `[security]`: what banned sources get, and how many bans are kept. The bans themselves are
//! the proxy's.

use anyhow::bail;
use serde::Deserialize;

/// `[security]`: what banned sources get.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySection {
    /// "drop" (default): a banned source gets silence; "reply": its requests get 403
    /// (authentication ban) or 503 (flood ban).
    pub ban_action: String,
    /// Most bans in force at once (sources, users, source-user pairs).
    pub max_bans: usize,
}

impl Default for SecuritySection {
    fn default() -> Self {
        SecuritySection {
            ban_action: "drop".into(),
            max_bans: proxy::ProxyConfig::default().max_bans,
        }
    }
}

impl SecuritySection {
    /// The ban action.
    pub fn ban_action(&self) -> proxy::BanAction {
        if self.ban_action == "reply" {
            proxy::BanAction::Reply
        } else {
            proxy::BanAction::Drop
        }
    }

    /// Checks the ban action and the bound.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if !matches!(self.ban_action.as_str(), "drop" | "reply") {
            bail!(
                "security.ban_action: expected \"drop\" or \"reply\", got {:?}",
                self.ban_action
            );
        }
        if self.max_bans == 0 {
            bail!("security.max_bans: must be at least 1");
        }
        Ok(())
    }
}
