//! The `instant_messages` table: MESSAGE requests kept for users who were offline (issue
//! 17), with the per-user bound checked in the inserting statement itself, and the
//! failed-delivery count.
//!
//! When a message is stored or delivered is the proxy's and the server's; the values'
//! bounds are `model`'s. A user's messages go with the user (foreign key cascade).

use futures_util::TryStreamExt;
use model::{
    check_instant_message, AddressOfRecord, InstantMessage, NewInstantMessage, StoreError,
};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::db::{aor_args, backend_err, str_arg, text, time_arg, violation, Arg, Violation};
use crate::SqlStore;

const COLUMNS: &str = "id, username, domain, sender, content_type, body, received_at, attempts";

fn out_of_range(col: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: "value out of range".into(),
    }
}

fn decode<'r, R>(r: &'r R) -> Result<InstantMessage, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(InstantMessage {
        id: r.try_get::<i64, _>(0)?,
        to: AddressOfRecord {
            user: text(r, 1)?,
            domain: text(r, 2)?,
        },
        from: text(r, 3)?,
        content_type: text(r, 4)?,
        body: text(r, 5)?,
        received_at: u64::try_from(r.try_get::<i64, _>(6)?)
            .map_err(|_| out_of_range("received_at"))?,
        attempts: u32::try_from(r.try_get::<i64, _>(7)?).map_err(|_| out_of_range("attempts"))?,
    })
}

impl SqlStore {
    async fn fetch_ims(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<InstantMessage>, StoreError> {
        let sql = self.sql(sql);
        with_pool!(&self.pool, p => {
            bound!(&sql, args)
                .fetch(p)
                .and_then(|r| std::future::ready(decode(&r)))
                .try_collect()
                .await
        })
        .map_err(backend_err)
    }
}

pub(crate) async fn store(
    s: &SqlStore,
    m: &NewInstantMessage,
    max_per_user: u32,
) -> Result<i64, StoreError> {
    check_instant_message(m)?;
    // The bound is checked by the inserting statement itself, so two messages at once
    // cannot both take the last place; the subscriber row must exist.
    let sql = "INSERT INTO instant_messages \
               (username, domain, sender, content_type, body, received_at, attempts) \
               SELECT ?, ?, ?, ?, ?, ?, 0 FROM subscribers \
               WHERE username = ? AND domain = ? AND (SELECT COUNT(*) FROM instant_messages \
               WHERE username = ? AND domain = ?) < ?";
    let [user, domain] = aor_args(&m.to);
    let [user2, domain2] = aor_args(&m.to);
    let [user3, domain3] = aor_args(&m.to);
    let args = [
        user,
        domain,
        str_arg(&m.from),
        str_arg(&m.content_type),
        str_arg(&m.body),
        Arg::Int(time_arg(m.received_at)),
        user2,
        domain2,
        user3,
        domain3,
        Arg::Int(i64::from(max_per_user)),
    ];
    let n = match s.execute(sql, &args).await {
        Err(e) if violation(&e) == Some(Violation::ForeignKey) => return Err(no_user(&m.to)),
        r => r.map_err(backend_err)?,
    };
    if n == 0 {
        if crate::subscribers::get(s, &m.to).await?.is_none() {
            return Err(no_user(&m.to));
        }
        return Err(StoreError::Full {
            what: format!("messages of {}", m.to),
        });
    }
    // The newest row of this recipient with this time is the one just written.
    let sql = format!(
        "SELECT {COLUMNS} FROM instant_messages WHERE username = ? AND domain = ? \
         AND received_at = ? ORDER BY id DESC"
    );
    let [user, domain] = aor_args(&m.to);
    s.fetch_ims(&sql, &[user, domain, Arg::Int(time_arg(m.received_at))])
        .await?
        .first()
        .map(|m| m.id)
        .ok_or_else(|| StoreError::Backend("the new message's row is gone".into()))
}

fn no_user(aor: &AddressOfRecord) -> StoreError {
    StoreError::NotFound {
        what: format!("user {aor}"),
    }
}

pub(crate) async fn pending(
    s: &SqlStore,
    to: &AddressOfRecord,
    limit: u32,
) -> Result<Vec<InstantMessage>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM instant_messages WHERE username = ? AND domain = ? \
         ORDER BY id LIMIT {limit}"
    );
    s.fetch_ims(&sql, &aor_args(to)).await
}

pub(crate) async fn list(
    s: &SqlStore,
    to: Option<&AddressOfRecord>,
) -> Result<Vec<InstantMessage>, StoreError> {
    match to {
        Some(to) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM instant_messages WHERE username = ? AND domain = ? \
                 ORDER BY id"
            );
            s.fetch_ims(&sql, &aor_args(to)).await
        }
        None => {
            let sql =
                format!("SELECT {COLUMNS} FROM instant_messages ORDER BY domain, username, id");
            s.fetch_ims(&sql, &[]).await
        }
    }
}

pub(crate) async fn delete(s: &SqlStore, id: i64) -> Result<bool, StoreError> {
    let n = s
        .execute("DELETE FROM instant_messages WHERE id = ?", &[Arg::Int(id)])
        .await
        .map_err(backend_err)?;
    Ok(n > 0)
}

pub(crate) async fn failed(s: &SqlStore, id: i64) -> Result<Option<u32>, StoreError> {
    s.execute(
        "UPDATE instant_messages SET attempts = attempts + 1 WHERE id = ?",
        &[Arg::Int(id)],
    )
    .await
    .map_err(backend_err)?;
    let sql = format!("SELECT {COLUMNS} FROM instant_messages WHERE id = ?");
    Ok(s.fetch_ims(&sql, &[Arg::Int(id)])
        .await?
        .first()
        .map(|m| m.attempts))
}

pub(crate) async fn purge(
    s: &SqlStore,
    to: Option<&AddressOfRecord>,
    before: u64,
) -> Result<u64, StoreError> {
    let before = Arg::Int(time_arg(before));
    let n = match to {
        Some(to) => {
            let [user, domain] = aor_args(to);
            s.execute(
                "DELETE FROM instant_messages WHERE username = ? AND domain = ? \
                 AND received_at < ?",
                &[user, domain, before],
            )
            .await
        }
        None => {
            s.execute(
                "DELETE FROM instant_messages WHERE received_at < ?",
                &[before],
            )
            .await
        }
    };
    n.map_err(backend_err)
}

pub(crate) async fn recipients(s: &SqlStore) -> Result<Vec<AddressOfRecord>, StoreError> {
    let rows = s
        .fetch_strings(
            "SELECT DISTINCT username, domain FROM instant_messages ORDER BY domain, username",
            &[],
            2,
        )
        .await?;
    Ok(rows.iter().map(|r| crate::db::aor_from(r)).collect())
}

pub(crate) async fn count(s: &SqlStore) -> Result<u64, StoreError> {
    let n: i64 = with_pool!(&s.pool, p => {
        sqlx::query_scalar("SELECT COUNT(*) FROM instant_messages").fetch_one(p).await
    })
    .map_err(backend_err)?;
    Ok(u64::try_from(n).unwrap_or(0))
}
