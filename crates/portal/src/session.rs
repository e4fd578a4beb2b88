//! Sessions: who is logged in, behind a random cookie id, with the CSRF token their forms
//! carry. The table is bounded (`max_sessions`): a login beyond the bound ends the least
//! recently used session; idle sessions end after `session_idle`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use model::{AddressOfRecord, PortalRole};
use parking_lot::Mutex;
use rand::RngCore as _;

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A portal account (admin or domain admin).
    Staff {
        /// The account name.
        name: String,
        /// What it may do.
        role: PortalRole,
    },
    /// A SIP user, for their own account only.
    User(AddressOfRecord),
}

impl Principal {
    /// The name the audit log records.
    pub fn actor(&self) -> String {
        match self {
            Principal::Staff { name, .. } => name.clone(),
            Principal::User(aor) => aor.to_string(),
        }
    }

    /// The staff role, if any.
    pub fn role(&self) -> Option<&PortalRole> {
        match self {
            Principal::Staff { role, .. } => Some(role),
            Principal::User(_) => None,
        }
    }

    /// Whether the principal may manage `domain` (its users, aliases, registrations).
    pub fn manages(&self, domain: &str) -> bool {
        self.role().is_some_and(|r| r.covers(domain))
    }

    /// Whether this is the all-powerful admin.
    pub fn is_admin(&self) -> bool {
        matches!(self.role(), Some(PortalRole::Admin))
    }
}

/// A logged-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub who: Principal,
    /// The token every form of this session carries.
    pub csrf: String,
    last_used: Instant,
}

/// The bounded session table.
pub struct Sessions {
    table: Mutex<HashMap<String, Session>>,
    max: usize,
    idle: Duration,
}

/// 32 random bytes as hex (session ids, CSRF tokens).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    /// An empty table of at most `max` sessions, each ending after `idle` unused.
    pub fn new(max: usize, idle: Duration) -> Self {
        Self {
            table: Mutex::new(HashMap::new()),
            max: max.max(1),
            idle,
        }
    }

    /// Starts a session; returns its id.
    pub fn start(&self, who: Principal, now: Instant) -> String {
        let id = random_token();
        let mut t = self.table.lock();
        t.retain(|_, s| now.saturating_duration_since(s.last_used) < self.idle);
        if t.len() >= self.max {
            let oldest = t
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                t.remove(&k);
            }
        }
        t.insert(
            id.clone(),
            Session {
                who,
                csrf: random_token(),
                last_used: now,
            },
        );
        crate::metrics::set_sessions(t.len());
        id
    }

    /// The live session `id` names (touching it), if any.
    pub fn get(&self, id: &str, now: Instant) -> Option<Session> {
        let mut t = self.table.lock();
        let s = t.get_mut(id)?;
        if now.saturating_duration_since(s.last_used) >= self.idle {
            t.remove(id);
            crate::metrics::set_sessions(t.len());
            return None;
        }
        s.last_used = now;
        Some(s.clone())
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        let mut t = self.table.lock();
        t.remove(id);
        crate::metrics::set_sessions(t.len());
    }

    /// How many sessions are held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.table.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: &str) -> Principal {
        Principal::User(AddressOfRecord::new(n, "example.com"))
    }

    #[test]
    fn the_table_is_bounded_and_sessions_expire() {
        let s = Sessions::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        let a = s.start(user("a"), t0);
        let b = s.start(user("b"), t0 + Duration::from_secs(1));
        assert!(s.get(&a, t0 + Duration::from_secs(2)).is_some());
        // b is now the least recently used: a third login ends it.
        let c = s.start(user("c"), t0 + Duration::from_secs(3));
        assert_eq!(s.len(), 2);
        assert!(s.get(&b, t0 + Duration::from_secs(4)).is_none());
        assert!(s.get(&c, t0 + Duration::from_secs(4)).is_some());
        assert!(s.get(&a, t0 + Duration::from_secs(100)).is_none());
        assert_ne!(a, c);
        assert_eq!(a.len(), 64);
    }
}
