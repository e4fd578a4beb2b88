//! Brute-force throttling that punishes the attacker, not the office behind the same
//! address: failed authentications are counted per (source, user) and per user, and a
//! source as a whole is banned only when it fails for many distinct users or for users
//! that do not exist (a scan or a cracking tool, not a phone with a wrong password).
//!
//! | counter | limit (`[auth]`) | ban |
//! |---|---|---|
//! | one user from one source | `max_failures_per_source_user` | that user from that source: 403 |
//! | one user from anywhere | `max_failures_per_user` | that user: 403 |
//! | distinct users failing from one source | `max_users_per_source` | the source: dropped |
//! | unknown users from one source | `max_unknown_per_source` | the source: dropped |
//!
//! Each counter lives within `failure_window_secs` and in a fixed-size table
//! (`max_tracked`, the oldest forgotten when full); the bans go to the ban list
//! (`bans.rs`), which logs them. A success forgets the counts of its user and pair.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::Duration;

use model::AddressOfRecord;

use crate::auth::AuthConfig;
use crate::bans::{source_key, BanReason, BanTable, Subject};
use crate::bounded::BoundedMap;

#[derive(Debug, Clone, Copy)]
struct Count {
    n: u32,
    window_start: Duration,
}

impl Count {
    /// Adds one within `window`; returns the count.
    fn add(&mut self, now: Duration, window: Duration) -> u32 {
        if now.saturating_sub(self.window_start) >= window {
            self.n = 0;
            self.window_start = now;
        }
        self.n += 1;
        self.n
    }
}

/// What one source failed at within its window.
#[derive(Debug, Clone)]
struct SourceFailures {
    window_start: Duration,
    /// Hashes of the distinct users that failed (at most `max_users_per_source`).
    users: Vec<u64>,
    unknown: u32,
}

/// The failure counters. See the module documentation.
#[derive(Debug)]
pub(crate) struct Throttle {
    pairs: BoundedMap<(IpAddr, AddressOfRecord), Count>,
    users: BoundedMap<AddressOfRecord, Count>,
    sources: BoundedMap<IpAddr, SourceFailures>,
}

fn user_hash(u: &AddressOfRecord) -> u64 {
    let mut h = DefaultHasher::new();
    u.hash(&mut h);
    h.finish()
}

impl Throttle {
    pub(crate) fn new(max_tracked: usize) -> Self {
        Throttle {
            pairs: BoundedMap::new(max_tracked),
            users: BoundedMap::new(max_tracked),
            sources: BoundedMap::new(max_tracked),
        }
    }

    /// Counts a failed authentication of `user` (`known`: the user exists) from `source`,
    /// banning whatever crossed its limit.
    pub(crate) fn failed(
        &mut self,
        cfg: &AuthConfig,
        source: IpAddr,
        user: &AddressOfRecord,
        known: bool,
        now: Duration,
        bans: &mut BanTable,
    ) {
        let window = Duration::from_secs(cfg.failure_window_secs);
        let src = source_key(source);
        let fresh = Count {
            n: 0,
            window_start: now,
        };
        let pair = (src, user.clone());
        if self
            .pairs
            .entry_or_insert_with(&pair, || fresh)
            .0
            .add(now, window)
            >= cfg.max_failures_per_source_user
        {
            self.pairs.remove(&pair);
            bans.ban(
                Subject::SourceUser(src, user.clone()),
                BanReason::AuthFailures,
                now,
                cfg.ban_secs,
            );
        }
        if known
            && self
                .users
                .entry_or_insert_with(user, || fresh)
                .0
                .add(now, window)
                >= cfg.max_failures_per_user
        {
            self.users.remove(user);
            bans.ban(
                Subject::User(user.clone()),
                BanReason::AuthFailures,
                now,
                cfg.ban_secs,
            );
        }
        let (s, _) = self.sources.entry_or_insert_with(&src, || SourceFailures {
            window_start: now,
            users: Vec::new(),
            unknown: 0,
        });
        if now.saturating_sub(s.window_start) >= window {
            *s = SourceFailures {
                window_start: now,
                users: Vec::new(),
                unknown: 0,
            };
        }
        let h = user_hash(user);
        if !s.users.contains(&h) && s.users.len() < cfg.max_users_per_source as usize {
            s.users.push(h);
        }
        if !known {
            s.unknown += 1;
        }
        let reason = if s.unknown >= cfg.max_unknown_per_source {
            Some(BanReason::UnknownUsers)
        } else if s.users.len() >= cfg.max_users_per_source as usize {
            Some(BanReason::ManyUsers)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.sources.remove(&src);
            bans.ban(Subject::Source(src), reason, now, cfg.ban_secs);
        }
    }

    /// A successful authentication: forget the user's failures (the source's count of
    /// distinct users stays: a scanner that guesses one password is still a scanner).
    pub(crate) fn succeeded(&mut self, source: IpAddr, user: &AddressOfRecord) {
        self.pairs.remove(&(source_key(source), user.clone()));
        self.users.remove(user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AuthConfig {
        AuthConfig {
            max_failures_per_source_user: 3,
            max_failures_per_user: 5,
            max_users_per_source: 4,
            max_unknown_per_source: 3,
            failure_window_secs: 60,
            ban_secs: 300,
            ..AuthConfig::default()
        }
    }

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn one_wrong_password_bans_that_phone_not_the_office() {
        let (cfg, mut t, mut bans) = (cfg(), Throttle::new(64), BanTable::new(64));
        let office: IpAddr = "198.51.100.10".parse().unwrap();
        let alice = AddressOfRecord::new("alice", "example.com");
        let bob = AddressOfRecord::new("bob", "example.com");
        for i in 0..3 {
            t.failed(&cfg, office, &alice, true, s(i), &mut bans);
        }
        assert!(bans.user_banned(office, &alice, s(3)));
        assert!(!bans.user_banned(office, &bob, s(3)));
        assert_eq!(bans.source_banned(office, s(3)), None);
        // From elsewhere alice is not banned yet...
        let home: IpAddr = "203.0.113.5".parse().unwrap();
        assert!(!bans.user_banned(home, &alice, s(3)));
        // ...until she fails max_failures_per_user times in all.
        t.failed(&cfg, home, &alice, true, s(4), &mut bans);
        t.failed(&cfg, home, &alice, true, s(5), &mut bans);
        assert!(bans.user_banned(home, &alice, s(6)));
        // The pair ban ends after ban_secs.
        assert!(!bans.user_banned(office, &bob, s(400)));
        assert!(!bans.user_banned(office, &alice, s(400)));
    }

    #[test]
    fn many_users_or_unknown_users_ban_the_source() {
        let (cfg, mut t, mut bans) = (cfg(), Throttle::new(64), BanTable::new(64));
        let scanner: IpAddr = "192.0.2.66".parse().unwrap();
        for (i, u) in ["100", "101", "102"].iter().enumerate() {
            t.failed(
                &cfg,
                scanner,
                &AddressOfRecord::new(u, "example.com"),
                false,
                s(i as u64),
                &mut bans,
            );
        }
        assert_eq!(
            bans.source_banned(scanner, s(3)),
            Some(BanReason::UnknownUsers)
        );
        assert_eq!(bans.source_banned(scanner, s(303)), None);
        let cracker: IpAddr = "192.0.2.67".parse().unwrap();
        for i in 0..4 {
            let u = AddressOfRecord::new(&format!("u{i}"), "example.com");
            t.failed(&cfg, cracker, &u, true, s(i), &mut bans);
        }
        assert_eq!(
            bans.source_banned(cracker, s(4)),
            Some(BanReason::ManyUsers)
        );
    }

    #[test]
    fn counts_live_in_their_window_and_success_forgets() {
        let (cfg, mut t, mut bans) = (cfg(), Throttle::new(64), BanTable::new(64));
        let src: IpAddr = "198.51.100.10".parse().unwrap();
        let alice = AddressOfRecord::new("alice", "example.com");
        t.failed(&cfg, src, &alice, true, s(0), &mut bans);
        t.failed(&cfg, src, &alice, true, s(1), &mut bans);
        t.failed(&cfg, src, &alice, true, s(100), &mut bans); // a new window
        assert!(!bans.user_banned(src, &alice, s(100)));
        t.failed(&cfg, src, &alice, true, s(101), &mut bans);
        t.succeeded(src, &alice);
        t.failed(&cfg, src, &alice, true, s(102), &mut bans);
        assert!(!bans.user_banned(src, &alice, s(102)));
        assert_eq!(bans.len(), 0);
    }

    #[test]
    fn tables_are_bounded() {
        let (cfg, mut t, mut bans) = (cfg(), Throttle::new(8), BanTable::new(64));
        for i in 0..1000u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            let u = AddressOfRecord::new("alice", "example.com");
            t.failed(&cfg, ip, &u, true, s(0), &mut bans);
        }
        assert!(t.pairs.len() <= 8 && t.users.len() <= 8 && t.sources.len() <= 8);
    }
}
