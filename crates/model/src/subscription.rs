//! Event subscriptions the server is the notifier of (RFC 6665: `dialog` for busy-lamp
//! fields, `message-summary` for message-waiting), as kept in the store so that they
//! survive a restart ([`StoredSubscription`]), and the [`SubscriptionStore`] trait the
//! `storage` crate implements on SQL.
//!
//! This module owns the vocabulary only. The proxy decides when a subscription is written
//! (created, refreshed, ended) and what it means when reloaded; the server writes them
//! behind the core like bindings. There is no in-memory implementation.

use async_trait::async_trait;

use crate::aor::AddressOfRecord;
use crate::error::StoreError;

/// One subscription's dialog and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSubscription {
    /// The event package: `dialog` or `message-summary`.
    pub package: String,
    /// The dialog's Call-ID.
    pub call_id: String,
    /// The subscriber's tag.
    pub remote_tag: String,
    /// Our tag.
    pub local_tag: String,
    /// The user watched (the mailbox's owner for message-summary).
    pub watched: AddressOfRecord,
    /// The user who watches.
    pub watcher: AddressOfRecord,
    /// The subscriber's From URI (the NOTIFY's To).
    pub remote_uri: String,
    /// The subscriber's Contact (the NOTIFY's Request-URI).
    pub contact: String,
    /// Where NOTIFYs go, as `transport:address:port`.
    pub source: String,
    /// When it ends, Unix time in seconds.
    pub expires_at: u64,
    /// The last CSeq used in the dialog when it was written.
    pub cseq: u32,
    /// The next body version (dialog-info) when it was written.
    pub version: u32,
}

/// Subscriptions kept across restarts.
#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// Writes the subscriptions (insert or replace, by package and dialog), in one
    /// transaction.
    async fn save_subscriptions(&self, subs: &[StoredSubscription]) -> Result<(), StoreError>;

    /// Deletes a subscription by its dialog (Call-ID, subscriber's tag, our tag).
    async fn delete_subscription(
        &self,
        call_id: &str,
        remote_tag: &str,
        local_tag: &str,
    ) -> Result<(), StoreError>;

    /// Every subscription that has not ended by `now` (Unix seconds); ended ones are
    /// deleted.
    async fn live_subscriptions(&self, now: u64) -> Result<Vec<StoredSubscription>, StoreError>;
}
