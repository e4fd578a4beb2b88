//! Who is served here: local domains, subscribers and aliases, asked synchronously.

use std::collections::{HashMap, HashSet};

use model::{AddressOfRecord, FindMe, Forwarding, ScreenRule, Subscriber, UserSettings};
use parking_lot::RwLock;

/// The proxy's view of provisioning. Lookups are synchronous and cheap: the server keeps
/// an in-memory copy of the store and refreshes it when the store changes.
pub trait Directory: Send + Sync {
    /// True when `domain` (lowercase) is served here.
    fn is_local_domain(&self, domain: &str) -> bool;
    /// True when `aor` is a subscriber.
    fn is_subscriber(&self, aor: &AddressOfRecord) -> bool;
    /// The subscriber an alias or DID reaches.
    fn resolve_alias(&self, aor: &AddressOfRecord) -> Option<AddressOfRecord>;
    /// The one local domain, when exactly one is served (for requests addressed to the
    /// server's IP address).
    fn only_domain(&self) -> Option<String>;
    /// The subscriber's digest hashes: (HA1 for MD5, HA1 for SHA-256).
    fn credentials(&self, aor: &AddressOfRecord) -> Option<(String, String)>;
    /// The user's call forwarding, when any is set.
    fn forwarding(&self, _aor: &AddressOfRecord) -> Option<Forwarding> {
        None
    }
    /// The user's screening rules (incoming and outgoing).
    fn screening(&self, _aor: &AddressOfRecord) -> Vec<ScreenRule> {
        Vec::new()
    }
    /// The user's find-me list, when set.
    fn findme(&self, _aor: &AddressOfRecord) -> Option<FindMe> {
        None
    }
}

#[derive(Default)]
struct Tables {
    domains: HashSet<String>,
    users: HashMap<AddressOfRecord, (String, String)>,
    aliases: HashMap<AddressOfRecord, AddressOfRecord>,
}

/// A directory held in memory and replaced wholesale on reload.
#[derive(Default)]
pub struct StaticDirectory {
    tables: RwLock<Tables>,
    settings: RwLock<HashMap<AddressOfRecord, UserSettings>>,
}

impl StaticDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the contents.
    pub fn replace(
        &self,
        domains: impl IntoIterator<Item = String>,
        users: impl IntoIterator<Item = Subscriber>,
        aliases: impl IntoIterator<Item = (AddressOfRecord, AddressOfRecord)>,
    ) {
        let t = Tables {
            domains: domains
                .into_iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
            users: users
                .into_iter()
                .map(|s| (s.aor, (s.ha1_md5, s.ha1_sha256)))
                .collect(),
            aliases: aliases.into_iter().collect(),
        };
        *self.tables.write() = t;
    }

    /// Replaces every user's call-service settings.
    pub fn replace_settings(
        &self,
        settings: impl IntoIterator<Item = (AddressOfRecord, UserSettings)>,
    ) {
        let map = settings.into_iter().collect();
        *self.settings.write() = map;
    }

    /// How many (domains, users, aliases) are loaded.
    pub fn counts(&self) -> (usize, usize, usize) {
        let t = self.tables.read();
        (t.domains.len(), t.users.len(), t.aliases.len())
    }
}

impl Directory for StaticDirectory {
    fn is_local_domain(&self, domain: &str) -> bool {
        let t = self.tables.read();
        if domain.bytes().any(|b| b.is_ascii_uppercase()) {
            t.domains.contains(&domain.to_ascii_lowercase())
        } else {
            t.domains.contains(domain)
        }
    }

    fn is_subscriber(&self, aor: &AddressOfRecord) -> bool {
        self.tables.read().users.contains_key(aor)
    }

    fn resolve_alias(&self, aor: &AddressOfRecord) -> Option<AddressOfRecord> {
        self.tables.read().aliases.get(aor).cloned()
    }

    fn only_domain(&self) -> Option<String> {
        let t = self.tables.read();
        if t.domains.len() == 1 {
            t.domains.iter().next().cloned()
        } else {
            None
        }
    }

    fn credentials(&self, aor: &AddressOfRecord) -> Option<(String, String)> {
        self.tables.read().users.get(aor).cloned()
    }

    fn forwarding(&self, aor: &AddressOfRecord) -> Option<Forwarding> {
        self.settings
            .read()
            .get(aor)
            .map(|s| s.forwarding.clone())
            .filter(|f| !f.is_empty())
    }

    fn screening(&self, aor: &AddressOfRecord) -> Vec<ScreenRule> {
        self.settings
            .read()
            .get(aor)
            .map(|s| s.screening.clone())
            .unwrap_or_default()
    }

    fn findme(&self, aor: &AddressOfRecord) -> Option<FindMe> {
        self.settings.read().get(aor).and_then(|s| s.findme.clone())
    }
}
