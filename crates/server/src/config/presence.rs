//! `[presence]`: the dialog event package the server serves (busy-lamp fields, pickup,
//! automatic redial; docs/presence.md): whether it is on, its bounds, who may watch whom;
//! their defaults, checks, and the proxy's view (`proxy::PresenceConfig`).

use anyhow::bail;
use serde::Deserialize;

/// `[presence]` (docs/presence.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PresenceSection {
    /// The server answers `Event: dialog` SUBSCRIBEs to its users (and 489 to event
    /// packages it does not serve); false: SUBSCRIBEs go to the users' phones.
    pub enabled: bool,
    /// Most dialog subscriptions at once; more are answered 503 with Retry-After.
    pub max_subscriptions: usize,
    /// Most subscriptions one watching user holds; more are answered 403.
    pub max_subscriptions_per_user: usize,
    /// Most calls followed for their dialog state at once.
    pub max_calls: usize,
    /// Users of other local domains may watch (default: the watched user's domain only).
    pub any_domain: bool,
    /// Dialled with an extension (`*8101`): directed call pickup.
    pub pickup_code: String,
    /// Most presence publications (one per publishing device) at once; more get 503.
    pub max_publications: usize,
    /// Most publications one user's devices hold; more get 403.
    pub max_publications_per_user: usize,
    /// Shortest subscription or publication granted, seconds (PUBLISH below it: 423).
    pub min_expires: u32,
}

impl Default for PresenceSection {
    fn default() -> Self {
        let d = proxy::PresenceConfig::default();
        PresenceSection {
            enabled: d.enabled,
            max_subscriptions: d.max_subscriptions,
            max_subscriptions_per_user: d.max_per_user,
            max_calls: d.max_calls,
            any_domain: d.any_domain,
            pickup_code: d.pickup_code,
            max_publications: d.max_publications,
            max_publications_per_user: d.max_publications_per_user,
            min_expires: d.min_expires,
        }
    }
}

impl PresenceSection {
    /// The proxy's view.
    pub fn to_proxy(&self) -> proxy::PresenceConfig {
        proxy::PresenceConfig {
            enabled: self.enabled,
            max_subscriptions: self.max_subscriptions,
            max_per_user: self.max_subscriptions_per_user,
            max_calls: self.max_calls,
            any_domain: self.any_domain,
            pickup_code: self.pickup_code.clone(),
            max_publications: self.max_publications,
            max_publications_per_user: self.max_publications_per_user,
            min_expires: self.min_expires,
        }
    }

    /// Checks the bounds.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.max_subscriptions == 0 {
            bail!("presence.max_subscriptions: must be at least 1");
        }
        if self.max_subscriptions_per_user == 0
            || self.max_subscriptions_per_user > self.max_subscriptions
        {
            bail!("presence.max_subscriptions_per_user: must be 1 to presence.max_subscriptions");
        }
        let code = &self.pickup_code;
        let ok = !code.is_empty()
            && code.len() <= 8
            && code
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#');
        if !ok {
            bail!("presence.pickup_code: {code:?} must be 1 to 8 of 0-9, * and #");
        }
        if self.max_publications == 0 {
            bail!("presence.max_publications: must be at least 1");
        }
        if self.max_publications_per_user == 0
            || self.max_publications_per_user > self.max_publications
        {
            bail!("presence.max_publications_per_user: must be 1 to presence.max_publications");
        }
        if self.min_expires == 0 || self.min_expires > proxy::PRESENCE_MAX_EXPIRES {
            bail!(
                "presence.min_expires: must be 1 to {} seconds",
                proxy::PRESENCE_MAX_EXPIRES
            );
        }
        if self.max_calls == 0 {
            bail!("presence.max_calls: must be at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked() {
        PresenceSection::default().validate().unwrap();
        let bad = PresenceSection {
            max_subscriptions_per_user: 0,
            ..PresenceSection::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_subscriptions_per_user"));
    }
}
