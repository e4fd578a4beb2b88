//! The mailbox data voicemail needs, as a trait ([`Mailboxes`]) shaped like the storage
//! layer's `VoicemailStore` (which the server adapts to it), and [`MemoryMailboxes`] for
//! tests. Message audio lives in files; this trait keeps their paths.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::SystemTime;

use async_trait::async_trait;
use thiserror::Error;

/// A mailbox: the user and domain of its owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxId {
    /// The user part.
    pub user: String,
    /// The domain.
    pub domain: String,
}

impl MailboxId {
    /// `user@domain` (the domain lowercased).
    pub fn new(user: &str, domain: &str) -> MailboxId {
        MailboxId {
            user: user.to_string(),
            domain: domain.to_ascii_lowercase(),
        }
    }
}

impl fmt::Display for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.user, self.domain)
    }
}

/// A mailbox's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSettings {
    /// The most messages it keeps; a deposit into a full mailbox is refused with a prompt.
    pub max_messages: usize,
    /// The user's own greeting, if recorded.
    pub greeting: Option<PathBuf>,
}

/// New or saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Not listened to yet.
    New,
    /// Kept after listening.
    Saved,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its id in the store.
    pub id: u64,
    /// The caller (From URI).
    pub caller: String,
    /// When it was left.
    pub received: SystemTime,
    /// Length in seconds.
    pub duration_secs: u32,
    /// New or saved.
    pub status: MessageStatus,
    /// The WAV file.
    pub path: PathBuf,
}

/// A message to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The caller (From URI).
    pub caller: String,
    /// When it was left.
    pub received: SystemTime,
    /// Length in seconds.
    pub duration_secs: u32,
    /// The WAV file, already written.
    pub path: PathBuf,
}

/// A mailbox operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MailboxError {
    /// The mailbox holds `max_messages` already.
    #[error("mailbox {0} is full")]
    Full(MailboxId),
    /// No such mailbox (voicemail not enabled for the user).
    #[error("no mailbox {0}")]
    NoMailbox(MailboxId),
    /// The store failed (database down, ...).
    #[error("mailbox store: {0}")]
    Store(String),
}

/// Mailbox data, as voicemail sees it.
#[async_trait]
pub trait Mailboxes: Send + Sync + 'static {
    /// The mailbox's settings, `None` when the user has no voicemail.
    async fn settings(&self, mailbox: &MailboxId) -> Result<Option<MailboxSettings>, MailboxError>;
    /// True when `pin` is the mailbox's PIN (stored hashed by the implementation).
    async fn verify_pin(&self, mailbox: &MailboxId, pin: &str) -> Result<bool, MailboxError>;
    /// The messages: new ones first, then saved ones, each oldest first.
    async fn messages(&self, mailbox: &MailboxId) -> Result<Vec<Message>, MailboxError>;
    /// Adds a message (fails with [`MailboxError::Full`] at `max_messages`).
    async fn add_message(
        &self,
        mailbox: &MailboxId,
        message: NewMessage,
    ) -> Result<u64, MailboxError>;
    /// Marks a message new or saved.
    async fn set_status(
        &self,
        mailbox: &MailboxId,
        id: u64,
        status: MessageStatus,
    ) -> Result<(), MailboxError>;
    /// Deletes a message's row and returns its file (the caller removes it).
    async fn delete_message(
        &self,
        mailbox: &MailboxId,
        id: u64,
    ) -> Result<Option<PathBuf>, MailboxError>;
    /// Sets the user's greeting file.
    async fn set_greeting(&self, mailbox: &MailboxId, path: PathBuf) -> Result<(), MailboxError>;
}

#[derive(Debug, Clone)]
struct MemoryBox {
    settings: MailboxSettings,
    pin: String,
    messages: Vec<Message>,
}

/// Mailboxes in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryMailboxes {
    boxes: Mutex<HashMap<MailboxId, MemoryBox>>,
    next_id: Mutex<u64>,
}

impl MemoryMailboxes {
    /// No mailboxes.
    pub fn new() -> MemoryMailboxes {
        MemoryMailboxes::default()
    }

    /// Creates (or resets) a mailbox.
    pub fn create(&self, mailbox: &MailboxId, pin: &str, max_messages: usize) {
        if let Ok(mut b) = self.boxes.lock() {
            b.insert(
                mailbox.clone(),
                MemoryBox {
                    settings: MailboxSettings {
                        max_messages,
                        greeting: None,
                    },
                    pin: pin.to_string(),
                    messages: Vec::new(),
                },
            );
        }
    }

    fn with<T>(
        &self,
        mailbox: &MailboxId,
        f: impl FnOnce(&mut MemoryBox) -> Result<T, MailboxError>,
    ) -> Result<T, MailboxError> {
        let mut boxes = self
            .boxes
            .lock()
            .map_err(|_| MailboxError::Store("poisoned".into()))?;
        let b = boxes
            .get_mut(mailbox)
            .ok_or_else(|| MailboxError::NoMailbox(mailbox.clone()))?;
        f(b)
    }
}

#[async_trait]
impl Mailboxes for MemoryMailboxes {
    async fn settings(&self, mailbox: &MailboxId) -> Result<Option<MailboxSettings>, MailboxError> {
        match self.with(mailbox, |b| Ok(b.settings.clone())) {
            Ok(s) => Ok(Some(s)),
            Err(MailboxError::NoMailbox(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn verify_pin(&self, mailbox: &MailboxId, pin: &str) -> Result<bool, MailboxError> {
        match self.with(mailbox, |b| Ok(b.pin == pin)) {
            Err(MailboxError::NoMailbox(_)) => Ok(false),
            r => r,
        }
    }

    async fn messages(&self, mailbox: &MailboxId) -> Result<Vec<Message>, MailboxError> {
        self.with(mailbox, |b| {
            let mut m = b.messages.clone();
            m.sort_by_key(|m| (m.status == MessageStatus::Saved, m.received, m.id));
            Ok(m)
        })
    }

    async fn add_message(
        &self,
        mailbox: &MailboxId,
        message: NewMessage,
    ) -> Result<u64, MailboxError> {
        let id = {
            let mut n = self
                .next_id
                .lock()
                .map_err(|_| MailboxError::Store("poisoned".into()))?;
            *n += 1;
            *n
        };
        self.with(mailbox, |b| {
            if b.messages.len() >= b.settings.max_messages {
                return Err(MailboxError::Full(mailbox.clone()));
            }
            b.messages.push(Message {
                id,
                caller: message.caller,
                received: message.received,
                duration_secs: message.duration_secs,
                status: MessageStatus::New,
                path: message.path,
            });
            Ok(id)
        })
    }

    async fn set_status(
        &self,
        mailbox: &MailboxId,
        id: u64,
        status: MessageStatus,
    ) -> Result<(), MailboxError> {
        self.with(mailbox, |b| {
            if let Some(m) = b.messages.iter_mut().find(|m| m.id == id) {
                m.status = status;
            }
            Ok(())
        })
    }

    async fn delete_message(
        &self,
        mailbox: &MailboxId,
        id: u64,
    ) -> Result<Option<PathBuf>, MailboxError> {
        self.with(mailbox, |b| {
            let at = b.messages.iter().position(|m| m.id == id);
            Ok(at.map(|i| b.messages.remove(i).path))
        })
    }

    async fn set_greeting(&self, mailbox: &MailboxId, path: PathBuf) -> Result<(), MailboxError> {
        self.with(mailbox, |b| {
            b.settings.greeting = Some(path);
            Ok(())
        })
    }
}
