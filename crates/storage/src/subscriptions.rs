//! The `event_subscriptions` table: the dialog and message-summary subscriptions the
//! server is the notifier of, written behind the core (like bindings) so that a refresh
//! after a restart finds its subscription (issue 17).
//!
//! What a row means when reloaded is the proxy's; the writer is the server's.

use futures_util::TryStreamExt;
use model::{AddressOfRecord, StoreError, StoredSubscription};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::db::{backend_err, str_arg, text, time_arg, Arg};
use crate::SqlStore;

const COLUMNS: &str = "package, call_id, remote_tag, local_tag, watched_user, watched_domain, \
                       watcher_user, watcher_domain, remote_uri, contact, source, expires_at, \
                       cseq, version";

fn out_of_range(col: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: "value out of range".into(),
    }
}

fn decode<'r, R>(r: &'r R) -> Result<StoredSubscription, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let number = |i: usize, col: &str| -> Result<u64, sqlx::Error> {
        u64::try_from(r.try_get::<i64, _>(i)?).map_err(|_| out_of_range(col))
    };
    Ok(StoredSubscription {
        package: text(r, 0)?,
        call_id: text(r, 1)?,
        remote_tag: text(r, 2)?,
        local_tag: text(r, 3)?,
        watched: AddressOfRecord {
            user: text(r, 4)?,
            domain: text(r, 5)?,
        },
        watcher: AddressOfRecord {
            user: text(r, 6)?,
            domain: text(r, 7)?,
        },
        remote_uri: text(r, 8)?,
        contact: text(r, 9)?,
        source: text(r, 10)?,
        expires_at: number(11, "expires_at")?,
        cseq: u32::try_from(number(12, "cseq")?).map_err(|_| out_of_range("cseq"))?,
        version: u32::try_from(number(13, "version")?).map_err(|_| out_of_range("version"))?,
    })
}

pub(crate) async fn save(s: &SqlStore, subs: &[StoredSubscription]) -> Result<(), StoreError> {
    if subs.is_empty() {
        return Ok(());
    }
    let delete = s.sql(
        "DELETE FROM event_subscriptions WHERE call_id = ? AND remote_tag = ? AND local_tag = ?",
    );
    let insert_sql = format!(
        "INSERT INTO event_subscriptions ({COLUMNS}) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    let insert = s.sql(&insert_sql);
    let rows: Vec<[Arg<'_>; 14]> = subs
        .iter()
        .map(|x| {
            [
                str_arg(&x.package),
                str_arg(&x.call_id),
                str_arg(&x.remote_tag),
                str_arg(&x.local_tag),
                str_arg(&x.watched.user),
                crate::db::lower(&x.watched.domain),
                str_arg(&x.watcher.user),
                crate::db::lower(&x.watcher.domain),
                str_arg(&x.remote_uri),
                str_arg(&x.contact),
                str_arg(&x.source),
                Arg::Int(time_arg(x.expires_at)),
                Arg::Int(i64::from(x.cseq)),
                Arg::Int(i64::from(x.version)),
            ]
        })
        .collect();
    let mut stmts = Vec::with_capacity(rows.len() * 2);
    for row in &rows {
        stmts.push((delete.clone(), vec![&row[1], &row[2], &row[3]]));
        stmts.push((insert.clone(), row.iter().collect()));
    }
    s.transaction(&stmts, false).await.map_err(backend_err)?;
    Ok(())
}

pub(crate) async fn delete(
    s: &SqlStore,
    call_id: &str,
    remote_tag: &str,
    local_tag: &str,
) -> Result<(), StoreError> {
    s.execute(
        "DELETE FROM event_subscriptions WHERE call_id = ? AND remote_tag = ? AND local_tag = ?",
        &[str_arg(call_id), str_arg(remote_tag), str_arg(local_tag)],
    )
    .await
    .map_err(backend_err)?;
    Ok(())
}

pub(crate) async fn live(s: &SqlStore, now: u64) -> Result<Vec<StoredSubscription>, StoreError> {
    s.execute(
        "DELETE FROM event_subscriptions WHERE expires_at <= ?",
        &[Arg::Int(time_arg(now))],
    )
    .await
    .map_err(backend_err)?;
    let sql = s
        .sql(&format!(
            "SELECT {COLUMNS} FROM event_subscriptions ORDER BY expires_at"
        ))
        .into_owned();
    with_pool!(&s.pool, p => {
        sqlx::query(&sql)
            .fetch(p)
            .and_then(|r| std::future::ready(decode(&r)))
            .try_collect()
            .await
    })
    .map_err(backend_err)
}
