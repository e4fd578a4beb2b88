//! The voicemail service's view of the mailboxes ([`services::Mailboxes`]) over the
//! database's [`model::VoicemailStore`]: the one place the two vocabularies meet (ids,
//! times, paths). A mailbox that is disabled is no mailbox for deposits and retrieval;
//! PINs are checked against their Argon2id hash off the runtime's worker threads.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use async_trait::async_trait;
use model::{AddressOfRecord, StoreError, VoicemailStore};
use services::{
    MailboxError, MailboxId, MailboxSettings, Mailboxes, Message, MessageStatus, NewMessage,
};

/// [`services::Mailboxes`] on the server's store.
pub struct StoreMailboxes {
    store: Arc<dyn VoicemailStore>,
    max_messages: u32,
}

impl StoreMailboxes {
    /// Mailboxes of `store`, each holding at most `max_messages` (`[voicemail]`).
    pub fn new(store: Arc<dyn VoicemailStore>, max_messages: u32) -> StoreMailboxes {
        StoreMailboxes {
            store,
            max_messages,
        }
    }
}

fn aor(id: &MailboxId) -> AddressOfRecord {
    AddressOfRecord::new(&id.user, &id.domain)
}

fn store_err(id: &MailboxId, e: StoreError) -> MailboxError {
    match e {
        StoreError::Full { .. } => MailboxError::Full(id.clone()),
        StoreError::NotFound { .. } => MailboxError::NoMailbox(id.clone()),
        other => MailboxError::Store(other.to_string()),
    }
}

fn status_to_model(s: MessageStatus) -> model::MessageStatus {
    match s {
        MessageStatus::New => model::MessageStatus::New,
        MessageStatus::Saved => model::MessageStatus::Saved,
    }
}

fn message(m: model::VoicemailMessage) -> Message {
    Message {
        id: m.id.max(0) as u64,
        caller: m.caller,
        received: UNIX_EPOCH + Duration::from_secs(m.received_at),
        duration_secs: m.duration_secs,
        status: match m.status {
            model::MessageStatus::New => MessageStatus::New,
            model::MessageStatus::Saved => MessageStatus::Saved,
        },
        path: PathBuf::from(m.file),
    }
}

impl StoreMailboxes {
    async fn enabled(&self, id: &MailboxId) -> Result<Option<model::Mailbox>, MailboxError> {
        let m = self
            .store
            .mailbox(&aor(id))
            .await
            .map_err(|e| store_err(id, e))?;
        Ok(m.filter(|m| m.enabled))
    }
}

#[async_trait]
impl Mailboxes for StoreMailboxes {
    async fn settings(&self, id: &MailboxId) -> Result<Option<MailboxSettings>, MailboxError> {
        Ok(self.enabled(id).await?.map(|m| MailboxSettings {
            max_messages: self.max_messages as usize,
            greeting: m.greeting.map(PathBuf::from),
        }))
    }

    async fn verify_pin(&self, id: &MailboxId, pin: &str) -> Result<bool, MailboxError> {
        let Some(m) = self.enabled(id).await? else {
            return Ok(false);
        };
        let pin = pin.to_string();
        // Argon2id takes tens of milliseconds: not on a worker thread of the runtime.
        tokio::task::spawn_blocking(move || m.verify_pin(&pin))
            .await
            .map_err(|e| MailboxError::Store(e.to_string()))
    }

    async fn messages(&self, id: &MailboxId) -> Result<Vec<Message>, MailboxError> {
        let all = self
            .store
            .messages(&aor(id))
            .await
            .map_err(|e| store_err(id, e))?;
        Ok(all.into_iter().map(message).collect())
    }

    async fn add_message(&self, id: &MailboxId, m: NewMessage) -> Result<u64, MailboxError> {
        let received_at = m
            .received
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let new = model::NewMessage {
            caller: m.caller,
            received_at,
            duration_secs: m.duration_secs,
            file: m.path.to_string_lossy().into_owned(),
        };
        let n = self
            .store
            .add_message(&aor(id), &new, self.max_messages)
            .await
            .map_err(|e| store_err(id, e))?;
        Ok(n.max(0) as u64)
    }

    async fn set_status(
        &self,
        id: &MailboxId,
        msg: u64,
        status: MessageStatus,
    ) -> Result<(), MailboxError> {
        let msg = i64::try_from(msg).map_err(|e| MailboxError::Store(e.to_string()))?;
        self.store
            .set_message_status(&aor(id), msg, status_to_model(status))
            .await
            .map_err(|e| store_err(id, e))?;
        Ok(())
    }

    async fn delete_message(
        &self,
        id: &MailboxId,
        msg: u64,
    ) -> Result<Option<PathBuf>, MailboxError> {
        let msg = i64::try_from(msg).map_err(|e| MailboxError::Store(e.to_string()))?;
        let gone = self
            .store
            .delete_message(&aor(id), msg)
            .await
            .map_err(|e| store_err(id, e))?;
        Ok(gone.map(|m| PathBuf::from(m.file)))
    }

    async fn set_greeting(&self, id: &MailboxId, path: PathBuf) -> Result<(), MailboxError> {
        let path = path.to_string_lossy().into_owned();
        self.store
            .set_greeting(&aor(id), Some(&path))
            .await
            .map_err(|e| store_err(id, e))
    }
}
