//! The ban list: every ban in force, whoever decided it (the flood limiter in `flood.rs`,
//! the authentication throttle in `throttle.rs`), so that one place answers "is this
//! source or user banned?", lists the bans for `switchboard ban list` and lifts them for
//! `switchboard ban remove`.
//!
//! It decides nothing itself: callers add bans; it logs each one (`oplog::ban`), each
//! expiry and each lift (`oplog::unban`), and forgets the ban closest to its end when full
//! (`[security] max_bans`). Time is the proxy's monotonic clock, a parameter.

use std::net::IpAddr;
use std::time::Duration;

use model::AddressOfRecord;

use crate::bounded::BoundedMap;
use crate::oplog;

/// Who is banned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Subject {
    /// Every message from this source (an IPv4 address or an IPv6 /64, see
    /// [`source_key`]) is dropped (or refused, with `ban_action = "reply"`).
    Source(IpAddr),
    /// This user, from this source: its attempts get 403.
    SourceUser(IpAddr, AddressOfRecord),
    /// This user, from anywhere: its attempts get 403.
    User(AddressOfRecord),
}

impl Subject {
    /// The `kind=` value of the log lines and of `ban list`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Subject::Source(_) => "source",
            Subject::SourceUser(..) => "source-user",
            Subject::User(_) => "user",
        }
    }

    fn source(&self) -> Option<IpAddr> {
        match self {
            Subject::Source(ip) | Subject::SourceUser(ip, _) => Some(*ip),
            Subject::User(_) => None,
        }
    }

    fn user(&self) -> Option<String> {
        match self {
            Subject::SourceUser(_, u) | Subject::User(u) => Some(u.to_string()),
            Subject::Source(_) => None,
        }
    }
}

/// Why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BanReason {
    /// Too many requests in the flood window.
    Flood,
    /// Too many failed authentications (of one user, or of one user from one source).
    AuthFailures,
    /// Failed authentications for too many distinct users from one source.
    ManyUsers,
    /// Failed authentications for too many unknown users from one source.
    UnknownUsers,
}

impl BanReason {
    /// The `reason=` value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BanReason::Flood => "flood",
            BanReason::AuthFailures => "auth-failures",
            BanReason::ManyUsers => "many-users",
            BanReason::UnknownUsers => "unknown-users",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Ban {
    reason: BanReason,
    until: Duration,
}

/// One ban in force, for `switchboard ban list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanEntry {
    /// "source", "source-user" or "user".
    pub kind: &'static str,
    /// The banned address (an IPv6 ban covers its /64), when the ban is about one.
    pub source: Option<IpAddr>,
    /// The banned user (user@domain), when the ban is about one.
    pub user: Option<String>,
    /// "flood", "auth-failures", "many-users" or "unknown-users".
    pub reason: &'static str,
    /// Seconds left (rounded up).
    pub remaining_secs: u64,
}

/// The key a source is counted and banned under: an IPv4 address as it is (an IPv4-mapped
/// IPv6 address as its IPv4 address), an IPv6 address as its /64, since one host usually
/// holds a whole /64 and can pick any address in it.
pub(crate) fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

/// Every ban in force, bounded.
#[derive(Debug)]
pub(crate) struct BanTable {
    bans: BoundedMap<Subject, Ban>,
    /// No ban ends before this: `expire` has nothing to do until then.
    next_expiry: Option<Duration>,
    /// Bans made since start, by reason.
    pub(crate) made: [u64; 4],
}

impl BanTable {
    /// A table of at most `max` bans.
    pub(crate) fn new(max: usize) -> Self {
        BanTable {
            bans: BoundedMap::new(max),
            next_expiry: None,
            made: [0; 4],
        }
    }

    /// Bans in force (expired ones not yet swept included).
    pub(crate) fn len(&self) -> usize {
        self.bans.len()
    }

    /// Bans `subject` for `secs` from `now` (extends a shorter ban in force) and logs it.
    pub(crate) fn ban(&mut self, subject: Subject, reason: BanReason, now: Duration, secs: u64) {
        let until = now + Duration::from_secs(secs);
        log_ban(&subject, reason, secs);
        self.made[reason as usize] += 1;
        let (ban, evicted) = self
            .bans
            .entry_or_insert_with(&subject, || Ban { reason, until });
        if ban.until < until {
            *ban = Ban { reason, until };
        }
        if let Some((s, _)) = evicted {
            log_unban(&s, "evicted");
        }
        self.next_expiry = Some(self.next_expiry.map_or(until, |e| e.min(until)));
    }

    fn active(&self, subject: &Subject, now: Duration) -> Option<BanReason> {
        self.bans
            .get(subject)
            .filter(|b| b.until > now)
            .map(|b| b.reason)
    }

    /// The reason `source` is banned as a whole, if it is.
    pub(crate) fn source_banned(&self, source: IpAddr, now: Duration) -> Option<BanReason> {
        if !self.any() {
            return None;
        }
        self.active(&Subject::Source(source_key(source)), now)
    }

    /// True when some ban is in force (or not yet purged): without one, no caller needs
    /// to build the subject it would look up.
    pub(crate) fn any(&self) -> bool {
        self.bans.len() > 0
    }

    /// True when `user` may not authenticate from `source` (a user ban or a
    /// (source, user) ban).
    pub(crate) fn user_banned(
        &self,
        source: IpAddr,
        user: &AddressOfRecord,
        now: Duration,
    ) -> bool {
        if !self.any() {
            return false;
        }
        self.active(&Subject::User(user.clone()), now).is_some()
            || self
                .active(&Subject::SourceUser(source_key(source), user.clone()), now)
                .is_some()
    }

    /// Forgets the bans that ended by `now`, logging `unban ... reason=expired`.
    pub(crate) fn expire(&mut self, now: Duration) {
        if self.next_expiry.is_none_or(|e| e > now) {
            return;
        }
        for (s, _) in self.bans.drain_where(|_, b| b.until <= now) {
            log_unban(&s, "expired");
        }
        self.next_expiry = self.bans.iter().map(|(_, b)| b.until).min();
    }

    /// Lifts every ban naming `target`: an address (its source ban and its (source, user)
    /// bans) or a user@domain (its user ban and its (source, user) bans). Returns how many.
    pub(crate) fn remove(&mut self, target: &Target) -> usize {
        let gone = self.bans.drain_where(|s, _| match (target, s) {
            (Target::Source(ip), Subject::Source(b) | Subject::SourceUser(b, _)) => {
                source_key(*ip) == *b
            }
            (Target::User(u), Subject::User(b) | Subject::SourceUser(_, b)) => u == b,
            _ => false,
        });
        for (s, _) in &gone {
            log_unban(s, "admin");
        }
        gone.len()
    }

    /// The bans in force at `now`.
    pub(crate) fn list(&self, now: Duration) -> Vec<BanEntry> {
        let mut out: Vec<BanEntry> = self
            .bans
            .iter()
            .filter(|(_, b)| b.until > now)
            .map(|(s, b)| BanEntry {
                kind: s.kind(),
                source: s.source(),
                user: s.user(),
                reason: b.reason.as_str(),
                remaining_secs: (b.until - now).as_secs_f64().ceil() as u64,
            })
            .collect();
        out.sort_by(|a, b| (a.kind, a.source, &a.user).cmp(&(b.kind, b.source, &b.user)));
        out
    }
}

/// What `switchboard ban remove` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An address.
    Source(IpAddr),
    /// A user@domain.
    User(AddressOfRecord),
}

impl Target {
    /// An IP address, or user@domain.
    pub fn parse(s: &str) -> Option<Target> {
        let t = s.trim().trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = t.parse::<IpAddr>() {
            return Some(Target::Source(ip));
        }
        AddressOfRecord::parse(s.trim()).map(Target::User)
    }
}

fn log_ban(s: &Subject, reason: BanReason, secs: u64) {
    let src = s.source();
    let user = s.user();
    oplog::ban(
        s.kind(),
        src.as_ref().map(|ip| ip as &dyn std::fmt::Display),
        user.as_deref(),
        secs,
        reason.as_str(),
    );
}

fn log_unban(s: &Subject, why: &str) {
    let src = s.source();
    let user = s.user();
    oplog::unban(
        s.kind(),
        src.as_ref().map(|ip| ip as &dyn std::fmt::Display),
        user.as_deref(),
        why,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn bans_end_and_are_lifted() {
        let mut t = BanTable::new(16);
        let a: IpAddr = "192.0.2.7".parse().unwrap();
        let alice = AddressOfRecord::new("alice", "example.com");
        t.ban(Subject::Source(a), BanReason::Flood, secs(10), 60);
        t.ban(
            Subject::SourceUser(a, alice.clone()),
            BanReason::AuthFailures,
            secs(10),
            300,
        );
        assert_eq!(t.source_banned(a, secs(69)), Some(BanReason::Flood));
        assert_eq!(t.source_banned(a, secs(70)), None);
        assert!(t.user_banned(a, &alice, secs(100)));
        assert!(!t.user_banned("192.0.2.8".parse().unwrap(), &alice, secs(100)));
        t.expire(secs(70));
        assert_eq!(t.len(), 1);
        assert_eq!(t.list(secs(100))[0].remaining_secs, 210);
        assert_eq!(t.remove(&Target::parse("alice@example.com").unwrap()), 1);
        assert!(!t.user_banned(a, &alice, secs(100)));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn ipv6_banned_per_64_and_table_bounded() {
        let mut t = BanTable::new(2);
        let a: IpAddr = "2001:db8:1:2::5".parse().unwrap();
        t.ban(
            Subject::Source(source_key(a)),
            BanReason::Flood,
            secs(0),
            60,
        );
        assert!(t
            .source_banned("2001:db8:1:2:ffff::1".parse().unwrap(), secs(1))
            .is_some());
        assert!(t
            .source_banned("2001:db8:1:3::5".parse().unwrap(), secs(1))
            .is_none());
        assert_eq!(
            source_key("::ffff:192.0.2.1".parse().unwrap()),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
        for i in 1..=3u8 {
            t.ban(
                Subject::Source(IpAddr::from([192, 0, 2, i])),
                BanReason::Flood,
                secs(0),
                60,
            );
        }
        assert_eq!(t.len(), 2);
        assert_eq!(t.remove(&Target::parse("[2001:db8:1:2::9]").unwrap()), 0);
        assert_eq!(t.remove(&Target::parse("192.0.2.3").unwrap()), 1);
    }
}
