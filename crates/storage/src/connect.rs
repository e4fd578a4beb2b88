//! Opening a [`SqlStore`]: the URL schemes, each backend's pool options (SQLite's WAL file or
//! in-memory database, MySQL's utf8mb4), opening only a database that exists for the CLI,
//! and describing a URL without its password.
//!
//! The schema it brings up to date is `schema.rs`'s; which backend a scheme names is
//! `dialect.rs`'s.

use std::str::FromStr;
use std::time::Duration;

use model::StoreError;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::db::{backend_err, invalid_url, Pool};
use crate::{Backend, SqlStore};

/// How long a query waits for a free connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a database URL points, for messages: the SQLite file, or the URL without its
/// password.
pub fn describe_url(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.split('?').next().unwrap_or_default();
        return path.strip_prefix("//").unwrap_or(path).to_string();
    }
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
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

    /// Connects to a database that exists already and has been initialised (by
    /// [`SqlStore::connect`], i.e. `switchboard init` or `run`), bringing its schema up to
    /// date. A missing SQLite file, or a MariaDB/PostgreSQL database without Switchboard's
    /// schema, is [`StoreError::NotFound`] naming where it looked; nothing is created.
    pub async fn connect_existing(url: &str, max_connections: u32) -> Result<SqlStore, StoreError> {
        let (scheme, rest) = url
            .split_once(':')
            .ok_or_else(|| invalid_url("missing scheme"))?;
        let not_found = || StoreError::NotFound {
            what: format!("database {}", describe_url(url)),
        };
        if scheme.eq_ignore_ascii_case("sqlite") {
            let path = rest.split('?').next().unwrap_or_default();
            let path = path.strip_prefix("//").unwrap_or(path);
            if path != ":memory:" && !std::path::Path::new(path).is_file() {
                return Err(not_found());
            }
            // The file exists: `connect` creates nothing more than the schema it lacks.
            return SqlStore::connect(url, max_connections).await;
        }
        let store = SqlStore::connect_no_migrate(url, max_connections).await?;
        if store.schema_version().await.is_err() {
            store.close().await;
            return Err(not_found());
        }
        store.migrate().await.map_err(backend_err)?;
        Ok(store)
    }

    /// Connects without touching the schema (see [`SqlStore::connect`]).
    async fn connect_no_migrate(url: &str, max_connections: u32) -> Result<SqlStore, StoreError> {
        let max = max_connections.max(1);
        let (scheme, rest) = url
            .split_once(':')
            .ok_or_else(|| invalid_url("missing scheme"))?;
        let backend = Backend::from_scheme(scheme)
            .ok_or_else(|| invalid_url(format!("unsupported scheme `{scheme}:`")))?;
        let pool = match backend {
            Backend::Sqlite => Pool::Sqlite(connect_sqlite(rest, max).await?),
            Backend::MySql => {
                let opts = MySqlConnectOptions::from_str(&format!("mysql:{rest}"))
                    .map_err(|e| invalid_url(e.to_string()))?
                    .charset("utf8mb4");
                Pool::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_with(opts)
                        .await
                        .map_err(backend_err)?,
                )
            }
            Backend::Postgres => {
                let opts =
                    PgConnectOptions::from_str(url).map_err(|e| invalid_url(e.to_string()))?;
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_with(opts)
                        .await
                        .map_err(backend_err)?,
                )
            }
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

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        with_pool!(&self.pool, p => p.close().await)
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
    pool.acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(opts)
        .await
        .map_err(backend_err)
}

#[cfg(test)]
mod tests {
    use super::describe_url;

    #[test]
    fn urls_are_described_without_passwords() {
        assert_eq!(
            describe_url("sqlite://data/switchboard.db"),
            "data/switchboard.db"
        );
        assert_eq!(
            describe_url("sqlite:///var/lib/s.db?mode=rwc"),
            "/var/lib/s.db"
        );
        assert_eq!(
            describe_url("postgres://sw:secret@127.0.0.1/sw"),
            "postgres://sw:***@127.0.0.1/sw"
        );
    }
}
