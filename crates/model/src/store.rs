//! The store trait: what SIP logic and the admin front ends may ask of the database.

use async_trait::async_trait;

use crate::aor::AddressOfRecord;
use crate::binding::Binding;
use crate::error::StoreError;
use crate::subscriber::{Alias, Subscriber};

/// Persistent state. Implementations: `storage::SqlStore` (SQLite, MariaDB, PostgreSQL) and
/// [`crate::MemoryStore`].
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Domains this server is responsible for.
    async fn domains(&self) -> Result<Vec<String>, StoreError>;
    /// Adds a domain (lowercased).
    async fn add_domain(&self, domain: &str) -> Result<(), StoreError>;
    /// Removes a domain with its users, aliases and bindings.
    async fn delete_domain(&self, domain: &str) -> Result<(), StoreError>;

    /// Looks up a subscriber.
    async fn subscriber(&self, aor: &AddressOfRecord) -> Result<Option<Subscriber>, StoreError>;
    /// Adds a subscriber; its domain must exist.
    async fn add_subscriber(&self, subscriber: &Subscriber) -> Result<(), StoreError>;
    /// Replaces a subscriber's hashes.
    async fn update_subscriber(&self, subscriber: &Subscriber) -> Result<(), StoreError>;
    /// Removes a subscriber with its aliases and bindings.
    async fn delete_subscriber(&self, aor: &AddressOfRecord) -> Result<(), StoreError>;
    /// Subscribers, of one domain or all.
    async fn subscribers(&self, domain: Option<&str>) -> Result<Vec<Subscriber>, StoreError>;

    /// Resolves an alias to its subscriber.
    async fn resolve_alias(
        &self,
        alias: &AddressOfRecord,
    ) -> Result<Option<AddressOfRecord>, StoreError>;
    /// Adds an alias.
    async fn add_alias(&self, alias: &Alias) -> Result<(), StoreError>;
    /// Removes an alias.
    async fn delete_alias(&self, alias: &AddressOfRecord) -> Result<(), StoreError>;
    /// Aliases, of one domain or all.
    async fn aliases(&self, domain: Option<&str>) -> Result<Vec<Alias>, StoreError>;

    /// Inserts or replaces the binding of (aor, contact).
    async fn save_binding(&self, binding: &Binding) -> Result<(), StoreError>;
    /// Removes the binding of (aor, contact).
    async fn delete_binding(&self, aor: &AddressOfRecord, contact: &str) -> Result<(), StoreError>;
    /// Removes every binding of an AOR, or of everyone when `aor` is None.
    async fn delete_bindings(&self, aor: Option<&AddressOfRecord>) -> Result<u64, StoreError>;
    /// Bindings of one AOR, or all, that have not expired at `now` (Unix seconds).
    async fn bindings(
        &self,
        aor: Option<&AddressOfRecord>,
        now: u64,
    ) -> Result<Vec<Binding>, StoreError>;
    /// Deletes bindings expired at `now`; returns how many.
    async fn purge_expired(&self, now: u64) -> Result<u64, StoreError>;

    /// A user's call-service settings as (name, value) rows, by name (see
    /// [`crate::UserSettings`] for names and values).
    async fn settings(&self, aor: &AddressOfRecord) -> Result<Vec<(String, String)>, StoreError>;
    /// Inserts or replaces one setting of an existing user ([`StoreError::NotFound`]
    /// otherwise).
    async fn set_setting(
        &self,
        aor: &AddressOfRecord,
        name: &str,
        value: &str,
    ) -> Result<(), StoreError>;
    /// Removes one setting; false when it was not set.
    async fn delete_setting(&self, aor: &AddressOfRecord, name: &str) -> Result<bool, StoreError>;
    /// Every user's settings as (aor, name, value), ordered by user then name.
    async fn all_settings(&self) -> Result<Vec<(AddressOfRecord, String, String)>, StoreError>;

    /// Presence watcher rules: every user's, or `watched`'s, ordered by user and watcher.
    async fn presence_rules(
        &self,
        watched: Option<&AddressOfRecord>,
    ) -> Result<Vec<crate::PresenceRule>, StoreError>;
    /// Inserts or replaces a watcher rule of an existing user ([`StoreError::NotFound`]
    /// otherwise).
    async fn set_presence_rule(&self, rule: &crate::PresenceRule) -> Result<(), StoreError>;
    /// Removes `watched`'s rule about `watcher`; false when there was none.
    async fn delete_presence_rule(
        &self,
        watched: &AddressOfRecord,
        watcher: &AddressOfRecord,
    ) -> Result<bool, StoreError>;
}
