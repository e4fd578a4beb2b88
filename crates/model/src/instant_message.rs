//! Instant messages kept for users who were offline (RFC 3428 MESSAGE, issue 17): a
//! [`NewInstantMessage`] as the proxy accepted it, an [`InstantMessage`] as stored, and the
//! [`ImStore`] trait the `storage` crate implements on SQL.
//!
//! This module owns the vocabulary and the field bounds ([`check_instant_message`]). It
//! does not own when a message is stored or delivered (the proxy's `core/messages.rs`),
//! the delivery queue (the server's `instant_messages.rs`) or the SQL. There is no
//! in-memory implementation: the proxy never reads the store itself.

use async_trait::async_trait;

use crate::aor::AddressOfRecord;
use crate::error::StoreError;

/// Longest sender (`From` without its tag) kept, in bytes (the SQL column's width).
pub const MAX_IM_SENDER_LEN: usize = 512;
/// Longest `Content-Type` kept, in bytes (the SQL column's width).
pub const MAX_IM_TYPE_LEN: usize = 255;
/// Largest body the store takes, in bytes, whatever `[messages] max_bytes` says (the
/// column's width on MariaDB is larger; this keeps one message in one UDP datagram's
/// order of size times ten).
pub const MAX_IM_BODY_LEN: usize = 65_536;

/// A message the proxy accepted for an offline user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInstantMessage {
    /// The recipient.
    pub to: AddressOfRecord,
    /// The sender: the `From` header value without its tag (`"Alice" <sip:alice@d>`).
    pub from: String,
    /// The body's `Content-Type`.
    pub content_type: String,
    /// The body (text: a body that is not UTF-8 is not stored).
    pub body: String,
    /// When it was received, Unix time in seconds.
    pub received_at: u64,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstantMessage {
    /// The row's id: messages of one user are delivered in id order.
    pub id: i64,
    /// The recipient.
    pub to: AddressOfRecord,
    /// The sender, as in [`NewInstantMessage::from`].
    pub from: String,
    /// The body's `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: String,
    /// When it was received, Unix time in seconds.
    pub received_at: u64,
    /// Delivery attempts that failed so far.
    pub attempts: u32,
}

/// Checks the fields' bounds: [`StoreError::Invalid`] naming the field.
pub fn check_instant_message(m: &NewInstantMessage) -> Result<(), StoreError> {
    if m.from.is_empty() || m.from.len() > MAX_IM_SENDER_LEN || m.from.contains(['\r', '\n']) {
        return Err(StoreError::Invalid {
            field: "from",
            why: format!("1 to {MAX_IM_SENDER_LEN} bytes on one line"),
        });
    }
    if m.content_type.is_empty()
        || m.content_type.len() > MAX_IM_TYPE_LEN
        || m.content_type.contains(['\r', '\n'])
    {
        return Err(StoreError::Invalid {
            field: "content_type",
            why: format!("1 to {MAX_IM_TYPE_LEN} bytes on one line"),
        });
    }
    if m.body.len() > MAX_IM_BODY_LEN {
        return Err(StoreError::Invalid {
            field: "body",
            why: format!("at most {MAX_IM_BODY_LEN} bytes"),
        });
    }
    Ok(())
}

/// Stored instant messages.
#[async_trait]
pub trait ImStore: Send + Sync {
    /// Stores `m` unless its recipient has `max_per_user` messages already
    /// ([`StoreError::Full`]; checked by the inserting statement itself) or is not a user
    /// ([`StoreError::NotFound`]). Answers the new message's id.
    async fn store_instant_message(
        &self,
        m: &NewInstantMessage,
        max_per_user: u32,
    ) -> Result<i64, StoreError>;

    /// The messages waiting for `to`, oldest first, at most `limit`.
    async fn pending_instant_messages(
        &self,
        to: &AddressOfRecord,
        limit: u32,
    ) -> Result<Vec<InstantMessage>, StoreError>;

    /// Every stored message (of `to` only, when given), by recipient then oldest first.
    async fn instant_messages(
        &self,
        to: Option<&AddressOfRecord>,
    ) -> Result<Vec<InstantMessage>, StoreError>;

    /// Removes message `id` (delivered, or given up); false when it was not there.
    async fn delete_instant_message(&self, id: i64) -> Result<bool, StoreError>;

    /// Counts one more failed delivery of message `id`; answers the attempts so far (None:
    /// no such message).
    async fn instant_message_failed(&self, id: i64) -> Result<Option<u32>, StoreError>;

    /// Removes messages (of `to` only, when given) received before `before` (Unix time;
    /// `u64::MAX`: all of them). Answers how many went.
    async fn purge_instant_messages(
        &self,
        to: Option<&AddressOfRecord>,
        before: u64,
    ) -> Result<u64, StoreError>;

    /// The users with messages waiting.
    async fn instant_message_recipients(&self) -> Result<Vec<AddressOfRecord>, StoreError>;

    /// How many messages are stored.
    async fn instant_message_count(&self) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> NewInstantMessage {
        NewInstantMessage {
            to: AddressOfRecord::new("bob", "example.com"),
            from: "\"Alice\" <sip:alice@example.com>".into(),
            content_type: "text/plain".into(),
            body: "hello".into(),
            received_at: 1,
        }
    }

    #[test]
    fn fields_are_bounded() {
        check_instant_message(&m()).unwrap();
        let bad = NewInstantMessage {
            from: "a\r\nX: y".into(),
            ..m()
        };
        assert!(matches!(
            check_instant_message(&bad),
            Err(StoreError::Invalid { field: "from", .. })
        ));
        let big = NewInstantMessage {
            body: "x".repeat(MAX_IM_BODY_LEN + 1),
            ..m()
        };
        assert!(matches!(
            check_instant_message(&big),
            Err(StoreError::Invalid { field: "body", .. })
        ));
        let no_type = NewInstantMessage {
            content_type: String::new(),
            ..m()
        };
        assert!(check_instant_message(&no_type).is_err());
    }
}
