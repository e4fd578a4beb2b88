//! Presence services the server answers itself (issue 17): the dialog event package
//! (RFC 4235 over RFC 6665), which lights busy-lamp fields and tells a pickup or an
//! automatic redial which call a user is in, and the presence event package (RFC 3856)
//! fed by PUBLISH (RFC 3903) of PIDF documents (RFC 3863). The pure parts live here: the
//! calls the proxy follows (`calls.rs`), the bounded table of watchers (`watchers.rs`),
//! the `application/dialog-info+xml` body (`dialog_info.rs`), the publications
//! (`publications.rs`), the PIDF documents (`pidf.rs`) and the XML reader under both
//! (`xml.rs`).
//!
//! Not here: answering SUBSCRIBE and PUBLISH and sending NOTIFYs (`core/dialog_event.rs`,
//! `core/publish.rs`, stages of the request route; NOTIFYs leave through
//! `core/originate.rs`), and the call events themselves (`events.rs`, whose
//! `Failed`/`Ended` facts end a followed call).

pub(crate) mod calls;
pub(crate) mod dialog_info;
pub(crate) mod pidf;
pub(crate) mod publications;
pub(crate) mod watchers;
pub(crate) mod xml;

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
    /// Most presence publications (one per publishing device) at once; more are
    /// answered 503 with Retry-After.
    pub max_publications: usize,
    /// Most publications one user holds (all their devices); more are answered 403.
    pub max_publications_per_user: usize,
    /// Shortest subscription or publication granted, seconds: a shorter SUBSCRIBE is
    /// raised to it, a shorter PUBLISH answered 423 with `Min-Expires`.
    pub min_expires: u32,
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
            max_publications: 100_000,
            max_publications_per_user: 20,
            min_expires: MIN_EXPIRES,
        }
    }
}

/// Subscription length when SUBSCRIBE has no Expires, and the longest granted.
pub const DEFAULT_EXPIRES: u32 = 3600;
/// Shortest subscription granted (a shorter Expires is raised to it).
pub const MIN_EXPIRES: u32 = 60;

/// The event packages the server itself serves, for `Allow-Events` (RFC 6665 §8.2.2).
pub const ALLOW_EVENTS: &str = "dialog, presence, message-summary";

/// The package named by an `Event` header value, lower case (`dialog;id=1` -> `dialog`).
pub(crate) fn event_package(event: &str) -> String {
    event
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The granted length of a subscription asked for `asked` seconds (None: the default),
/// at least `min`; 0 stays 0 (a fetch, or the end of a subscription).
pub(crate) fn granted(asked: Option<u32>, min: u32) -> u32 {
    match asked {
        Some(0) => 0,
        a => a
            .unwrap_or(DEFAULT_EXPIRES)
            .clamp(min.min(DEFAULT_EXPIRES), DEFAULT_EXPIRES),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_and_lengths() {
        assert_eq!(event_package(" Dialog ;id=7"), "dialog");
        assert_eq!(event_package(""), "");
        assert_eq!(granted(None, 60), 3600);
        assert_eq!(granted(Some(0), 60), 0);
        assert_eq!(granted(Some(5), 60), 60);
        assert_eq!(granted(Some(5), 2), 5);
        assert_eq!(granted(Some(90_000), 60), 3600);
    }
}
