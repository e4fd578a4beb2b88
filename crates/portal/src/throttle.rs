//! Login throttling, per client address and per account: after `max_failed` failed logins
//! within `window`, further attempts are refused (429 with Retry-After) until the window
//! passes, even with the right password. The same idea as the SIP side's failed-login
//! bans (`proxy::throttle`), kept here because the portal is a front end and must not
//! depend on the proxy. Both tables are bounded; when full, the oldest entry goes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Most addresses or accounts remembered at once.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: Instant,
}

/// Failed logins by address and by account.
pub struct Throttle {
    by_address: Mutex<HashMap<IpAddr, Failures>>,
    by_account: Mutex<HashMap<String, Failures>>,
    max_failed: u32,
    window: Duration,
}

fn blocked_for<K: std::hash::Hash + Eq>(
    t: &Mutex<HashMap<K, Failures>>,
    k: &K,
    max: u32,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    let t = t.lock();
    let f = t.get(k)?;
    let age = now.saturating_duration_since(f.first);
    (f.count >= max && age < window).then(|| window - age)
}

fn count<K: std::hash::Hash + Eq + Clone>(
    t: &Mutex<HashMap<K, Failures>>,
    k: &K,
    window: Duration,
    now: Instant,
) {
    let mut t = t.lock();
    if t.len() >= MAX_ENTRIES && !t.contains_key(k) {
        t.retain(|_, f| now.saturating_duration_since(f.first) < window);
        if t.len() >= MAX_ENTRIES {
            let oldest = t
                .iter()
                .min_by_key(|(_, f)| f.first)
                .map(|(k, _)| k.clone());
            if let Some(o) = oldest {
                t.remove(&o);
            }
        }
    }
    let f = t.entry(k.clone()).or_insert(Failures {
        count: 0,
        first: now,
    });
    if now.saturating_duration_since(f.first) >= window {
        *f = Failures {
            count: 0,
            first: now,
        };
    }
    f.count += 1;
}

impl Throttle {
    /// Refuses after `max_failed` failures within `window`.
    pub fn new(max_failed: u32, window: Duration) -> Self {
        Self {
            by_address: Mutex::new(HashMap::new()),
            by_account: Mutex::new(HashMap::new()),
            max_failed: max_failed.max(1),
            window,
        }
    }

    /// How long logins from `addr` or for `account` stay refused; `None` when allowed.
    pub fn blocked(&self, addr: IpAddr, account: &str, now: Instant) -> Option<Duration> {
        let a = blocked_for(&self.by_address, &addr, self.max_failed, self.window, now);
        let b = blocked_for(
            &self.by_account,
            &account.to_string(),
            self.max_failed,
            self.window,
            now,
        );
        a.max(b)
    }

    /// Counts a failed login.
    pub fn failed(&self, addr: IpAddr, account: &str, now: Instant) {
        count(&self.by_address, &addr, self.window, now);
        count(&self.by_account, &account.to_string(), self.window, now);
    }

    /// A successful login clears the account's failures (not the address's: an attacker
    /// with one good account must not reset its address's count).
    pub fn succeeded(&self, account: &str) {
        self.by_account.lock().remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_until_the_window_passes() {
        let t = Throttle::new(3, Duration::from_secs(60));
        let (ip, t0) = ("192.0.2.1".parse().unwrap(), Instant::now());
        for _ in 0..3 {
            assert!(t.blocked(ip, "root", t0).is_none());
            t.failed(ip, "root", t0);
        }
        assert!(t.blocked(ip, "root", t0).is_some());
        // Another account from the same address: still refused (per address).
        assert!(t.blocked(ip, "other", t0).is_some());
        // The same account from another address: refused (per account).
        let ip2 = "192.0.2.2".parse().unwrap();
        assert!(t.blocked(ip2, "root", t0).is_some());
        assert!(t.blocked(ip2, "other", t0).is_none());
        assert!(t
            .blocked(ip, "root", t0 + Duration::from_secs(61))
            .is_none());
    }
}
