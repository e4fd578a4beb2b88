//! The `bindings` table, the registrar's location service: contacts per address of record
//! with their expiry, upserted one by one or in batches (the registrar's write-behind),
//! read back unexpired, purged once expired.
//!
//! A binding's path is stored as one text column, its entries joined by line breaks.

use std::borrow::Cow;
use std::collections::HashSet;

use futures_util::TryStreamExt;
use model::{AddressOfRecord, Binding, StoreError};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::db::{
    aor_args, backend_err, lower, str_arg, text, time_arg, Arg, Statement, BATCH_ROWS,
};
use crate::dialect::values;
use crate::SqlStore;

/// Longest contact URI accepted, in bytes (the MySQL schema's index limit).
pub const MAX_CONTACT_LEN: usize = 512;

/// The columns of a binding row, in [`binding_args`] and [`decode_binding`] order.
const COLUMNS: [&str; 11] = [
    "username",
    "domain",
    "contact",
    "q",
    "expires_at",
    "call_id",
    "cseq",
    "source",
    "path",
    "user_agent",
    "node",
];

/// The columns that identify a binding.
const KEY: [&str; 3] = ["username", "domain", "contact"];

fn select() -> String {
    format!("SELECT {} FROM bindings", COLUMNS.join(", "))
}

fn decode_binding<'r, R>(r: &'r R) -> Result<Binding, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
{
    let out_of_range = |col: &str| sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: "value out of range".into(),
    };
    let path = text(r, 8)?;
    Ok(Binding {
        aor: AddressOfRecord {
            user: text(r, 0)?,
            domain: text(r, 1)?,
        },
        contact: text(r, 2)?,
        q: u16::try_from(r.try_get::<i32, _>(3)?).map_err(|_| out_of_range("q"))?,
        expires_at: u64::try_from(r.try_get::<i64, _>(4)?)
            .map_err(|_| out_of_range("expires_at"))?,
        call_id: text(r, 5)?,
        cseq: u32::try_from(r.try_get::<i64, _>(6)?).map_err(|_| out_of_range("cseq"))?,
        source: text(r, 7)?,
        path: if path.is_empty() {
            Vec::new()
        } else {
            path.split('\n').map(str::to_string).collect()
        },
        user_agent: text(r, 9)?,
        node: text(r, 10)?,
        flow: None,
    })
}

/// The parameters of one binding row, in [`COLUMNS`] order.
fn binding_args(b: &Binding) -> Result<[Arg<'_>; 11], StoreError> {
    if b.contact.len() > MAX_CONTACT_LEN || !b.contact.is_ascii() {
        return Err(StoreError::Invalid {
            field: "contact",
            why: format!("must be ASCII and at most {MAX_CONTACT_LEN} bytes"),
        });
    }
    if b.path.iter().any(|p| p.contains('\n')) {
        return Err(StoreError::Invalid {
            field: "path",
            why: "contains a line break".into(),
        });
    }
    Ok([
        str_arg(&b.aor.user),
        lower(&b.aor.domain),
        str_arg(&b.contact),
        Arg::Small(i32::from(b.q)),
        Arg::Int(time_arg(b.expires_at)),
        str_arg(&b.call_id),
        Arg::Int(i64::from(b.cseq)),
        str_arg(&b.source),
        Arg::Str(Cow::Owned(b.path.join("\n"))),
        str_arg(&b.user_agent),
        str_arg(&b.node),
    ])
}

impl SqlStore {
    /// Inserts or replaces many bindings in one transaction (the registrar's write-behind).
    /// When the same (aor, contact) appears more than once, the last one wins.
    pub async fn save_bindings(&self, bindings: &[Binding]) -> Result<(), StoreError> {
        let mut seen = HashSet::new();
        let mut rows = Vec::with_capacity(bindings.len());
        for b in bindings.iter().rev() {
            if seen.insert((&b.aor.user, b.aor.domain.to_ascii_lowercase(), &b.contact)) {
                rows.push(binding_args(b)?);
            }
        }
        rows.reverse();
        let stmts = rows
            .chunks(BATCH_ROWS)
            .map(|chunk| {
                (
                    self.upsert_sql(chunk.len()),
                    chunk.iter().flatten().collect(),
                )
            })
            .collect::<Vec<_>>();
        self.transaction(&stmts, false).await.map_err(backend_err)?;
        Ok(())
    }

    /// Removes many (aor, contact) bindings in one transaction; returns how many existed.
    pub async fn delete_binding_many(
        &self,
        keys: &[(AddressOfRecord, String)],
    ) -> Result<u64, StoreError> {
        let sql = self.sql(DELETE_ONE);
        let args: Vec<[Arg<'_>; 3]> = keys
            .iter()
            .map(|(aor, contact)| key_args(aor, contact))
            .collect();
        let stmts: Vec<Statement<'_, '_>> = args
            .iter()
            .map(|a| (sql.clone(), a.iter().collect()))
            .collect();
        let counts = self.transaction(&stmts, false).await.map_err(backend_err)?;
        Ok(counts.unwrap_or_default().iter().sum())
    }

    /// The upsert of `rows` bindings, in this backend's dialect.
    fn upsert_sql(&self, rows: usize) -> Cow<'static, str> {
        let backend = self.backend();
        let sql = format!(
            "INSERT INTO bindings ({}) VALUES {} {}",
            COLUMNS.join(", "),
            values(COLUMNS.len(), rows),
            backend.upsert(&KEY, &COLUMNS[KEY.len()..])
        );
        Cow::Owned(backend.placeholders(&sql).into_owned())
    }

    async fn fetch_bindings(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<Binding>, StoreError> {
        let sql = self.sql(sql);
        with_pool!(&self.pool, p => {
            bound!(&sql, args)
                .fetch(p)
                .and_then(|r| std::future::ready(decode_binding(&r)))
                .try_collect()
                .await
        })
        .map_err(backend_err)
    }
}

const DELETE_ONE: &str = "DELETE FROM bindings WHERE username = ? AND domain = ? AND contact = ?";

fn key_args<'a>(aor: &'a AddressOfRecord, contact: &'a str) -> [Arg<'a>; 3] {
    let [user, domain] = aor_args(aor);
    [user, domain, str_arg(contact)]
}

pub(crate) async fn save(s: &SqlStore, b: &Binding) -> Result<(), StoreError> {
    let args = binding_args(b)?;
    s.execute(&s.upsert_sql(1), &args)
        .await
        .map(drop)
        .map_err(backend_err)
}

pub(crate) async fn delete(
    s: &SqlStore,
    aor: &AddressOfRecord,
    contact: &str,
) -> Result<(), StoreError> {
    s.execute(DELETE_ONE, &key_args(aor, contact))
        .await
        .map(drop)
        .map_err(backend_err)
}

pub(crate) async fn delete_all(
    s: &SqlStore,
    aor: Option<&AddressOfRecord>,
) -> Result<u64, StoreError> {
    match aor {
        Some(aor) => {
            s.execute(
                "DELETE FROM bindings WHERE username = ? AND domain = ?",
                &aor_args(aor),
            )
            .await
        }
        None => s.execute("DELETE FROM bindings", &[]).await,
    }
    .map_err(backend_err)
}

pub(crate) async fn list(
    s: &SqlStore,
    aor: Option<&AddressOfRecord>,
    now: u64,
) -> Result<Vec<Binding>, StoreError> {
    let now = Arg::Int(time_arg(now));
    let select = select();
    match aor {
        Some(aor) => {
            let sql = format!(
                "{select} WHERE username = ? AND domain = ? AND expires_at > ? ORDER BY contact"
            );
            let [user, domain] = aor_args(aor);
            s.fetch_bindings(&sql, &[user, domain, now]).await
        }
        None => {
            let sql = format!("{select} WHERE expires_at > ? ORDER BY username, domain, contact");
            s.fetch_bindings(&sql, &[now]).await
        }
    }
}

pub(crate) async fn purge_expired(s: &SqlStore, now: u64) -> Result<u64, StoreError> {
    s.execute(
        "DELETE FROM bindings WHERE expires_at <= ?",
        &[Arg::Int(time_arg(now))],
    )
    .await
    .map_err(backend_err)
}
