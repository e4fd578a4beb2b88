//! Switchboard's persistent store: [`SqlStore`], the [`model::Store`] on SQL databases.
//!
//! This crate owns the SQL: the schema and its versioned migrations (one dialect per backend
//! under `migrations/`), connection pooling and every query, always parameterised. It runs on
//! SQLite (`sqlite://path/file.db`, WAL mode, or `sqlite::memory:`), MariaDB/MySQL
//! (`mysql://`, `mariadb://`) and PostgreSQL (`postgres://`, `postgresql://`), chosen by the
//! URL scheme. Semantics match [`model::MemoryStore`]; on top of the trait it offers batch
//! writes in one transaction for the registrar's write-behind.
//!
//! One module per aggregate (`domains`, `subscribers`, `aliases`, `bindings`, `settings`,
//! `voicemail`, `records`, `portal`, `pstn`, `instant_messages`, `subscriptions`) writes its SQL once; `dialect` holds every
//! difference between the three databases, `db` how a query runs, `connect` and `schema`
//! opening a database and migrating it. This file only wires the [`Store`],
//! [`VoicemailStore`], [`CdrStore`], [`PortalStore`], [`PstnStore`], [`ImStore`] and
//! [`SubscriptionStore`] traits to them.

#[macro_use]
mod db;
mod aliases;
mod bindings;
mod connect;
mod dialect;
mod domains;
mod instant_messages;
mod portal;
mod presence_rules;
mod pstn;
mod records;
mod schema;
mod settings;
mod subscribers;
mod subscriptions;
mod voicemail;

use async_trait::async_trait;
use model::{
    AddressOfRecord, Alias, AuditEntry, Binding, CallRecord, CdrFilter, CdrStore, Gateway, ImStore,
    InstantMessage, Mailbox, MessageCounts, MessageStatus, NewInstantMessage, NewMessage,
    PortalAccount, PortalStore, PstnStore, Route, Store, StoreError, StoredSubscription,
    Subscriber, SubscriptionStore, TrustedPeer, UserQuery, VoicemailMessage, VoicemailStore,
};

pub use bindings::MAX_CONTACT_LEN;
pub use connect::describe_url;
pub use dialect::Backend;
pub use settings::MAX_SETTING_NAME_LEN;

/// The [`Store`] on SQLite, MariaDB/MySQL or PostgreSQL, behind a connection pool. Clones
/// share the pool.
#[derive(Clone)]
pub struct SqlStore {
    pool: db::Pool,
}

#[async_trait]
impl Store for SqlStore {
    async fn domains(&self) -> Result<Vec<String>, StoreError> {
        domains::list(self).await
    }

    async fn add_domain(&self, domain: &str) -> Result<(), StoreError> {
        domains::add(self, domain).await
    }

    async fn delete_domain(&self, domain: &str) -> Result<(), StoreError> {
        domains::delete(self, domain).await
    }

    async fn subscriber(&self, aor: &AddressOfRecord) -> Result<Option<Subscriber>, StoreError> {
        subscribers::get(self, aor).await
    }

    async fn add_subscriber(&self, s: &Subscriber) -> Result<(), StoreError> {
        subscribers::add(self, s).await
    }

    async fn update_subscriber(&self, s: &Subscriber) -> Result<(), StoreError> {
        subscribers::update(self, s).await
    }

    async fn delete_subscriber(&self, aor: &AddressOfRecord) -> Result<(), StoreError> {
        subscribers::delete(self, aor).await
    }

    async fn subscribers(&self, domain: Option<&str>) -> Result<Vec<Subscriber>, StoreError> {
        subscribers::list(self, domain).await
    }

    async fn resolve_alias(
        &self,
        alias: &AddressOfRecord,
    ) -> Result<Option<AddressOfRecord>, StoreError> {
        aliases::resolve(self, alias).await
    }

    async fn add_alias(&self, a: &Alias) -> Result<(), StoreError> {
        aliases::add(self, a).await
    }

    async fn delete_alias(&self, alias: &AddressOfRecord) -> Result<(), StoreError> {
        aliases::delete(self, alias).await
    }

    async fn aliases(&self, domain: Option<&str>) -> Result<Vec<Alias>, StoreError> {
        aliases::list(self, domain).await
    }

    async fn save_binding(&self, b: &Binding) -> Result<(), StoreError> {
        bindings::save(self, b).await
    }

    async fn delete_binding(&self, aor: &AddressOfRecord, contact: &str) -> Result<(), StoreError> {
        bindings::delete(self, aor, contact).await
    }

    async fn delete_bindings(&self, aor: Option<&AddressOfRecord>) -> Result<u64, StoreError> {
        bindings::delete_all(self, aor).await
    }

    async fn bindings(
        &self,
        aor: Option<&AddressOfRecord>,
        now: u64,
    ) -> Result<Vec<Binding>, StoreError> {
        bindings::list(self, aor, now).await
    }

    async fn purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        bindings::purge_expired(self, now).await
    }

    async fn settings(&self, aor: &AddressOfRecord) -> Result<Vec<(String, String)>, StoreError> {
        settings::list(self, aor).await
    }

    async fn set_setting(
        &self,
        aor: &AddressOfRecord,
        name: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        settings::set(self, aor, name, value).await
    }

    async fn delete_setting(&self, aor: &AddressOfRecord, name: &str) -> Result<bool, StoreError> {
        settings::delete(self, aor, name).await
    }

    async fn all_settings(&self) -> Result<Vec<(AddressOfRecord, String, String)>, StoreError> {
        settings::all(self).await
    }

    async fn presence_rules(
        &self,
        watched: Option<&AddressOfRecord>,
    ) -> Result<Vec<model::PresenceRule>, StoreError> {
        presence_rules::list(self, watched).await
    }

    async fn set_presence_rule(&self, rule: &model::PresenceRule) -> Result<(), StoreError> {
        presence_rules::set(self, rule).await
    }

    async fn delete_presence_rule(
        &self,
        watched: &AddressOfRecord,
        watcher: &AddressOfRecord,
    ) -> Result<bool, StoreError> {
        presence_rules::delete(self, watched, watcher).await
    }
}

#[async_trait]
impl VoicemailStore for SqlStore {
    async fn mailbox(&self, aor: &AddressOfRecord) -> Result<Option<Mailbox>, StoreError> {
        voicemail::mailbox(self, aor).await
    }

    async fn mailboxes(&self) -> Result<Vec<Mailbox>, StoreError> {
        voicemail::mailboxes(self).await
    }

    async fn save_mailbox(&self, mailbox: &Mailbox) -> Result<(), StoreError> {
        voicemail::save_mailbox(self, mailbox).await
    }

    async fn delete_mailbox(&self, aor: &AddressOfRecord) -> Result<bool, StoreError> {
        voicemail::delete_mailbox(self, aor).await
    }

    async fn set_greeting(
        &self,
        aor: &AddressOfRecord,
        file: Option<&str>,
    ) -> Result<(), StoreError> {
        voicemail::set_greeting(self, aor, file).await
    }

    async fn add_message(
        &self,
        aor: &AddressOfRecord,
        message: &NewMessage,
        max_messages: u32,
    ) -> Result<i64, StoreError> {
        voicemail::add_message(self, aor, message, max_messages).await
    }

    async fn messages(&self, aor: &AddressOfRecord) -> Result<Vec<VoicemailMessage>, StoreError> {
        voicemail::messages(self, aor).await
    }

    async fn set_message_status(
        &self,
        aor: &AddressOfRecord,
        id: i64,
        status: MessageStatus,
    ) -> Result<bool, StoreError> {
        voicemail::set_message_status(self, aor, id, status).await
    }

    async fn delete_message(
        &self,
        aor: &AddressOfRecord,
        id: i64,
    ) -> Result<Option<VoicemailMessage>, StoreError> {
        voicemail::delete_message(self, aor, id).await
    }

    async fn message_counts(&self, aor: &AddressOfRecord) -> Result<MessageCounts, StoreError> {
        voicemail::message_counts(self, aor).await
    }
}

#[async_trait]
impl ImStore for SqlStore {
    async fn store_instant_message(
        &self,
        m: &NewInstantMessage,
        max_per_user: u32,
    ) -> Result<i64, StoreError> {
        instant_messages::store(self, m, max_per_user).await
    }

    async fn pending_instant_messages(
        &self,
        to: &AddressOfRecord,
        limit: u32,
    ) -> Result<Vec<InstantMessage>, StoreError> {
        instant_messages::pending(self, to, limit).await
    }

    async fn instant_messages(
        &self,
        to: Option<&AddressOfRecord>,
    ) -> Result<Vec<InstantMessage>, StoreError> {
        instant_messages::list(self, to).await
    }

    async fn delete_instant_message(&self, id: i64) -> Result<bool, StoreError> {
        instant_messages::delete(self, id).await
    }

    async fn instant_message_failed(&self, id: i64) -> Result<Option<u32>, StoreError> {
        instant_messages::failed(self, id).await
    }

    async fn purge_instant_messages(
        &self,
        to: Option<&AddressOfRecord>,
        before: u64,
    ) -> Result<u64, StoreError> {
        instant_messages::purge(self, to, before).await
    }

    async fn instant_message_recipients(&self) -> Result<Vec<AddressOfRecord>, StoreError> {
        instant_messages::recipients(self).await
    }

    async fn instant_message_count(&self) -> Result<u64, StoreError> {
        instant_messages::count(self).await
    }
}

#[async_trait]
impl SubscriptionStore for SqlStore {
    async fn save_subscriptions(&self, subs: &[StoredSubscription]) -> Result<(), StoreError> {
        subscriptions::save(self, subs).await
    }

    async fn delete_subscription(
        &self,
        call_id: &str,
        remote_tag: &str,
        local_tag: &str,
    ) -> Result<(), StoreError> {
        subscriptions::delete(self, call_id, remote_tag, local_tag).await
    }

    async fn live_subscriptions(&self, now: u64) -> Result<Vec<StoredSubscription>, StoreError> {
        subscriptions::live(self, now).await
    }
}

#[async_trait]
impl CdrStore for SqlStore {
    async fn save_records(&self, records: &[CallRecord]) -> Result<(), StoreError> {
        records::save(self, records).await
    }

    async fn records(&self, filter: &CdrFilter) -> Result<Vec<CallRecord>, StoreError> {
        records::list(self, filter).await
    }

    async fn delete_records_before(&self, before_ms: u64) -> Result<u64, StoreError> {
        records::delete_before(self, before_ms).await
    }
}

#[async_trait]
impl PortalStore for SqlStore {
    async fn portal_account(&self, name: &str) -> Result<Option<PortalAccount>, StoreError> {
        portal::account(self, name).await
    }

    async fn add_portal_account(&self, account: &PortalAccount) -> Result<(), StoreError> {
        portal::add_account(self, account).await
    }

    async fn set_portal_password(&self, name: &str, hash: &str) -> Result<(), StoreError> {
        portal::set_password(self, name, hash).await
    }

    async fn portal_account_count(&self) -> Result<u64, StoreError> {
        portal::count(self).await
    }

    async fn append_audit(&self, entry: &AuditEntry, keep: u64) -> Result<(), StoreError> {
        portal::append_audit(self, entry, keep).await
    }

    async fn audit(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        portal::audit(self, before, limit).await
    }

    async fn user_page(&self, query: &UserQuery) -> Result<Vec<AddressOfRecord>, StoreError> {
        portal::user_page(self, query).await
    }
}

#[async_trait]
impl PstnStore for SqlStore {
    async fn gateways(&self) -> Result<Vec<Gateway>, StoreError> {
        pstn::gateways(self).await
    }

    async fn add_gateway(&self, g: &Gateway) -> Result<(), StoreError> {
        pstn::add_gateway(self, g).await
    }
    async fn update_gateway(&self, g: &Gateway) -> Result<(), StoreError> {
        pstn::update_gateway(self, g).await
    }

    async fn delete_gateway(&self, name: &str) -> Result<(), StoreError> {
        pstn::delete_gateway(self, name).await
    }

    async fn routes(&self) -> Result<Vec<Route>, StoreError> {
        pstn::routes(self).await
    }

    async fn add_route(&self, r: &Route) -> Result<(), StoreError> {
        pstn::add_route(self, r).await
    }

    async fn delete_route(&self, prefix: &str, domain: Option<&str>) -> Result<(), StoreError> {
        pstn::delete_route(self, prefix, domain).await
    }

    async fn dial_rules(&self) -> Result<Vec<model::DialRule>, StoreError> {
        pstn::dial_rules(self).await
    }

    async fn add_dial_rule(&self, r: &model::DialRule) -> Result<(), StoreError> {
        pstn::add_dial_rule(self, r).await
    }

    async fn delete_dial_rule(&self, domain: &str, pattern: &str) -> Result<(), StoreError> {
        pstn::delete_dial_rule(self, domain, pattern).await
    }

    async fn trusted(&self) -> Result<Vec<TrustedPeer>, StoreError> {
        pstn::trusted(self).await
    }

    async fn add_trusted(&self, p: &TrustedPeer) -> Result<(), StoreError> {
        pstn::add_trusted(self, p).await
    }

    async fn delete_trusted(&self, cidr: &str) -> Result<(), StoreError> {
        pstn::delete_trusted(self, cidr).await
    }
}
