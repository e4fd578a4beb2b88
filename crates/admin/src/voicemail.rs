//! Voicemail use cases: enable a user's mailbox (PIN hashed, ring time), disable it
//! (messages kept), delete a message, set the mailbox's greeting file.
//!
//! Each writes through [`VoicemailStore`] and returns a [`ChangeNotice::Mailbox`], which a
//! running server answers by re-reading the mailbox (routing to voicemail) and its message
//! counts (message-waiting NOTIFYs). Converting a greeting's audio is `greeting.rs`'s;
//! where its file lives and removing a deleted message's file are the front end's.

use model::{
    hash_pin, AddressOfRecord, Mailbox, Store, VoicemailMessage, VoicemailStore,
    DEFAULT_AFTER_SECS, MAX_AFTER_SECS,
};

use crate::users::check_aor;
use crate::{AdminError, Change, ChangeNotice, Done};

/// How a mailbox is to be set up by [`enable_voicemail`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailOptions {
    /// The PIN, digits only (stored hashed).
    pub pin: String,
    /// Seconds of ringing before voicemail answers (default [`DEFAULT_AFTER_SECS`]).
    pub after_secs: Option<u32>,
    /// No PIN asked when the user calls from their own phone.
    pub no_pin_at_home: bool,
}

async fn existing_user(store: &dyn Store, aor: &AddressOfRecord) -> Result<(), AdminError> {
    check_aor("user", aor)?;
    if store.subscriber(aor).await?.is_none() {
        return Err(AdminError::not_found(
            "user",
            format!("user {aor} not found"),
        ));
    }
    Ok(())
}

async fn existing_mailbox(
    mailboxes: &dyn VoicemailStore,
    aor: &AddressOfRecord,
) -> Result<Mailbox, AdminError> {
    mailboxes.mailbox(aor).await?.ok_or_else(|| {
        AdminError::not_found(
            "user",
            format!("{aor} has no mailbox (switchboard voicemail enable {aor} --pin DIGITS)"),
        )
    })
}

/// Turns voicemail on for an existing user, or changes its PIN and settings; a greeting
/// and messages already there stay. Answers whether the mailbox is new.
pub async fn enable_voicemail(
    store: &dyn Store,
    mailboxes: &dyn VoicemailStore,
    aor: &AddressOfRecord,
    options: &VoicemailOptions,
) -> Result<Done<bool>, AdminError> {
    existing_user(store, aor).await?;
    let after_secs = options.after_secs.unwrap_or(DEFAULT_AFTER_SECS);
    if after_secs == 0 || after_secs > MAX_AFTER_SECS {
        return Err(AdminError::invalid(
            "after",
            format!("after: must be 1 to {MAX_AFTER_SECS} seconds"),
        ));
    }
    let pin_hash = hash_pin(&options.pin)?;
    let before = mailboxes.mailbox(aor).await?;
    let mailbox = Mailbox {
        aor: aor.clone(),
        pin_hash,
        after_secs,
        no_pin_at_home: options.no_pin_at_home,
        greeting: before.as_ref().and_then(|m| m.greeting.clone()),
        enabled: true,
    };
    mailboxes.save_mailbox(&mailbox).await?;
    let change = if before.is_some() {
        Change::Changed
    } else {
        Change::Added
    };
    Ok(Done::new(
        before.is_none(),
        vec![ChangeNotice::Mailbox(aor.clone(), change)],
    ))
}

/// Turns voicemail off: calls no longer go to the mailbox; its messages, PIN and greeting
/// stay for a later `enable`.
pub async fn disable_voicemail(
    mailboxes: &dyn VoicemailStore,
    aor: &AddressOfRecord,
) -> Result<Done, AdminError> {
    let mut mailbox = existing_mailbox(mailboxes, aor).await?;
    mailbox.enabled = false;
    mailboxes.save_mailbox(&mailbox).await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::Mailbox(aor.clone(), Change::Changed)],
    ))
}

/// Deletes one message of a mailbox and answers it (the caller removes its file).
pub async fn delete_voicemail_message(
    mailboxes: &dyn VoicemailStore,
    aor: &AddressOfRecord,
    id: i64,
) -> Result<Done<VoicemailMessage>, AdminError> {
    existing_mailbox(mailboxes, aor).await?;
    match mailboxes.delete_message(aor, id).await? {
        Some(m) => Ok(Done::new(
            m,
            vec![ChangeNotice::Mailbox(aor.clone(), Change::Changed)],
        )),
        None => Err(AdminError::not_found(
            "id",
            format!("id: mailbox {aor} has no message {id}"),
        )),
    }
}

/// Makes `file` (a WAV file already converted by [`crate::convert_greeting`] and stored by
/// the front end) the mailbox's greeting, or goes back to the default prompt with None.
pub async fn set_voicemail_greeting(
    mailboxes: &dyn VoicemailStore,
    aor: &AddressOfRecord,
    file: Option<&str>,
) -> Result<Done, AdminError> {
    existing_mailbox(mailboxes, aor).await?;
    mailboxes.set_greeting(aor, file).await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::Mailbox(aor.clone(), Change::Changed)],
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use model::{MemoryStore, NewMessage};

    #[tokio::test]
    async fn enable_disable_and_delete_name_their_faults() {
        let s = MemoryStore::new();
        let alice = AddressOfRecord::new("alice", "example.com");
        let opts = |pin: &str, after| VoicemailOptions {
            pin: pin.into(),
            after_secs: after,
            no_pin_at_home: false,
        };
        let e = enable_voicemail(&s, &s, &alice, &opts("1234", None))
            .await
            .unwrap_err();
        assert_eq!((e.field(), e.http_status()), (Some("user"), 404));
        crate::add_domain(&s, "example.com").await.unwrap();
        crate::add_user(&s, &alice, || Ok("pw".into()))
            .await
            .unwrap();
        let e = enable_voicemail(&s, &s, &alice, &opts("12x4", None))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("pin"));
        assert!(e.to_string().contains("digits"), "{e}");
        let e = enable_voicemail(&s, &s, &alice, &opts("1234", Some(0)))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("after"));
        let e = disable_voicemail(&s, &alice).await.unwrap_err();
        assert_eq!(e.http_status(), 404);

        let done = enable_voicemail(&s, &s, &alice, &opts("1234", Some(12)))
            .await
            .unwrap();
        assert!(done.result);
        assert_eq!(
            done.notices,
            [ChangeNotice::Mailbox(alice.clone(), Change::Added)]
        );
        let m = s.mailbox(&alice).await.unwrap().unwrap();
        assert_eq!(m.after_secs, 12);
        assert!(m.verify_pin("1234") && m.enabled);
        disable_voicemail(&s, &alice).await.unwrap();
        assert!(!s.mailbox(&alice).await.unwrap().unwrap().enabled);

        let msg = NewMessage {
            caller: "sip:bob@example.com".into(),
            received_at: 1,
            duration_secs: 2,
            file: "/m.wav".into(),
        };
        let id = s.add_message(&alice, &msg, 10).await.unwrap();
        let e = delete_voicemail_message(&s, &alice, id + 1)
            .await
            .unwrap_err();
        assert_eq!((e.field(), e.http_status()), (Some("id"), 404));
        let gone = delete_voicemail_message(&s, &alice, id).await.unwrap();
        assert_eq!(gone.result.file, "/m.wav");
    }
}
