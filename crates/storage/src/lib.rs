//! Switchboard's persistent store: [`SqlStore`], the [`model::Store`] on SQL databases.
//!
//! This crate owns the SQL: the schema and its versioned migrations (one dialect per backend
//! under `migrations/`), connection pooling and every query, always parameterised. It runs on
//! SQLite (`sqlite://path/file.db`, WAL mode, or `sqlite::memory:`), MariaDB/MySQL
//! (`mysql://`, `mariadb://`) and PostgreSQL (`postgres://`, `postgresql://`), chosen by the
//! URL scheme. Semantics match [`model::MemoryStore`]; on top of the trait it offers batch
//! writes in one transaction for the registrar's write-behind.

use std::borrow::Cow;
use std::collections::HashSet;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use futures_util::TryStreamExt;
use model::{AddressOfRecord, Alias, Binding, Store, StoreError, Subscriber};
use sqlx::error::ErrorKind;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ColumnIndex, Decode, Row, Type};

mod integrity;
pub use integrity::describe_url;

/// Schema migrations, in order: (version, SQLite, MySQL, PostgreSQL).
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[(
    1,
    include_str!("../migrations/sqlite/0001_initial.sql"),
    include_str!("../migrations/mysql/0001_initial.sql"),
    include_str!("../migrations/postgres/0001_initial.sql"),
)];

/// Longest contact URI accepted, in bytes (the MySQL schema's index limit).
pub const MAX_CONTACT_LEN: usize = 512;

/// Longest setting name accepted, in bytes (the MySQL schema's column).
pub const MAX_SETTING_NAME_LEN: usize = 64;

/// Rows per multi-row INSERT in [`SqlStore::save_bindings`] (11 parameters each).
const BATCH_ROWS: usize = 500;

const BINDING_COLUMNS: &str =
    "username, domain, contact, q, expires_at, call_id, cseq, source, path, user_agent, node";

/// Which database a [`SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, a file or in memory.
    Sqlite,
    /// MariaDB or MySQL.
    MySql,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The backend's name: `sqlite`, `mysql` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::MySql => "mysql",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    MySql(MySqlPool),
    Postgres(PgPool),
}

/// The [`Store`] on SQLite, MariaDB/MySQL or PostgreSQL, behind a connection pool. Clones
/// share the pool.
#[derive(Clone)]
pub struct SqlStore {
    pool: Pool,
}

/// A query parameter.
enum Arg<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Small(i32),
}

/// Runs `$body` with `$p` bound to the concrete pool, whatever the backend.
macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::MySql($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
}

/// `sqlx::query($sql)` with every [`Arg`] of `$args` bound, in order.
macro_rules! bound {
    ($sql:expr, $args:expr) => {{
        let mut q = sqlx::query($sql);
        for a in $args.iter() {
            q = match a {
                Arg::Str(s) => q.bind(s.as_ref()),
                Arg::Int(i) => q.bind(*i),
                Arg::Small(i) => q.bind(*i),
            };
        }
        q
    }};
}

fn backend_err(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn error_kind(e: &sqlx::Error) -> Option<ErrorKind> {
    match e {
        sqlx::Error::Database(d) => Some(d.kind()),
        _ => None,
    }
}

fn invalid_url(why: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field: "database url",
        why: why.into(),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A Unix time as the signed 64-bit integer databases store (saturating far in the future).
fn time_arg(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

fn lower(domain: &str) -> Cow<'static, str> {
    Cow::Owned(domain.to_ascii_lowercase())
}

/// Rewrites `?` placeholders as `$1, $2, ...` (PostgreSQL). Our SQL has no `?` in literals.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A text column. Unchecked because MySQL flags `utf8mb4_bin` columns BINARY, which sqlx
/// takes for VARBINARY; the value is still validated as UTF-8 when decoded.
fn text<'r, R>(r: &'r R, i: usize) -> Result<String, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database>,
{
    r.try_get_unchecked(i)
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
    })
}

fn decode_strings<'r, R>(r: &'r R, columns: usize) -> Result<Vec<String>, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    (0..columns).map(|i| text(r, i)).collect()
}

/// The parameters of one binding row, in [`BINDING_COLUMNS`] order.
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
        Arg::Str(Cow::Borrowed(&b.aor.user)),
        Arg::Str(lower(&b.aor.domain)),
        Arg::Str(Cow::Borrowed(&b.contact)),
        Arg::Small(i32::from(b.q)),
        Arg::Int(time_arg(b.expires_at)),
        Arg::Str(Cow::Borrowed(&b.call_id)),
        Arg::Int(i64::from(b.cseq)),
        Arg::Str(Cow::Borrowed(&b.source)),
        Arg::Str(Cow::Owned(b.path.join("\n"))),
        Arg::Str(Cow::Borrowed(&b.user_agent)),
        Arg::Str(Cow::Borrowed(&b.node)),
    ])
}

impl SqlStore {
    /// Connects to the database named by `url`, creating a SQLite file (and its directory)
    /// when missing, and brings the schema up to date.
    ///
    /// Schemes: `sqlite://relative/path.db`, `sqlite:///absolute/path.db`, `sqlite::memory:`,
    /// `mysql://`, `mariadb://`, `postgres://`, `postgresql://`. An in-memory SQLite store
    /// uses a single connection whatever `max_connections` says.
    pub async fn connect(url: &str, max_connections: u32) -> Result<SqlStore, StoreError> {
        let store = SqlStore::connect_no_migrate(url, max_connections).await?;
        store.migrate().await.map_err(backend_err)?;
        Ok(store)
    }

    /// Connects without touching the schema (see [`SqlStore::connect`]).
    async fn connect_no_migrate(url: &str, max_connections: u32) -> Result<SqlStore, StoreError> {
        let max = max_connections.max(1);
        let (scheme, rest) = url
            .split_once(':')
            .ok_or_else(|| invalid_url("missing scheme"))?;
        let acquire = Duration::from_secs(10);
        let pool = match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Pool::Sqlite(connect_sqlite(rest, max).await?),
            "mysql" | "mariadb" => {
                let opts = MySqlConnectOptions::from_str(&format!("mysql:{rest}"))
                    .map_err(|e| invalid_url(e.to_string()))?
                    .charset("utf8mb4");
                Pool::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(acquire)
                        .connect_with(opts)
                        .await
                        .map_err(backend_err)?,
                )
            }
            "postgres" | "postgresql" => {
                let opts =
                    PgConnectOptions::from_str(url).map_err(|e| invalid_url(e.to_string()))?;
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(acquire)
                        .connect_with(opts)
                        .await
                        .map_err(backend_err)?,
                )
            }
            other => return Err(invalid_url(format!("unsupported scheme `{other}:`"))),
        };
        Ok(SqlStore { pool })
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::MySql(_) => Backend::MySql,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// `sqlite`, `mysql` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        self.backend().name()
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let versions: Vec<i64> = with_pool!(&self.pool, p => {
            sqlx::query_scalar("SELECT version FROM schema_version")
                .fetch_all(p)
                .await
        })
        .map_err(backend_err)?;
        Ok(versions.into_iter().max().unwrap_or(0))
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        with_pool!(&self.pool, p => p.close().await)
    }

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
        let sql =
            self.sql("DELETE FROM bindings WHERE username = ? AND domain = ? AND contact = ?");
        let args: Vec<[Arg<'_>; 3]> = keys
            .iter()
            .map(|(aor, contact)| {
                [
                    Arg::Str(Cow::Borrowed(&aor.user)),
                    Arg::Str(lower(&aor.domain)),
                    Arg::Str(Cow::Borrowed(contact)),
                ]
            })
            .collect();
        let stmts = args
            .iter()
            .map(|a| (sql.clone(), a.iter().collect()))
            .collect::<Vec<_>>();
        let counts = self.transaction(&stmts, false).await.map_err(backend_err)?;
        Ok(counts.unwrap_or_default().iter().sum())
    }

    /// Inserts many subscribers, [`BATCH_ROWS`] per multi-row INSERT, each batch in its own
    /// transaction (a failed batch writes nothing; earlier batches stay committed). Every
    /// domain must exist ([`StoreError::NotFound`]) and no user may exist already
    /// ([`StoreError::Duplicate`], naming the batch's first user). Returns how many were added.
    pub async fn add_subscribers(&self, subs: &[Subscriber]) -> Result<u64, StoreError> {
        let now = Arg::Int(unix_now());
        self.refuse_alias_names(&subs.iter().map(|s| &s.aor).collect::<Vec<_>>())
            .await?;
        let mut added = 0;
        for chunk in subs.chunks(BATCH_ROWS) {
            let domains: Vec<String> = chunk
                .iter()
                .map(|s| s.aor.domain.to_ascii_lowercase())
                .collect();
            let args: Vec<[Arg<'_>; 4]> = chunk
                .iter()
                .zip(&domains)
                .map(|(s, d)| {
                    [
                        str_arg(&s.aor.user),
                        str_arg(d),
                        str_arg(&s.ha1_md5),
                        str_arg(&s.ha1_sha256),
                    ]
                })
                .collect();
            let values = vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let sql = self
                .sql(&format!(
                    "INSERT INTO subscribers (username, domain, ha1_md5, ha1_sha256, created_at) \
                 VALUES {values}"
                ))
                .into_owned();
            let params: Vec<&Arg<'_>> = args
                .iter()
                .flat_map(|row| row.iter().chain(std::iter::once(&now)))
                .collect();
            let first = || chunk.first().map(|s| s.aor.to_string()).unwrap_or_default();
            match self.transaction(&[(Cow::Owned(sql), params)], false).await {
                Ok(_) => added += chunk.len() as u64,
                Err(e) if error_kind(&e) == Some(ErrorKind::UniqueViolation) => {
                    return Err(StoreError::Duplicate {
                        what: format!("a user in the batch starting with {}", first()),
                    })
                }
                Err(e) if error_kind(&e) == Some(ErrorKind::ForeignKeyViolation) => {
                    return Err(StoreError::NotFound {
                        what: format!("a domain in the batch starting with {}", first()),
                    })
                }
                Err(e) => return Err(backend_err(e)),
            }
        }
        Ok(added)
    }

    /// `sql` in this backend's placeholder style.
    fn sql<'a>(&self, sql: &'a str) -> Cow<'a, str> {
        match self.pool {
            Pool::Postgres(_) => Cow::Owned(numbered(sql)),
            _ => Cow::Borrowed(sql),
        }
    }

    /// The upsert of `rows` bindings (placeholders only: values are always bound).
    fn upsert_sql(&self, rows: usize) -> Cow<'static, str> {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; rows].join(", ");
        let update = match self.backend() {
            Backend::MySql => {
                " ON DUPLICATE KEY UPDATE q = VALUES(q), expires_at = VALUES(expires_at), \
                 call_id = VALUES(call_id), cseq = VALUES(cseq), source = VALUES(source), \
                 path = VALUES(path), user_agent = VALUES(user_agent), node = VALUES(node)"
            }
            Backend::Sqlite | Backend::Postgres => {
                " ON CONFLICT (username, domain, contact) DO UPDATE SET q = excluded.q, \
                 expires_at = excluded.expires_at, call_id = excluded.call_id, \
                 cseq = excluded.cseq, source = excluded.source, path = excluded.path, \
                 user_agent = excluded.user_agent, node = excluded.node"
            }
        };
        let sql = format!("INSERT INTO bindings ({BINDING_COLUMNS}) VALUES {values}{update}");
        Cow::Owned(self.sql(&sql).into_owned())
    }

    /// Creates `schema_version` and applies the migrations it does not list.
    async fn migrate(&self) -> Result<(), sqlx::Error> {
        let create = "CREATE TABLE IF NOT EXISTS schema_version \
                      (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)";
        let insert = self.sql("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)");
        let backend = self.backend();
        with_pool!(&self.pool, p => {
            sqlx::query(create).execute(p).await?;
            let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_version")
                .fetch_all(p)
                .await?;
            for &(version, sqlite, mysql, postgres) in MIGRATIONS {
                if applied.contains(&version) {
                    continue;
                }
                let script = match backend {
                    Backend::Sqlite => sqlite,
                    Backend::MySql => mysql,
                    Backend::Postgres => postgres,
                };
                // DDL is transactional on SQLite and PostgreSQL (not on MySQL).
                let mut tx = p.begin().await?;
                sqlx::raw_sql(script).execute(&mut *tx).await?;
                sqlx::query(&insert)
                    .bind(version)
                    .bind(unix_now())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Ok(())
        })
    }

    /// Runs one statement; returns the rows it affected.
    async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64, sqlx::Error> {
        let sql = self.sql(sql);
        with_pool!(&self.pool, p => {
            Ok(bound!(&sql, args).execute(p).await?.rows_affected())
        })
    }

    /// Runs statements in one transaction; returns the rows each affected. With `guard`,
    /// rolls back and returns None when the first statement affects no row.
    async fn transaction(
        &self,
        stmts: &[(Cow<'_, str>, Vec<&Arg<'_>>)],
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
    async fn fetch_strings(
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

async fn connect_sqlite(rest: &str, max: u32) -> Result<SqlitePool, StoreError> {
    let rest = rest.split('?').next().unwrap_or_default();
    let base = SqliteConnectOptions::new()
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let (opts, pool) = if rest == ":memory:" || rest == "//:memory:" {
        // One connection that never closes: the database lives as long as it.
        let opts = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|e| invalid_url(e.to_string()))?
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
        (opts, pool)
    } else {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(invalid_url("no SQLite file name"));
        }
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Backend(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let opts = base
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        (opts, SqlitePoolOptions::new().max_connections(max))
    };
    pool.acquire_timeout(Duration::from_secs(10))
        .connect_with(opts)
        .await
        .map_err(backend_err)
}

fn str_arg(s: &str) -> Arg<'_> {
    Arg::Str(Cow::Borrowed(s))
}

fn aor_from(row: &[String]) -> AddressOfRecord {
    AddressOfRecord {
        user: row[0].clone(),
        domain: row[1].clone(),
    }
}

const SELECT_BINDINGS: &str = "SELECT username, domain, contact, q, expires_at, call_id, cseq, \
                               source, path, user_agent, node FROM bindings";

#[async_trait]
impl Store for SqlStore {
    async fn domains(&self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .fetch_strings("SELECT domain FROM domains ORDER BY domain", &[], 1)
            .await?;
        Ok(rows.into_iter().flatten().collect())
    }

    async fn add_domain(&self, domain: &str) -> Result<(), StoreError> {
        let d = domain.to_ascii_lowercase();
        match self
            .execute("INSERT INTO domains (domain) VALUES (?)", &[str_arg(&d)])
            .await
        {
            Err(e) if error_kind(&e) == Some(ErrorKind::UniqueViolation) => {
                Err(StoreError::Duplicate {
                    what: format!("domain {d}"),
                })
            }
            r => r.map(drop).map_err(backend_err),
        }
    }

    async fn delete_domain(&self, domain: &str) -> Result<(), StoreError> {
        let d = domain.to_ascii_lowercase();
        let a = str_arg(&d);
        let stmts = [
            "DELETE FROM domains WHERE domain = ?",
            "DELETE FROM bindings WHERE domain = ?",
            "DELETE FROM aliases WHERE alias_domain = ? OR domain = ?",
            "DELETE FROM user_settings WHERE domain = ?",
            "DELETE FROM subscribers WHERE domain = ?",
        ];
        // The first statement is the existence guard; the rest do what the foreign keys
        // would, plus aliases in this domain that point elsewhere and orphan bindings.
        // Other users' forwarding and find-me rows into this domain go with it.
        let prune = self.pruning_statements(|x| x.domain == d).await?;
        let stmts: Vec<_> = stmts
            .iter()
            .map(|s| (self.sql(s), vec![&a; s.matches('?').count()]))
            .chain(
                prune
                    .iter()
                    .map(|(s, args)| (s.clone(), args.iter().collect())),
            )
            .collect();
        match self.transaction(&stmts, true).await.map_err(backend_err)? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound {
                what: format!("domain {d}"),
            }),
        }
    }

    async fn subscriber(&self, aor: &AddressOfRecord) -> Result<Option<Subscriber>, StoreError> {
        let rows = self
            .fetch_strings(
                "SELECT ha1_md5, ha1_sha256 FROM subscribers WHERE username = ? AND domain = ?",
                &[str_arg(&aor.user), Arg::Str(lower(&aor.domain))],
                2,
            )
            .await?;
        Ok(rows.into_iter().next().map(|mut r| Subscriber {
            aor: AddressOfRecord::new(&aor.user, &aor.domain),
            ha1_sha256: r.pop().unwrap_or_default(),
            ha1_md5: r.pop().unwrap_or_default(),
        }))
    }

    async fn add_subscriber(&self, s: &Subscriber) -> Result<(), StoreError> {
        let d = s.aor.domain.to_ascii_lowercase();
        let missing_domain = || StoreError::NotFound {
            what: format!("domain {d}"),
        };
        let found = self
            .fetch_strings(
                "SELECT domain FROM domains WHERE domain = ?",
                &[str_arg(&d)],
                1,
            )
            .await?;
        if found.is_empty() {
            return Err(missing_domain());
        }
        self.refuse_alias_name(&s.aor).await?;
        let r = self
            .execute(
                "INSERT INTO subscribers (username, domain, ha1_md5, ha1_sha256, created_at) \
                 VALUES (?, ?, ?, ?, ?)",
                &[
                    str_arg(&s.aor.user),
                    str_arg(&d),
                    str_arg(&s.ha1_md5),
                    str_arg(&s.ha1_sha256),
                    Arg::Int(unix_now()),
                ],
            )
            .await;
        match r {
            Err(e) if error_kind(&e) == Some(ErrorKind::UniqueViolation) => {
                Err(StoreError::Duplicate {
                    what: format!("user {}", s.aor),
                })
            }
            Err(e) if error_kind(&e) == Some(ErrorKind::ForeignKeyViolation) => {
                Err(missing_domain())
            }
            r => r.map(drop).map_err(backend_err),
        }
    }

    async fn update_subscriber(&self, s: &Subscriber) -> Result<(), StoreError> {
        let key = [str_arg(&s.aor.user), Arg::Str(lower(&s.aor.domain))];
        let n = self
            .execute(
                "UPDATE subscribers SET ha1_md5 = ?, ha1_sha256 = ? \
                 WHERE username = ? AND domain = ?",
                &[
                    str_arg(&s.ha1_md5),
                    str_arg(&s.ha1_sha256),
                    str_arg(&s.aor.user),
                    Arg::Str(lower(&s.aor.domain)),
                ],
            )
            .await
            .map_err(backend_err)?;
        // MySQL counts changed rows, not matched ones: an update to the same hashes is 0.
        if n == 0
            && self
                .fetch_strings(
                    "SELECT username FROM subscribers WHERE username = ? AND domain = ?",
                    &key,
                    1,
                )
                .await?
                .is_empty()
        {
            return Err(StoreError::NotFound {
                what: format!("user {}", s.aor),
            });
        }
        Ok(())
    }

    async fn delete_subscriber(&self, aor: &AddressOfRecord) -> Result<(), StoreError> {
        let (u, d) = (str_arg(&aor.user), Arg::Str(lower(&aor.domain)));
        let stmts = [
            "DELETE FROM subscribers WHERE username = ? AND domain = ?",
            "DELETE FROM aliases WHERE username = ? AND domain = ?",
            "DELETE FROM bindings WHERE username = ? AND domain = ?",
            "DELETE FROM user_settings WHERE username = ? AND domain = ?",
        ]
        .iter()
        .map(|s| (self.sql(s), vec![&u, &d]))
        .collect::<Vec<_>>();
        // Other users' forwarding and find-me rows pointing at this user, or at one of
        // its aliases, go with it.
        let names: HashSet<AddressOfRecord> = self
            .aliases(None)
            .await?
            .into_iter()
            .filter(|a| a.target == *aor)
            .map(|a| a.alias)
            .chain(std::iter::once(aor.clone()))
            .collect();
        let prune = self.pruning_statements(|x| names.contains(x)).await?;
        let stmts: Vec<_> = stmts
            .into_iter()
            .chain(
                prune
                    .iter()
                    .map(|(s, args)| (s.clone(), args.iter().collect())),
            )
            .collect();
        match self.transaction(&stmts, true).await.map_err(backend_err)? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound {
                what: format!("user {aor}"),
            }),
        }
    }

    async fn subscribers(&self, domain: Option<&str>) -> Result<Vec<Subscriber>, StoreError> {
        let cols = "SELECT username, domain, ha1_md5, ha1_sha256 FROM subscribers";
        let rows = match domain {
            Some(d) => {
                let sql = format!("{cols} WHERE domain = ? ORDER BY username, domain");
                self.fetch_strings(&sql, &[Arg::Str(lower(d))], 4).await?
            }
            None => {
                let sql = format!("{cols} ORDER BY username, domain");
                self.fetch_strings(&sql, &[], 4).await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|r| Subscriber {
                aor: aor_from(&r),
                ha1_md5: r[2].clone(),
                ha1_sha256: r[3].clone(),
            })
            .collect())
    }

    async fn resolve_alias(
        &self,
        alias: &AddressOfRecord,
    ) -> Result<Option<AddressOfRecord>, StoreError> {
        let rows = self
            .fetch_strings(
                "SELECT username, domain FROM aliases WHERE alias_user = ? AND alias_domain = ?",
                &[str_arg(&alias.user), Arg::Str(lower(&alias.domain))],
                2,
            )
            .await?;
        Ok(rows.first().map(|r| aor_from(r)))
    }

    async fn add_alias(&self, a: &Alias) -> Result<(), StoreError> {
        let target = [str_arg(&a.target.user), Arg::Str(lower(&a.target.domain))];
        let name = [str_arg(&a.alias.user), Arg::Str(lower(&a.alias.domain))];
        let not_found = || StoreError::NotFound {
            what: format!("user {}", a.target),
        };
        let duplicate = || StoreError::Duplicate {
            what: format!("alias {}", a.alias),
        };
        let user_sql = "SELECT username FROM subscribers WHERE username = ? AND domain = ?";
        if self.fetch_strings(user_sql, &target, 1).await?.is_empty() {
            return Err(not_found());
        }
        if !self.fetch_strings(user_sql, &name, 1).await?.is_empty() {
            return Err(StoreError::Duplicate {
                what: format!("user {} (an alias cannot take a user's name)", a.alias),
            });
        }
        let r = self
            .execute(
                "INSERT INTO aliases (alias_user, alias_domain, username, domain) \
                 VALUES (?, ?, ?, ?)",
                &[
                    str_arg(&a.alias.user),
                    Arg::Str(lower(&a.alias.domain)),
                    str_arg(&a.target.user),
                    Arg::Str(lower(&a.target.domain)),
                ],
            )
            .await;
        match r {
            Err(e) if error_kind(&e) == Some(ErrorKind::UniqueViolation) => Err(duplicate()),
            Err(e) if error_kind(&e) == Some(ErrorKind::ForeignKeyViolation) => Err(not_found()),
            r => r.map(drop).map_err(backend_err),
        }
    }

    async fn delete_alias(&self, alias: &AddressOfRecord) -> Result<(), StoreError> {
        let n = self
            .execute(
                "DELETE FROM aliases WHERE alias_user = ? AND alias_domain = ?",
                &[str_arg(&alias.user), Arg::Str(lower(&alias.domain))],
            )
            .await
            .map_err(backend_err)?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: format!("alias {alias}"),
            });
        }
        Ok(())
    }

    async fn aliases(&self, domain: Option<&str>) -> Result<Vec<Alias>, StoreError> {
        let cols = "SELECT alias_user, alias_domain, username, domain FROM aliases";
        let rows = match domain {
            Some(d) => {
                let sql =
                    format!("{cols} WHERE alias_domain = ? ORDER BY alias_user, alias_domain");
                self.fetch_strings(&sql, &[Arg::Str(lower(d))], 4).await?
            }
            None => {
                let sql = format!("{cols} ORDER BY alias_user, alias_domain");
                self.fetch_strings(&sql, &[], 4).await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|r| Alias {
                alias: aor_from(&r),
                target: aor_from(&r[2..]),
            })
            .collect())
    }

    async fn save_binding(&self, b: &Binding) -> Result<(), StoreError> {
        let args = binding_args(b)?;
        self.execute(&self.upsert_sql(1), &args)
            .await
            .map(drop)
            .map_err(backend_err)
    }

    async fn delete_binding(&self, aor: &AddressOfRecord, contact: &str) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM bindings WHERE username = ? AND domain = ? AND contact = ?",
            &[
                str_arg(&aor.user),
                Arg::Str(lower(&aor.domain)),
                str_arg(contact),
            ],
        )
        .await
        .map(drop)
        .map_err(backend_err)
    }

    async fn delete_bindings(&self, aor: Option<&AddressOfRecord>) -> Result<u64, StoreError> {
        match aor {
            Some(aor) => {
                self.execute(
                    "DELETE FROM bindings WHERE username = ? AND domain = ?",
                    &[str_arg(&aor.user), Arg::Str(lower(&aor.domain))],
                )
                .await
            }
            None => self.execute("DELETE FROM bindings", &[]).await,
        }
        .map_err(backend_err)
    }

    async fn bindings(
        &self,
        aor: Option<&AddressOfRecord>,
        now: u64,
    ) -> Result<Vec<Binding>, StoreError> {
        let now = Arg::Int(time_arg(now));
        match aor {
            Some(aor) => {
                let sql = format!(
                    "{SELECT_BINDINGS} WHERE username = ? AND domain = ? AND expires_at > ? \
                     ORDER BY contact"
                );
                let args = [str_arg(&aor.user), Arg::Str(lower(&aor.domain)), now];
                self.fetch_bindings(&sql, &args).await
            }
            None => {
                let sql = format!(
                    "{SELECT_BINDINGS} WHERE expires_at > ? ORDER BY username, domain, contact"
                );
                self.fetch_bindings(&sql, &[now]).await
            }
        }
    }

    async fn purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        self.execute(
            "DELETE FROM bindings WHERE expires_at <= ?",
            &[Arg::Int(time_arg(now))],
        )
        .await
        .map_err(backend_err)
    }

    async fn settings(&self, aor: &AddressOfRecord) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self
            .fetch_strings(
                "SELECT name, value FROM user_settings WHERE username = ? AND domain = ? \
                 ORDER BY name",
                &[str_arg(&aor.user), Arg::Str(lower(&aor.domain))],
                2,
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|mut r| {
                let v = r.pop().unwrap_or_default();
                (r.pop().unwrap_or_default(), v)
            })
            .collect())
    }

    async fn set_setting(
        &self,
        aor: &AddressOfRecord,
        name: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        if name.is_empty() || name.len() > MAX_SETTING_NAME_LEN {
            return Err(StoreError::Invalid {
                field: "setting name",
                why: format!("must be 1 to {MAX_SETTING_NAME_LEN} bytes"),
            });
        }
        let key = [str_arg(&aor.user), Arg::Str(lower(&aor.domain))];
        let exists = "SELECT username FROM subscribers WHERE username = ? AND domain = ?";
        if self.fetch_strings(exists, &key, 1).await?.is_empty() {
            return Err(StoreError::NotFound {
                what: format!("user {aor}"),
            });
        }
        let upsert = match self.backend() {
            Backend::MySql => "ON DUPLICATE KEY UPDATE value = VALUES(value)",
            Backend::Sqlite | Backend::Postgres => {
                "ON CONFLICT (username, domain, name) DO UPDATE SET value = excluded.value"
            }
        };
        let sql = format!(
            "INSERT INTO user_settings (username, domain, name, value) VALUES (?, ?, ?, ?) {upsert}"
        );
        let r = self
            .execute(
                &sql,
                &[
                    str_arg(&aor.user),
                    Arg::Str(lower(&aor.domain)),
                    str_arg(name),
                    str_arg(value),
                ],
            )
            .await;
        match r {
            Err(e) if error_kind(&e) == Some(ErrorKind::ForeignKeyViolation) => {
                Err(StoreError::NotFound {
                    what: format!("user {aor}"),
                })
            }
            r => r.map(drop).map_err(backend_err),
        }
    }

    async fn delete_setting(&self, aor: &AddressOfRecord, name: &str) -> Result<bool, StoreError> {
        let n = self
            .execute(
                "DELETE FROM user_settings WHERE username = ? AND domain = ? AND name = ?",
                &[
                    str_arg(&aor.user),
                    Arg::Str(lower(&aor.domain)),
                    str_arg(name),
                ],
            )
            .await
            .map_err(backend_err)?;
        Ok(n > 0)
    }

    async fn all_settings(&self) -> Result<Vec<(AddressOfRecord, String, String)>, StoreError> {
        let rows = self
            .fetch_strings(
                "SELECT username, domain, name, value FROM user_settings \
                 ORDER BY username, domain, name",
                &[],
                4,
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (aor_from(&r), r[2].clone(), r[3].clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
    }
}
