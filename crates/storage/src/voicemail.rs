//! The `voicemail_mailboxes` and `voicemail_messages` tables: a user's mailbox settings
//! (PIN hash, ring time, greeting path) and its messages (caller, time, length, new/saved,
//! file path), with the mailbox bound checked in the inserting statement itself.
//!
//! What the values mean (PIN hashing, message order) is `model`'s; the audio files are the
//! media service's and the CLI's. A mailbox row goes with its user (foreign key cascade),
//! messages with their mailbox.

use futures_util::TryStreamExt;
use model::{
    check_message, check_path, AddressOfRecord, Mailbox, MessageCounts, MessageStatus, NewMessage,
    StoreError, VoicemailMessage,
};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::db::{aor_args, backend_err, str_arg, text, time_arg, violation, Arg, Violation};
use crate::SqlStore;

const MAILBOX_COLUMNS: &str =
    "username, domain, pin_hash, after_secs, no_pin_at_home, greeting, enabled";
const MESSAGE_COLUMNS: &str =
    "id, username, domain, caller, received_at, duration_secs, status, file";
/// New messages first, then saved ones, each oldest first (as `model::sort_messages`).
const MESSAGE_ORDER: &str = "CASE WHEN status = 'new' THEN 0 ELSE 1 END, received_at, id";

fn out_of_range(col: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: "value out of range".into(),
    }
}

fn decode_mailbox<'r, R>(r: &'r R) -> Result<Mailbox, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let greeting = text(r, 5)?;
    Ok(Mailbox {
        aor: AddressOfRecord {
            user: text(r, 0)?,
            domain: text(r, 1)?,
        },
        pin_hash: text(r, 2)?,
        after_secs: u32::try_from(r.try_get::<i64, _>(3)?)
            .map_err(|_| out_of_range("after_secs"))?,
        no_pin_at_home: r.try_get::<i64, _>(4)? != 0,
        greeting: (!greeting.is_empty()).then_some(greeting),
        enabled: r.try_get::<i64, _>(6)? != 0,
    })
}

fn decode_message<'r, R>(r: &'r R) -> Result<VoicemailMessage, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let status = text(r, 6)?;
    Ok(VoicemailMessage {
        id: r.try_get::<i64, _>(0)?,
        mailbox: AddressOfRecord {
            user: text(r, 1)?,
            domain: text(r, 2)?,
        },
        caller: text(r, 3)?,
        received_at: u64::try_from(r.try_get::<i64, _>(4)?)
            .map_err(|_| out_of_range("received_at"))?,
        duration_secs: u32::try_from(r.try_get::<i64, _>(5)?)
            .map_err(|_| out_of_range("duration_secs"))?,
        status: MessageStatus::parse(&status).ok_or_else(|| out_of_range("status"))?,
        file: text(r, 7)?,
    })
}

impl SqlStore {
    async fn fetch_mailboxes(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<Mailbox>, StoreError> {
        let sql = self.sql(sql);
        with_pool!(&self.pool, p => {
            bound!(&sql, args)
                .fetch(p)
                .and_then(|r| std::future::ready(decode_mailbox(&r)))
                .try_collect()
                .await
        })
        .map_err(backend_err)
    }

    async fn fetch_messages(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<VoicemailMessage>, StoreError> {
        let sql = self.sql(sql);
        with_pool!(&self.pool, p => {
            bound!(&sql, args)
                .fetch(p)
                .and_then(|r| std::future::ready(decode_message(&r)))
                .try_collect()
                .await
        })
        .map_err(backend_err)
    }
}

fn flag(b: bool) -> Arg<'static> {
    Arg::Int(i64::from(b))
}

fn no_mailbox(aor: &AddressOfRecord) -> StoreError {
    StoreError::NotFound {
        what: format!("mailbox {aor}"),
    }
}

pub(crate) async fn mailbox(
    s: &SqlStore,
    aor: &AddressOfRecord,
) -> Result<Option<Mailbox>, StoreError> {
    let sql = format!(
        "SELECT {MAILBOX_COLUMNS} FROM voicemail_mailboxes WHERE username = ? AND domain = ?"
    );
    Ok(s.fetch_mailboxes(&sql, &aor_args(aor))
        .await?
        .into_iter()
        .next())
}

pub(crate) async fn mailboxes(s: &SqlStore) -> Result<Vec<Mailbox>, StoreError> {
    let sql =
        format!("SELECT {MAILBOX_COLUMNS} FROM voicemail_mailboxes ORDER BY username, domain");
    s.fetch_mailboxes(&sql, &[]).await
}

pub(crate) async fn save_mailbox(s: &SqlStore, m: &Mailbox) -> Result<(), StoreError> {
    let greeting = m.greeting.as_deref().unwrap_or("");
    if !greeting.is_empty() {
        check_path("greeting", greeting)?;
    }
    let sql = format!(
        "INSERT INTO voicemail_mailboxes ({MAILBOX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) {}",
        s.backend().upsert(
            &["username", "domain"],
            &[
                "pin_hash",
                "after_secs",
                "no_pin_at_home",
                "greeting",
                "enabled"
            ]
        )
    );
    let [user, domain] = aor_args(&m.aor);
    let args = [
        user,
        domain,
        str_arg(&m.pin_hash),
        Arg::Int(i64::from(m.after_secs)),
        flag(m.no_pin_at_home),
        str_arg(greeting),
        flag(m.enabled),
    ];
    match s.execute(&sql, &args).await {
        Err(e) if violation(&e) == Some(Violation::ForeignKey) => Err(StoreError::NotFound {
            what: format!("user {}", m.aor),
        }),
        r => r.map(drop).map_err(backend_err),
    }
}

pub(crate) async fn delete_mailbox(
    s: &SqlStore,
    aor: &AddressOfRecord,
) -> Result<bool, StoreError> {
    // Messages first, in one transaction with their mailbox.
    let args = aor_args(aor);
    let stmts = [
        "DELETE FROM voicemail_messages WHERE username = ? AND domain = ?",
        "DELETE FROM voicemail_mailboxes WHERE username = ? AND domain = ?",
    ]
    .map(|sql| (s.sql(sql), args.iter().collect::<Vec<_>>()));
    let counts = s
        .transaction(&stmts, false)
        .await
        .map_err(backend_err)?
        .unwrap_or_default();
    Ok(counts.get(1).is_some_and(|n| *n > 0))
}

pub(crate) async fn set_greeting(
    s: &SqlStore,
    aor: &AddressOfRecord,
    file: Option<&str>,
) -> Result<(), StoreError> {
    let file = file.unwrap_or("");
    if !file.is_empty() {
        check_path("greeting", file)?;
    }
    let [user, domain] = aor_args(aor);
    let n = s
        .execute(
            "UPDATE voicemail_mailboxes SET greeting = ? WHERE username = ? AND domain = ?",
            &[str_arg(file), user, domain],
        )
        .await
        .map_err(backend_err)?;
    // MySQL counts changed rows, not matched ones: setting the same path is 0.
    if n == 0 && mailbox(s, aor).await?.is_none() {
        return Err(no_mailbox(aor));
    }
    Ok(())
}

pub(crate) async fn add_message(
    s: &SqlStore,
    aor: &AddressOfRecord,
    m: &NewMessage,
    max_messages: u32,
) -> Result<i64, StoreError> {
    check_message(m)?;
    if mailbox(s, aor).await?.is_none() {
        return Err(no_mailbox(aor));
    }
    // The bound is checked by the inserting statement itself, so two deposits at once
    // cannot both take the last place.
    let [user, domain] = aor_args(aor);
    let [user2, domain2] = aor_args(aor);
    let sql = "INSERT INTO voicemail_messages \
               (username, domain, caller, received_at, duration_secs, status, file) \
               SELECT ?, ?, ?, ?, ?, 'new', ? FROM voicemail_mailboxes \
               WHERE username = ? AND domain = ? AND (SELECT COUNT(*) FROM voicemail_messages \
               WHERE username = ? AND domain = ?) < ?";
    let [user3, domain3] = aor_args(aor);
    let args = [
        user,
        domain,
        str_arg(&m.caller),
        Arg::Int(time_arg(m.received_at)),
        Arg::Int(i64::from(m.duration_secs)),
        str_arg(&m.file),
        user2,
        domain2,
        user3,
        domain3,
        Arg::Int(i64::from(max_messages)),
    ];
    let n = match s.execute(sql, &args).await {
        Err(e) if violation(&e) == Some(Violation::ForeignKey) => return Err(no_mailbox(aor)),
        r => r.map_err(backend_err)?,
    };
    if n == 0 {
        return Err(StoreError::Full {
            what: format!("mailbox {aor}"),
        });
    }
    // The file path names the message (one file per deposit): its row's id.
    let [user, domain] = aor_args(aor);
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM voicemail_messages \
         WHERE username = ? AND domain = ? AND file = ? ORDER BY id DESC"
    );
    s.fetch_messages(&sql, &[user, domain, str_arg(&m.file)])
        .await?
        .first()
        .map(|m| m.id)
        .ok_or_else(|| StoreError::Backend("the new message's row is gone".into()))
}

pub(crate) async fn messages(
    s: &SqlStore,
    aor: &AddressOfRecord,
) -> Result<Vec<VoicemailMessage>, StoreError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM voicemail_messages WHERE username = ? AND domain = ? \
         ORDER BY {MESSAGE_ORDER}"
    );
    s.fetch_messages(&sql, &aor_args(aor)).await
}

pub(crate) async fn set_message_status(
    s: &SqlStore,
    aor: &AddressOfRecord,
    id: i64,
    status: MessageStatus,
) -> Result<bool, StoreError> {
    let [user, domain] = aor_args(aor);
    let n = s
        .execute(
            "UPDATE voicemail_messages SET status = ? WHERE id = ? AND username = ? AND domain = ?",
            &[str_arg(status.as_str()), Arg::Int(id), user, domain],
        )
        .await
        .map_err(backend_err)?;
    if n > 0 {
        return Ok(true);
    }
    // MySQL counts changed rows, not matched ones: the same status again is 0.
    Ok(message(s, aor, id).await?.is_some())
}

async fn message(
    s: &SqlStore,
    aor: &AddressOfRecord,
    id: i64,
) -> Result<Option<VoicemailMessage>, StoreError> {
    let [user, domain] = aor_args(aor);
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM voicemail_messages \
         WHERE id = ? AND username = ? AND domain = ?"
    );
    Ok(s.fetch_messages(&sql, &[Arg::Int(id), user, domain])
        .await?
        .into_iter()
        .next())
}

pub(crate) async fn delete_message(
    s: &SqlStore,
    aor: &AddressOfRecord,
    id: i64,
) -> Result<Option<VoicemailMessage>, StoreError> {
    let Some(found) = message(s, aor, id).await? else {
        return Ok(None);
    };
    let [user, domain] = aor_args(aor);
    let n = s
        .execute(
            "DELETE FROM voicemail_messages WHERE id = ? AND username = ? AND domain = ?",
            &[Arg::Int(id), user, domain],
        )
        .await
        .map_err(backend_err)?;
    Ok((n > 0).then_some(found))
}

pub(crate) async fn message_counts(
    s: &SqlStore,
    aor: &AddressOfRecord,
) -> Result<MessageCounts, StoreError> {
    Ok(MessageCounts::of(&messages(s, aor).await?))
}
