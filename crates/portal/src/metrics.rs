//! The portal's own figures for the server's Prometheus endpoint: sessions held (a
//! gauge), logins and failed logins (counters). Process-wide atomics, like the other
//! crates' counters, rendered by [`render_metrics`] into the server's metrics text.
//!
//! Not here: the endpoint itself (the server's `[metrics]`), the session table
//! (`session.rs`, which keeps the gauge true).

use std::sync::atomic::{AtomicU64, Ordering};

static SESSIONS: AtomicU64 = AtomicU64::new(0);
static LOGINS: AtomicU64 = AtomicU64::new(0);
static LOGIN_FAILURES: AtomicU64 = AtomicU64::new(0);

/// The session table now holds `n` sessions.
pub(crate) fn set_sessions(n: usize) {
    SESSIONS.store(n as u64, Ordering::Relaxed);
}

/// A login succeeded.
pub(crate) fn login() {
    LOGINS.fetch_add(1, Ordering::Relaxed);
}

/// A login failed (wrong name or password, or throttled).
pub(crate) fn login_failed() {
    LOGIN_FAILURES.fetch_add(1, Ordering::Relaxed);
}

/// Appends the portal's metrics in Prometheus text format.
pub fn render_metrics(out: &mut String) {
    out.push_str(&format!(
        "# HELP switchboard_portal_sessions Web portal sessions held (logged-in browsers).\n\
         # TYPE switchboard_portal_sessions gauge\nswitchboard_portal_sessions {}\n\
         # HELP switchboard_portal_logins_total Successful web portal logins.\n\
         # TYPE switchboard_portal_logins_total counter\nswitchboard_portal_logins_total {}\n\
         # HELP switchboard_portal_login_failures_total Refused web portal logins (wrong name or password, or throttled).\n\
         # TYPE switchboard_portal_login_failures_total counter\nswitchboard_portal_login_failures_total {}\n",
        SESSIONS.load(Ordering::Relaxed),
        LOGINS.load(Ordering::Relaxed),
        LOGIN_FAILURES.load(Ordering::Relaxed),
    ));
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_text_names_all_three() {
        super::login();
        let mut out = String::new();
        super::render_metrics(&mut out);
        assert!(out.contains("\nswitchboard_portal_sessions "));
        assert!(out.contains("\nswitchboard_portal_login_failures_total "));
        let logins = out
            .lines()
            .find_map(|l| l.strip_prefix("switchboard_portal_logins_total "))
            .unwrap();
        assert!(logins.parse::<u64>().unwrap() >= 1);
    }
}
