//! Voicemail data: a user's [`Mailbox`] (PIN hash, ring time before voicemail answers,
//! greeting) and its [`VoicemailMessage`]s, and the [`VoicemailStore`] trait that the
//! `storage` crate implements on SQL and [`crate::MemoryStore`] in memory.
//!
//! This module owns the vocabulary and the PIN rules (digits only, hashed with Argon2id,
//! [`Mailbox::verify_pin`]). It does not own the audio files themselves (their paths are
//! plain text here), the deposit/retrieval dialogue (the media service) or the SQL.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use async_trait::async_trait;
use password_hash::rand_core::OsRng;

use crate::aor::AddressOfRecord;
use crate::error::StoreError;

/// The forwarding target meaning "the user's own mailbox" (`forward set ... voicemail`),
/// and the user part of the voicemail service's Request-URIs.
pub const VOICEMAIL_TARGET: &str = "voicemail";

/// Shortest PIN accepted, in digits.
pub const MIN_PIN_DIGITS: usize = 4;
/// Longest PIN accepted, in digits.
pub const MAX_PIN_DIGITS: usize = 16;
/// Ring time before voicemail answers when `--after` is not given, in seconds.
pub const DEFAULT_AFTER_SECS: u32 = 20;
/// Longest ring time before voicemail answers, in seconds.
pub const MAX_AFTER_SECS: u32 = 300;
/// Longest caller text kept with a message, in bytes (the SQL column's width).
pub const MAX_CALLER_LEN: usize = 255;
/// Longest file path kept (greeting or message), in bytes (the SQL column's width).
pub const MAX_PATH_LEN: usize = 1024;

/// A user's voicemail settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Whose mailbox.
    pub aor: AddressOfRecord,
    /// The PIN's Argon2id hash in PHC string form (never the PIN).
    pub pin_hash: String,
    /// Seconds the user's phones ring before voicemail answers.
    pub after_secs: u32,
    /// From the user's own phone (`*98`), retrieval asks no PIN.
    pub no_pin_at_home: bool,
    /// The user's own greeting (a WAV file, 8 kHz mono 16-bit), if recorded or uploaded;
    /// otherwise the default prompt plays.
    pub greeting: Option<String>,
    /// Whether calls go to voicemail (a disabled mailbox keeps its messages).
    pub enabled: bool,
}

impl Mailbox {
    /// Whether `pin` is this mailbox's PIN.
    pub fn verify_pin(&self, pin: &str) -> bool {
        verify_pin(&self.pin_hash, pin)
    }
}

/// Checks a PIN's form: [`MIN_PIN_DIGITS`] to [`MAX_PIN_DIGITS`] ASCII digits (what a
/// phone's keypad can send as DTMF).
pub fn check_pin(pin: &str) -> Result<(), StoreError> {
    let invalid = |why: String| StoreError::Invalid { field: "pin", why };
    if !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("must be digits only (0-9)".into()));
    }
    if !(MIN_PIN_DIGITS..=MAX_PIN_DIGITS).contains(&pin.len()) {
        return Err(invalid(format!(
            "must be {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} digits"
        )));
    }
    Ok(())
}

/// The Argon2id hash of a valid PIN ([`check_pin`]), with a random salt, in PHC string form.
pub fn hash_pin(pin: &str) -> Result<String, StoreError> {
    check_pin(pin)?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Backend(format!("hashing the PIN: {e}")))
}

/// Whether `pin` matches `hash` (a PHC string from [`hash_pin`]); false for a malformed hash.
pub fn verify_pin(hash: &str, pin: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &h)
            .is_ok()
    })
}

/// Whether a message has been listened to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Not yet heard: counts as "new" in message-waiting notifications.
    New,
    /// Heard and kept: counts as "old".
    Saved,
}

impl MessageStatus {
    /// The stored word: `new` or `saved`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::New => "new",
            MessageStatus::Saved => "saved",
        }
    }

    /// Parses [`MessageStatus::as_str`]'s word.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new" => Some(MessageStatus::New),
            "saved" => Some(MessageStatus::Saved),
            _ => None,
        }
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message to deposit (its id is the store's to give).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Who called, as the caller's From URI or display text.
    pub caller: String,
    /// When it was recorded, Unix seconds.
    pub received_at: u64,
    /// Its length in seconds.
    pub duration_secs: u32,
    /// The WAV file holding it.
    pub file: String,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailMessage {
    /// The store's id, unique across mailboxes.
    pub id: i64,
    /// Whose mailbox holds it.
    pub mailbox: AddressOfRecord,
    /// Who called.
    pub caller: String,
    /// When it was recorded, Unix seconds.
    pub received_at: u64,
    /// Its length in seconds.
    pub duration_secs: u32,
    /// New or saved.
    pub status: MessageStatus,
    /// The WAV file holding it.
    pub file: String,
}

/// How many messages a mailbox holds, as RFC 3842's `Voice-Message: new/old` counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MessageCounts {
    /// Messages not yet heard.
    pub new: u32,
    /// Messages heard and kept.
    pub old: u32,
}

impl MessageCounts {
    /// Counts a mailbox's messages.
    pub fn of(messages: &[VoicemailMessage]) -> Self {
        let new = messages
            .iter()
            .filter(|m| m.status == MessageStatus::New)
            .count();
        MessageCounts {
            new: u32::try_from(new).unwrap_or(u32::MAX),
            old: u32::try_from(messages.len() - new).unwrap_or(u32::MAX),
        }
    }
}

/// Checks the free-text fields of a message against the stored widths.
pub fn check_message(m: &NewMessage) -> Result<(), StoreError> {
    if m.caller.len() > MAX_CALLER_LEN {
        return Err(StoreError::Invalid {
            field: "caller",
            why: format!("longer than {MAX_CALLER_LEN} bytes"),
        });
    }
    check_path("file", &m.file)
}

/// Checks a stored file path's width.
pub fn check_path(field: &'static str, path: &str) -> Result<(), StoreError> {
    if path.is_empty() || path.len() > MAX_PATH_LEN {
        return Err(StoreError::Invalid {
            field,
            why: format!("must be 1 to {MAX_PATH_LEN} bytes"),
        });
    }
    Ok(())
}

/// Mailboxes and messages. Implementations: `storage::SqlStore` and [`crate::MemoryStore`].
/// Deleting a user or domain deletes its mailbox and message rows (not the audio files).
#[async_trait]
pub trait VoicemailStore: Send + Sync + 'static {
    /// A user's mailbox, if one was ever set up.
    async fn mailbox(&self, aor: &AddressOfRecord) -> Result<Option<Mailbox>, StoreError>;
    /// Every mailbox, by user (for the server's directory).
    async fn mailboxes(&self) -> Result<Vec<Mailbox>, StoreError>;
    /// Inserts or replaces a mailbox; the user must exist ([`StoreError::NotFound`]).
    /// Its messages stay.
    async fn save_mailbox(&self, mailbox: &Mailbox) -> Result<(), StoreError>;
    /// Removes a mailbox with its message rows; false when there was none.
    async fn delete_mailbox(&self, aor: &AddressOfRecord) -> Result<bool, StoreError>;
    /// Sets or clears a mailbox's own greeting file ([`StoreError::NotFound`] without a
    /// mailbox).
    async fn set_greeting(
        &self,
        aor: &AddressOfRecord,
        file: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Deposits a message as new and returns its id. A mailbox that does not exist is
    /// [`StoreError::NotFound`]; one already holding `max_messages` is
    /// [`StoreError::Full`] and nothing is written.
    async fn add_message(
        &self,
        aor: &AddressOfRecord,
        message: &NewMessage,
        max_messages: u32,
    ) -> Result<i64, StoreError>;
    /// A mailbox's messages: new ones first, then saved ones, each oldest first.
    async fn messages(&self, aor: &AddressOfRecord) -> Result<Vec<VoicemailMessage>, StoreError>;
    /// Marks a message of this mailbox new or saved; false when it has no such message.
    async fn set_message_status(
        &self,
        aor: &AddressOfRecord,
        id: i64,
        status: MessageStatus,
    ) -> Result<bool, StoreError>;
    /// Deletes a message of this mailbox and returns it (its file is the caller's to
    /// remove); None when it has no such message.
    async fn delete_message(
        &self,
        aor: &AddressOfRecord,
        id: i64,
    ) -> Result<Option<VoicemailMessage>, StoreError>;
    /// The mailbox's new and old message counts (0/0 without a mailbox).
    async fn message_counts(&self, aor: &AddressOfRecord) -> Result<MessageCounts, StoreError>;
}

/// Sorts messages as [`VoicemailStore::messages`] returns them.
pub fn sort_messages(messages: &mut [VoicemailMessage]) {
    messages.sort_by_key(|m| (m.status == MessageStatus::Saved, m.received_at, m.id));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_digits_and_hashed() {
        assert!(check_pin("12a4").is_err());
        assert!(check_pin("123").is_err());
        assert!(check_pin("12345678901234567").is_err());
        let h = hash_pin("4711").unwrap();
        assert!(!h.contains("4711"));
        assert!(verify_pin(&h, "4711"));
        assert!(!verify_pin(&h, "4712"));
        assert!(!verify_pin("garbage", "4711"));
        // Two hashes of one PIN differ (random salt).
        assert_ne!(hash_pin("4711").unwrap(), h);
    }
}
