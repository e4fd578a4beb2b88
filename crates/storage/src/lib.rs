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
//! `pstn`)
//! writes its SQL once; `dialect` holds every difference between the three databases, `db`
//! how a query runs, `connect` and `schema` opening a database and migrating it. This file
//! only wires the [`Store`] trait to them.

#[macro_use]
mod db;
mod aliases;
mod bindings;
mod connect;
mod dialect;
mod domains;
mod pstn;
mod schema;
mod settings;
mod subscribers;

use async_trait::async_trait;
use model::{
    AddressOfRecord, Alias, Binding, Gateway, PstnStore, Route, Store, StoreError, Subscriber,
    TrustedPeer,
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
}

#[async_trait]
impl PstnStore for SqlStore {
    async fn gateways(&self) -> Result<Vec<Gateway>, StoreError> {
        pstn::gateways(self).await
    }

    async fn add_gateway(&self, g: &Gateway) -> Result<(), StoreError> {
        pstn::add_gateway(self, g).await
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
