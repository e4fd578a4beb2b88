//! Address-of-record: `user@domain`, the key of the location service.

use std::fmt;

/// A user at a domain. The domain is lowercased (host names are case-insensitive); the user
/// part is kept as written, minus %-escapes of unreserved characters, since SIP user parts
/// are case-sensitive (RFC 3261 §19.1.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressOfRecord {
    /// The user part.
    pub user: String,
    /// The domain, lowercase.
    pub domain: String,
}

impl AddressOfRecord {
    /// Builds an AOR, normalising the domain's case.
    pub fn new(user: &str, domain: &str) -> Self {
        AddressOfRecord {
            user: user.to_string(),
            domain: domain.to_ascii_lowercase(),
        }
    }

    /// Parses `user@domain` (as typed on a command line). The user may not be empty.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.strip_prefix("sip:").unwrap_or(s);
        let (user, domain) = s.rsplit_once('@')?;
        if user.is_empty() || domain.is_empty() || domain.contains(['@', ' ', ';']) {
            return None;
        }
        Some(Self::new(user, domain))
    }
}

impl fmt::Display for AddressOfRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.user, self.domain)
    }
}
