//! Presence services the server answers itself (issue 17): today the dialog event package
//! (RFC 4235 over RFC 6665), which lights busy-lamp fields and tells a pickup or an
//! automatic redial which call a user is in. The pure parts live here: the calls the proxy
//! follows (`calls.rs`), the bounded table of watchers (`watchers.rs`) and the
//! `application/dialog-info+xml` body (`dialog_info.rs`).
//!
//! Not here: answering SUBSCRIBE and sending NOTIFYs (`core/dialog_event.rs`, a stage of
//! the request route; NOTIFYs leave through `core/originate.rs`), and the call events
//! themselves (`events.rs`, whose `Failed`/`Ended` facts end a followed call).

pub(crate) mod calls;
pub(crate) mod dialog_info;
pub(crate) mod watchers;

/// `[presence]`: the dialog event package and its bounds.
#[derive(Debug, Clone)]
pub struct PresenceConfig {
    /// The server answers `Event: dialog` SUBSCRIBEs to its users (and 489 to unknown
    /// event packages); false: SUBSCRIBEs are routed to the users' phones as before.
    pub enabled: bool,
    /// Most dialog subscriptions at once; more are answered 503 with Retry-After.
    pub max_subscriptions: usize,
    /// Most subscriptions one watcher (a user, all their phones) holds; more are answered
    /// 403.
    pub max_per_user: usize,
    /// Most calls followed for their dialog state; calls beyond it show no state.
    pub max_calls: usize,
    /// Watchers of other local domains may watch (default: only the watched user's own
    /// domain).
    pub any_domain: bool,
    /// Dialled with an extension (`*8101`): picks up the oldest call ringing that user
    /// (directed pickup, `core/pickup.rs`).
    pub pickup_code: String,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        PresenceConfig {
            enabled: true,
            max_subscriptions: 100_000,
            max_per_user: 200,
            max_calls: 100_000,
            any_domain: false,
            pickup_code: "*8".into(),
        }
    }
}

/// Subscription length when SUBSCRIBE has no Expires, and the longest granted.
pub const DEFAULT_EXPIRES: u32 = 3600;
/// Shortest subscription granted (a shorter Expires is raised to it).
pub const MIN_EXPIRES: u32 = 60;

/// The event packages the server itself serves, for `Allow-Events` (RFC 6665 §8.2.2).
pub const ALLOW_EVENTS: &str = "dialog, message-summary";

/// The package named by an `Event` header value, lower case (`dialog;id=1` -> `dialog`).
pub(crate) fn event_package(event: &str) -> String {
    event
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The granted length of a subscription asked for `asked` seconds (None: the default);
/// 0 stays 0 (a fetch, or the end of a subscription).
pub(crate) fn granted(asked: Option<u32>) -> u32 {
    match asked {
        Some(0) => 0,
        a => a
            .unwrap_or(DEFAULT_EXPIRES)
            .clamp(MIN_EXPIRES, DEFAULT_EXPIRES),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_and_lengths() {
        assert_eq!(event_package(" Dialog ;id=7"), "dialog");
        assert_eq!(event_package(""), "");
        assert_eq!(granted(None), 3600);
        assert_eq!(granted(Some(0)), 0);
        assert_eq!(granted(Some(5)), 60);
        assert_eq!(granted(Some(90_000)), 3600);
    }
}
