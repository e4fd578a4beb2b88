//! Per-user presence watcher rules (issue 17, RFC 5025 in spirit, kept simple): a user
//! allows or denies one watcher (an address of record) its subscriptions to the user's
//! dialog state and presence. Without a rule, the proxy's default holds (an authenticated
//! user of the watched user's domain may watch).
//!
//! Not here: where they are stored (`storage`), how the proxy applies them
//! (`proxy::core::dialog_event`).

use std::fmt;

use crate::AddressOfRecord;

/// What a rule says of a watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatcherRule {
    /// May watch, even from another domain.
    Allow,
    /// May not watch (`403 Watcher Denied`).
    Deny,
}

impl WatcherRule {
    /// The stored word: `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            WatcherRule::Allow => "allow",
            WatcherRule::Deny => "deny",
        }
    }

    /// The rule of a stored word.
    pub fn parse(s: &str) -> Option<WatcherRule> {
        match s {
            "allow" => Some(WatcherRule::Allow),
            "deny" => Some(WatcherRule::Deny),
            _ => None,
        }
    }
}

impl fmt::Display for WatcherRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule: `watched` allows or denies `watcher`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PresenceRule {
    /// The user watched (whose rule it is).
    pub watched: AddressOfRecord,
    /// The watcher it is about.
    pub watcher: AddressOfRecord,
    /// Allow or deny.
    pub rule: WatcherRule,
}
