//! Who is served here: local domains, subscribers and aliases, asked synchronously.
//!
//! [`StaticDirectory`] is replaced wholesale on a full reload, or updated one entity at a
//! time when a change notice arrives; each update holds a write lock only for a few map
//! operations, so lookups from the core never wait on the store.

use std::collections::{HashMap, HashSet};

use model::{AddressOfRecord, FindMe, Forwarding, ScreenRule, Subscriber, UserSettings};
use parking_lot::RwLock;

use crate::ha1::Ha1Pair;
use crate::services::voicemail::VoicemailRoute;

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
    /// The other members of the user's call-pickup group (none: no group).
    fn pickup_group_peers(&self, _aor: &AddressOfRecord) -> Vec<AddressOfRecord> {
        Vec::new()
    }
    /// The user's find-me list, when set.
    fn findme(&self, _aor: &AddressOfRecord) -> Option<FindMe> {
        None
    }
    /// The user's permission class, when set (gateway routes; `core/gateways.rs`).
    fn class(&self, _aor: &AddressOfRecord) -> Option<model::CallClass> {
        None
    }
    /// The DID shown as the user's number on calls to gateways, when set.
    fn caller_id(&self, _aor: &AddressOfRecord) -> Option<String> {
        None
    }
    /// Why the user's account is disabled, when an admin disabled it.
    fn disabled(&self, _aor: &AddressOfRecord) -> Option<String> {
        None
    }
    /// The user's mailbox, when voicemail is enabled for them.
    fn voicemail(&self, _aor: &AddressOfRecord) -> Option<VoicemailRoute> {
        None
    }
    /// `watched`'s rule about `watcher` (`switchboard presence allow|deny`), when any.
    fn watcher_rule(
        &self,
        _watched: &AddressOfRecord,
        _watcher: &AddressOfRecord,
    ) -> Option<model::WatcherRule> {
        None
    }
}

#[derive(Default)]
struct Tables {
    domains: HashSet<String>,
    users: HashMap<AddressOfRecord, Ha1Pair>,
    aliases: HashMap<AddressOfRecord, AddressOfRecord>,
}

/// A directory held in memory: replaced wholesale on reload, or updated per entity.
#[derive(Default)]
pub struct StaticDirectory {
    tables: RwLock<Tables>,
    settings: RwLock<HashMap<AddressOfRecord, UserSettings>>,
    /// Enabled mailboxes.
    voicemail: RwLock<HashMap<AddressOfRecord, VoicemailRoute>>,
    /// Presence watcher rules: watched user -> watcher -> rule.
    watcher_rules: RwLock<HashMap<AddressOfRecord, HashMap<AddressOfRecord, model::WatcherRule>>>,
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
                .map(|s| (s.aor, Ha1Pair::new(s.ha1_md5, s.ha1_sha256)))
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

    /// Replaces every presence watcher rule.
    pub fn replace_watcher_rules(&self, rules: impl IntoIterator<Item = model::PresenceRule>) {
        let mut map: HashMap<AddressOfRecord, HashMap<AddressOfRecord, model::WatcherRule>> =
            HashMap::new();
        for r in rules {
            map.entry(r.watched).or_default().insert(r.watcher, r.rule);
        }
        *self.watcher_rules.write() = map;
    }

    /// Replaces one user's presence watcher rules.
    pub fn set_watcher_rules(
        &self,
        watched: &AddressOfRecord,
        rules: impl IntoIterator<Item = model::PresenceRule>,
    ) {
        let of: HashMap<AddressOfRecord, model::WatcherRule> =
            rules.into_iter().map(|r| (r.watcher, r.rule)).collect();
        let mut map = self.watcher_rules.write();
        if of.is_empty() {
            map.remove(watched);
        } else {
            map.insert(watched.clone(), of);
        }
    }

    /// Replaces every enabled mailbox.
    pub fn replace_voicemail(
        &self,
        mailboxes: impl IntoIterator<Item = (AddressOfRecord, VoicemailRoute)>,
    ) {
        *self.voicemail.write() = mailboxes.into_iter().collect();
    }

    /// Sets one user's mailbox (None: voicemail off).
    pub fn set_voicemail(&self, aor: AddressOfRecord, mailbox: Option<VoicemailRoute>) {
        let mut map = self.voicemail.write();
        match mailbox {
            Some(m) => map.insert(aor, m),
            None => map.remove(&aor),
        };
    }

    /// How many users have voicemail enabled.
    pub fn voicemail_count(&self) -> usize {
        self.voicemail.read().len()
    }

    /// Serves `domain` (lowercased).
    pub fn upsert_domain(&self, domain: &str) {
        self.tables
            .write()
            .domains
            .insert(domain.to_ascii_lowercase());
    }

    /// Stops serving `domain`, with its users, its aliases, the aliases reaching into it
    /// and its users' settings (as the store deletes them).
    pub fn remove_domain(&self, domain: &str) {
        let d = domain.to_ascii_lowercase();
        {
            let mut t = self.tables.write();
            t.domains.remove(&d);
            t.users.retain(|a, _| a.domain != d);
            t.aliases
                .retain(|a, target| a.domain != d && target.domain != d);
        }
        self.settings.write().retain(|a, _| a.domain != d);
        self.voicemail.write().retain(|a, _| a.domain != d);
    }

    /// Adds a subscriber or replaces its hashes.
    pub fn upsert_user(&self, s: Subscriber) {
        self.tables
            .write()
            .users
            .insert(s.aor, Ha1Pair::new(s.ha1_md5, s.ha1_sha256));
    }

    /// Removes a subscriber with the aliases reaching it and its settings.
    pub fn remove_user(&self, aor: &AddressOfRecord) {
        {
            let mut t = self.tables.write();
            t.users.remove(aor);
            t.aliases.retain(|_, target| target != aor);
        }
        self.settings.write().remove(aor);
        self.voicemail.write().remove(aor);
        self.watcher_rules.write().remove(aor);
    }

    /// Adds an alias or points it at another user.
    pub fn upsert_alias(&self, alias: AddressOfRecord, target: AddressOfRecord) {
        self.tables.write().aliases.insert(alias, target);
    }

    /// Removes an alias.
    pub fn remove_alias(&self, alias: &AddressOfRecord) {
        self.tables.write().aliases.remove(alias);
    }

    /// Replaces one user's call-service settings (none set: forgotten).
    pub fn set_settings(&self, aor: AddressOfRecord, settings: UserSettings) {
        let mut map = self.settings.write();
        if settings == UserSettings::default() {
            map.remove(&aor);
        } else {
            map.insert(aor, settings);
        }
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
        self.tables.read().users.get(aor).map(Ha1Pair::to_hex)
    }

    fn pickup_group_peers(&self, aor: &AddressOfRecord) -> Vec<AddressOfRecord> {
        let map = self.settings.read();
        let Some(group) = map.get(aor).and_then(|s| s.pickup_group.as_deref()) else {
            return Vec::new();
        };
        map.iter()
            .filter(|(u, s)| {
                *u != aor && u.domain == aor.domain && s.pickup_group.as_deref() == Some(group)
            })
            .map(|(u, _)| u.clone())
            .collect()
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

    fn class(&self, aor: &AddressOfRecord) -> Option<model::CallClass> {
        self.settings.read().get(aor).and_then(|s| s.class)
    }

    fn disabled(&self, aor: &AddressOfRecord) -> Option<String> {
        self.settings
            .read()
            .get(aor)
            .and_then(|s| s.disabled.clone())
    }

    fn caller_id(&self, aor: &AddressOfRecord) -> Option<String> {
        self.settings
            .read()
            .get(aor)
            .and_then(|s| s.caller_id.clone())
    }

    fn voicemail(&self, aor: &AddressOfRecord) -> Option<VoicemailRoute> {
        self.voicemail.read().get(aor).copied()
    }

    fn watcher_rule(
        &self,
        watched: &AddressOfRecord,
        watcher: &AddressOfRecord,
    ) -> Option<model::WatcherRule> {
        self.watcher_rules
            .read()
            .get(watched)?
            .get(watcher)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aor(s: &str) -> AddressOfRecord {
        AddressOfRecord::parse(s).unwrap_or_else(|| AddressOfRecord::new("x", "invalid"))
    }

    fn sub(s: &str, h: &str) -> Subscriber {
        Subscriber {
            aor: aor(s),
            ha1_md5: h.into(),
            ha1_sha256: h.into(),
        }
    }

    #[test]
    fn per_entity_updates_cascade_as_the_store_does() {
        let d = StaticDirectory::new();
        d.upsert_domain("Example.COM");
        d.upsert_domain("other.test");
        d.upsert_user(sub("alice@example.com", "a1"));
        d.upsert_user(sub("bob@other.test", "b1"));
        d.upsert_alias(aor("100@example.com"), aor("alice@example.com"));
        d.upsert_alias(aor("200@example.com"), aor("bob@other.test"));
        let mut s = UserSettings::default();
        s.forwarding.always = Some("bob@other.test".into());
        d.set_settings(aor("alice@example.com"), s);
        assert!(d.is_local_domain("example.com"));
        assert_eq!(d.counts(), (2, 2, 2));
        assert!(d.forwarding(&aor("alice@example.com")).is_some());

        d.upsert_user(sub("alice@example.com", "a2"));
        assert_eq!(
            d.credentials(&aor("alice@example.com")),
            Some(("a2".into(), "a2".into()))
        );

        d.remove_domain("other.test");
        assert!(!d.is_local_domain("other.test"));
        assert!(!d.is_subscriber(&aor("bob@other.test")));
        assert_eq!(d.resolve_alias(&aor("200@example.com")), None);
        assert_eq!(d.counts(), (1, 1, 1));

        d.remove_user(&aor("alice@example.com"));
        assert_eq!(d.resolve_alias(&aor("100@example.com")), None);
        assert!(d.forwarding(&aor("alice@example.com")).is_none());
        assert_eq!(d.counts(), (1, 0, 0));

        d.upsert_alias(aor("7@example.com"), aor("carol@example.com"));
        d.remove_alias(&aor("7@example.com"));
        assert_eq!(d.counts(), (1, 0, 0));
        d.set_settings(aor("carol@example.com"), UserSettings::default());
        assert!(d.findme(&aor("carol@example.com")).is_none());
    }
}
