//! How a query runs: the connection [`Pool`] of each backend, query parameters ([`Arg`]),
//! binding them, running one statement or several in a transaction, reading rows of text,
//! and turning sqlx errors into [`StoreError`]s.
//!
//! It owns no SQL text (the aggregate modules do) and no dialect difference beyond handing
//! every statement to [`Backend::placeholders`](crate::Backend::placeholders).

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::TryStreamExt;
use model::{AddressOfRecord, StoreError};
use sqlx::error::ErrorKind;
use sqlx::mysql::MySqlPool;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::SqlStore;

/// Rows per multi-row INSERT (bindings: 11 parameters each; subscribers: 5).
pub(crate) const BATCH_ROWS: usize = 500;

/// The connection pool of one backend.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    MySql(MySqlPool),
    Postgres(PgPool),
}

/// A query parameter.
pub(crate) enum Arg<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Small(i32),
    /// A text column that may be NULL.
    OptStr(Option<Cow<'a, str>>),
    /// An integer column that may be NULL.
    OptInt(Option<i64>),
}

/// Runs `$body` with `$p` bound to the concrete pool, whatever the backend.
macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::MySql($p) => $body,
            $crate::db::Pool::Postgres($p) => $body,
        }
    };
}

/// `sqlx::query($sql)` with every [`Arg`] of `$args` bound, in order.
macro_rules! bound {
    ($sql:expr, $args:expr) => {{
        let mut q = sqlx::query($sql);
        for a in $args.iter() {
            q = match a {
                $crate::db::Arg::Str(s) => q.bind(s.as_ref()),
                $crate::db::Arg::Int(i) => q.bind(*i),
                $crate::db::Arg::Small(i) => q.bind(*i),
                $crate::db::Arg::OptStr(s) => q.bind(s.as_deref()),
                $crate::db::Arg::OptInt(i) => q.bind(*i),
            };
        }
        q
    }};
}

/// A statement and its parameters, as [`SqlStore::transaction`] takes them.
pub(crate) type Statement<'s, 'a> = (Cow<'s, str>, Vec<&'a Arg<'a>>);

/// The constraint a failed write broke, when that is why it failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Violation {
    /// A primary key or unique index: the row exists.
    Unique,
    /// A foreign key: what the row points at does not exist.
    ForeignKey,
}

/// Which constraint `e` reports breaking, if any.
pub(crate) fn violation(e: &sqlx::Error) -> Option<Violation> {
    match e {
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::UniqueViolation => Some(Violation::Unique),
            ErrorKind::ForeignKeyViolation => Some(Violation::ForeignKey),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn backend_err(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(crate) fn invalid_url(why: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field: "database url",
        why: why.into(),
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A Unix time as the signed 64-bit integer databases store (saturating far in the future).
pub(crate) fn time_arg(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

pub(crate) fn str_arg(s: &str) -> Arg<'_> {
    Arg::Str(Cow::Borrowed(s))
}

/// A domain as stored: lower case.
pub(crate) fn lower(domain: &str) -> Arg<'static> {
    Arg::Str(Cow::Owned(domain.to_ascii_lowercase()))
}

/// The (username, domain) key of `aor`, domain in lower case.
pub(crate) fn aor_args(aor: &AddressOfRecord) -> [Arg<'_>; 2] {
    [str_arg(&aor.user), lower(&aor.domain)]
}

/// The address of record in the first two columns of `row`.
pub(crate) fn aor_from(row: &[String]) -> AddressOfRecord {
    AddressOfRecord {
        user: row[0].clone(),
        domain: row[1].clone(),
    }
}

/// A text column. Unchecked because MySQL flags `utf8mb4_bin` columns BINARY, which sqlx
/// takes for VARBINARY; the value is still validated as UTF-8 when decoded.
pub(crate) fn text<'r, R>(r: &'r R, i: usize) -> Result<String, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database>,
{
    r.try_get_unchecked(i)
}

fn decode_strings<'r, R>(r: &'r R, columns: usize) -> Result<Vec<String>, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    (0..columns).map(|i| text(r, i)).collect()
}

impl SqlStore {
    /// `sql` in this backend's placeholder style.
    pub(crate) fn sql<'a>(&self, sql: &'a str) -> Cow<'a, str> {
        self.backend().placeholders(sql)
    }

    /// Runs one statement; returns the rows it affected.
    pub(crate) async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64, sqlx::Error> {
        let sql = self.sql(sql);
        with_pool!(&self.pool, p => {
            Ok(bound!(&sql, args).execute(p).await?.rows_affected())
        })
    }

    /// Runs statements (already in this backend's placeholder style) in one transaction;
    /// returns the rows each affected. With `guard`, rolls back and returns None when the
    /// first statement affects no row.
    pub(crate) async fn transaction(
        &self,
        stmts: &[Statement<'_, '_>],
        guard: bool,
    ) -> Result<Option<Vec<u64>>, sqlx::Error> {
        with_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let mut counts = Vec::with_capacity(stmts.len());
            for (i, (sql, args)) in stmts.iter().enumerate() {
                let n = bound!(sql, args).execute(&mut *tx).await?.rows_affected();
                if guard && i == 0 && n == 0 {
                    tx.rollback().await?;
                    return Ok(None);
                }
                counts.push(n);
            }
            tx.commit().await?;
            Ok(Some(counts))
        })
    }

    /// Rows of `columns` text columns.
    pub(crate) async fn fetch_strings(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        columns: usize,
    ) -> Result<Vec<Vec<String>>, StoreError> {
        let sql = self.sql(sql);
        // Streamed, decoded row by row: `fetch_all` held every row (each value a copy made
        // by SQLite's own allocator) at once, ~40 MB for 50,000 users at start-up, which
        // the allocators then kept.
        with_pool!(&self.pool, p => {
            bound!(&sql, args)
                .fetch(p)
                .and_then(|r| std::future::ready(decode_strings(&r, columns)))
                .try_collect()
                .await
        })
        .map_err(backend_err)
    }

    /// Rows of `columns` text columns from `select`, all of them or, given a `domain`, those
    /// whose `domain_column` is that domain; in `order`.
    pub(crate) async fn fetch_in_domain(
        &self,
        select: &str,
        domain_column: &str,
        domain: Option<&str>,
        order: &str,
        columns: usize,
    ) -> Result<Vec<Vec<String>>, StoreError> {
        match domain {
            Some(d) => {
                let sql = format!("{select} WHERE {domain_column} = ? ORDER BY {order}");
                self.fetch_strings(&sql, &[lower(d)], columns).await
            }
            None => {
                let sql = format!("{select} ORDER BY {order}");
                self.fetch_strings(&sql, &[], columns).await
            }
        }
    }
}
