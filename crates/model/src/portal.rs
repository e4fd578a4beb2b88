//! What the web portal keeps: portal accounts (admins and domain admins, with an Argon2id
//! password hash), the audit log of administrative actions, and the paged user list.
//!
//! This module owns the types and the [`PortalStore`] trait. It does not own hashing (the
//! `admin` crate), sessions or HTTP (the `portal` crate), or SQL (`storage`). SIP users log
//! in to the portal with their SIP password, checked against their HA1: they have no row
//! here.

use async_trait::async_trait;

use crate::aor::AddressOfRecord;
use crate::error::StoreError;
use crate::store::Store;

/// What a portal account may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortalRole {
    /// Everything.
    Admin,
    /// The users, aliases and registrations of these domains (lowercase), nothing else.
    DomainAdmin(Vec<String>),
}

impl PortalRole {
    /// The role's stored name: `admin` or `domain-admin`.
    pub fn name(&self) -> &'static str {
        match self {
            PortalRole::Admin => "admin",
            PortalRole::DomainAdmin(_) => "domain-admin",
        }
    }

    /// Whether the role covers `domain`.
    pub fn covers(&self, domain: &str) -> bool {
        match self {
            PortalRole::Admin => true,
            PortalRole::DomainAdmin(ds) => ds.iter().any(|d| d.eq_ignore_ascii_case(domain)),
        }
    }
}

/// A portal login that is not a SIP user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalAccount {
    /// The login name.
    pub name: String,
    /// The Argon2id hash in PHC string form (`$argon2id$v=19$...`).
    pub password_hash: String,
    /// What the account may do.
    pub role: PortalRole,
}

/// One administrative action, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its number (assigned by the store; 0 before it is written).
    pub id: i64,
    /// When, in Unix seconds.
    pub at: u64,
    /// Who: a portal account's name, or a SIP user's `user@domain`.
    pub actor: String,
    /// From where: the client's address.
    pub source: String,
    /// What was done (`user.add`, `alias.delete`, `forward.set`, ...).
    pub action: String,
    /// On what (`alice@example.com`, `example.com`, ...).
    pub object: String,
}

/// Which users a page of the user list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Only these domains (lowercase); `None` for all.
    pub domains: Option<Vec<String>>,
    /// Only users whose name starts with this text (empty: all).
    pub prefix: String,
    /// Only users after this one, in (domain, user) order: the last row of the previous
    /// page (keyset paging, so page 1,000 costs what page 1 does).
    pub after: Option<AddressOfRecord>,
    /// At most this many rows.
    pub limit: u32,
}

/// The portal's tables, beside the SIP ones.
#[async_trait]
pub trait PortalStore: Store {
    /// A portal account by name.
    async fn portal_account(&self, name: &str) -> Result<Option<PortalAccount>, StoreError>;
    /// Adds a portal account ([`StoreError::Duplicate`] when the name is taken).
    async fn add_portal_account(&self, account: &PortalAccount) -> Result<(), StoreError>;
    /// Replaces an account's password hash ([`StoreError::NotFound`] when absent).
    async fn set_portal_password(&self, name: &str, hash: &str) -> Result<(), StoreError>;
    /// How many portal accounts exist (the demo creates a first admin when there are none).
    async fn portal_account_count(&self) -> Result<u64, StoreError>;
    /// Appends to the audit log, keeping at most `keep` entries (the oldest go).
    async fn append_audit(&self, entry: &AuditEntry, keep: u64) -> Result<(), StoreError>;
    /// Audit entries, newest first, older than entry `before` when given; at most `limit`.
    async fn audit(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
    /// One page of users in (domain, user) order.
    async fn user_page(&self, query: &UserQuery) -> Result<Vec<AddressOfRecord>, StoreError>;
}
