//! The [`VoicemailStore`] of [`MemoryStore`]: mailboxes and messages in maps, with the SQL
//! store's semantics (a mailbox needs its user, a full mailbox refuses, ids are unique).

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::aor::AddressOfRecord;
use crate::error::StoreError;
use crate::memory::MemoryStore;
use crate::voicemail::{
    check_message, check_path, sort_messages, Mailbox, MessageCounts, MessageStatus, NewMessage,
    VoicemailMessage, VoicemailStore,
};

/// Mailboxes and messages of a [`MemoryStore`].
#[derive(Default)]
pub(crate) struct VoicemailTables {
    mailboxes: BTreeMap<AddressOfRecord, Mailbox>,
    messages: BTreeMap<i64, VoicemailMessage>,
    last_id: i64,
}

impl VoicemailTables {
    /// Keeps only the mailboxes (and their messages) of users for which `keep` holds.
    pub(crate) fn retain(&mut self, keep: impl Fn(&AddressOfRecord) -> bool) {
        self.mailboxes.retain(|a, _| keep(a));
        self.messages.retain(|_, m| keep(&m.mailbox));
    }

    fn of(&self, aor: &AddressOfRecord) -> Vec<VoicemailMessage> {
        let mut v: Vec<VoicemailMessage> = self
            .messages
            .values()
            .filter(|m| &m.mailbox == aor)
            .cloned()
            .collect();
        sort_messages(&mut v);
        v
    }
}

fn no_mailbox(aor: &AddressOfRecord) -> StoreError {
    StoreError::NotFound {
        what: format!("mailbox {aor}"),
    }
}

#[async_trait]
impl VoicemailStore for MemoryStore {
    async fn mailbox(&self, aor: &AddressOfRecord) -> Result<Option<Mailbox>, StoreError> {
        Ok(self.inner.lock().voicemail.mailboxes.get(aor).cloned())
    }

    async fn mailboxes(&self) -> Result<Vec<Mailbox>, StoreError> {
        Ok(self
            .inner
            .lock()
            .voicemail
            .mailboxes
            .values()
            .cloned()
            .collect())
    }

    async fn save_mailbox(&self, mailbox: &Mailbox) -> Result<(), StoreError> {
        if let Some(g) = &mailbox.greeting {
            check_path("greeting", g)?;
        }
        let mut g = self.inner.lock();
        if !g.subscribers.contains_key(&mailbox.aor) {
            return Err(StoreError::NotFound {
                what: format!("user {}", mailbox.aor),
            });
        }
        g.voicemail
            .mailboxes
            .insert(mailbox.aor.clone(), mailbox.clone());
        Ok(())
    }

    async fn delete_mailbox(&self, aor: &AddressOfRecord) -> Result<bool, StoreError> {
        let mut g = self.inner.lock();
        let had = g.voicemail.mailboxes.remove(aor).is_some();
        g.voicemail.messages.retain(|_, m| &m.mailbox != aor);
        Ok(had)
    }

    async fn set_greeting(
        &self,
        aor: &AddressOfRecord,
        file: Option<&str>,
    ) -> Result<(), StoreError> {
        if let Some(f) = file {
            check_path("greeting", f)?;
        }
        let mut g = self.inner.lock();
        let m = g
            .voicemail
            .mailboxes
            .get_mut(aor)
            .ok_or_else(|| no_mailbox(aor))?;
        m.greeting = file.map(str::to_string);
        Ok(())
    }

    async fn add_message(
        &self,
        aor: &AddressOfRecord,
        message: &NewMessage,
        max_messages: u32,
    ) -> Result<i64, StoreError> {
        check_message(message)?;
        let mut g = self.inner.lock();
        let t = &mut g.voicemail;
        if !t.mailboxes.contains_key(aor) {
            return Err(no_mailbox(aor));
        }
        let held = t.messages.values().filter(|m| &m.mailbox == aor).count();
        if held >= max_messages as usize {
            return Err(StoreError::Full {
                what: format!("mailbox {aor}"),
            });
        }
        t.last_id += 1;
        let id = t.last_id;
        t.messages.insert(
            id,
            VoicemailMessage {
                id,
                mailbox: aor.clone(),
                caller: message.caller.clone(),
                received_at: message.received_at,
                duration_secs: message.duration_secs,
                status: MessageStatus::New,
                file: message.file.clone(),
            },
        );
        Ok(id)
    }

    async fn messages(&self, aor: &AddressOfRecord) -> Result<Vec<VoicemailMessage>, StoreError> {
        Ok(self.inner.lock().voicemail.of(aor))
    }

    async fn set_message_status(
        &self,
        aor: &AddressOfRecord,
        id: i64,
        status: MessageStatus,
    ) -> Result<bool, StoreError> {
        let mut g = self.inner.lock();
        match g.voicemail.messages.get_mut(&id) {
            Some(m) if &m.mailbox == aor => {
                m.status = status;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete_message(
        &self,
        aor: &AddressOfRecord,
        id: i64,
    ) -> Result<Option<VoicemailMessage>, StoreError> {
        let mut g = self.inner.lock();
        let t = &mut g.voicemail;
        if t.messages.get(&id).is_some_and(|m| &m.mailbox == aor) {
            return Ok(t.messages.remove(&id));
        }
        Ok(None)
    }

    async fn message_counts(&self, aor: &AddressOfRecord) -> Result<MessageCounts, StoreError> {
        Ok(MessageCounts::of(&self.inner.lock().voicemail.of(aor)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::subscriber::Subscriber;

    fn mailbox(aor: &AddressOfRecord) -> Mailbox {
        Mailbox {
            aor: aor.clone(),
            pin_hash: "h".into(),
            after_secs: 20,
            no_pin_at_home: false,
            greeting: None,
            enabled: true,
        }
    }

    fn message(at: u64) -> NewMessage {
        NewMessage {
            caller: "sip:bob@example.com".into(),
            received_at: at,
            duration_secs: 3,
            file: format!("/tmp/{at}.wav"),
        }
    }

    #[tokio::test]
    async fn mailboxes_hold_bounded_messages_and_go_with_their_user() {
        let s = MemoryStore::new();
        let alice = AddressOfRecord::new("alice", "example.com");
        assert!(matches!(
            s.save_mailbox(&mailbox(&alice)).await,
            Err(StoreError::NotFound { .. })
        ));
        s.add_domain("example.com").await.unwrap();
        s.add_subscriber(&Subscriber {
            aor: alice.clone(),
            ha1_md5: String::new(),
            ha1_sha256: String::new(),
        })
        .await
        .unwrap();
        s.save_mailbox(&mailbox(&alice)).await.unwrap();
        let first = s.add_message(&alice, &message(10), 2).await.unwrap();
        let second = s.add_message(&alice, &message(5), 2).await.unwrap();
        assert!(matches!(
            s.add_message(&alice, &message(20), 2).await,
            Err(StoreError::Full { .. })
        ));
        assert!(s
            .set_message_status(&alice, first, MessageStatus::Saved)
            .await
            .unwrap());
        let ids: Vec<i64> = s
            .messages(&alice)
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(ids, [second, first]);
        assert_eq!(
            s.message_counts(&alice).await.unwrap(),
            MessageCounts { new: 1, old: 1 }
        );
        let bob = AddressOfRecord::new("bob", "example.com");
        assert_eq!(s.delete_message(&bob, first).await.unwrap(), None);
        assert_eq!(
            s.delete_message(&alice, first).await.unwrap().map(|m| m.id),
            Some(first)
        );
        s.delete_subscriber(&alice).await.unwrap();
        assert_eq!(s.mailbox(&alice).await.unwrap(), None);
        assert_eq!(
            s.message_counts(&alice).await.unwrap(),
            MessageCounts::default()
        );
    }
}
