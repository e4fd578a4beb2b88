//! What the storage tests share: test data, and a scratch database of its own on each
//! MariaDB/PostgreSQL server under test (`eval "$(scripts/dbs.sh)"` sets their URLs; with
//! `SWITCHBOARD_REQUIRE_DBS=1` a missing URL fails instead of skipping).
// Each test binary uses a part of this module.
#![allow(dead_code, clippy::unwrap_used)]

use std::future::Future;
use std::sync::Arc;

use model::{AddressOfRecord, Subscriber};
use sqlx::{Connection, MySqlConnection, PgConnection};
use storage::{Backend, SqlStore};
pub use testkit::database::unique;
use testkit::database::{server_url, with_database};

/// A subscriber whose hashes name it.
pub fn sub(user: &str, domain: &str) -> Subscriber {
    Subscriber {
        aor: AddressOfRecord::new(user, domain),
        ha1_md5: format!("md5-{user}"),
        ha1_sha256: format!("sha256-{user}"),
    }
}

/// The variable naming the server of `backend`.
fn url_var(backend: Backend) -> &'static str {
    match backend {
        Backend::MySql => "SWITCHBOARD_TEST_MYSQL_URL",
        Backend::Postgres => "SWITCHBOARD_TEST_POSTGRES_URL",
        Backend::Sqlite => unreachable!("SQLite needs no server"),
    }
}

enum Admin {
    MySql(MySqlConnection),
    Postgres(PgConnection),
}

/// An empty database of its own on a MariaDB or PostgreSQL server; [`Scratch::drop`] drops it.
pub struct Scratch {
    /// Where it is, with the server's credentials.
    pub url: String,
    name: String,
    admin: Admin,
}

/// A new empty database named `prefix_<pid>_<nanos>` on the server of `backend`, or None when
/// that server is not under test.
pub async fn scratch_database(backend: Backend, prefix: &str) -> Option<Scratch> {
    let base = server_url(url_var(backend))?;
    let name = unique(prefix);
    // Identifiers cannot be bound; `name` is ours, alphanumeric and underscores.
    let admin = match backend {
        Backend::MySql => {
            let mut c = MySqlConnection::connect(&base).await.unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
                .execute(&mut c)
                .await
                .unwrap();
            Admin::MySql(c)
        }
        Backend::Postgres => {
            let mut c = PgConnection::connect(&base).await.unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut c)
                .await
                .unwrap();
            Admin::Postgres(c)
        }
        Backend::Sqlite => unreachable!("SQLite needs no server"),
    };
    Some(Scratch {
        url: with_database(&base, &name),
        name,
        admin,
    })
}

impl Scratch {
    /// Drops the database (its stores must be closed first on MariaDB).
    pub async fn drop(self) {
        let name = self.name;
        match self.admin {
            Admin::MySql(mut c) => sqlx::raw_sql(&format!("DROP DATABASE `{name}`"))
                .execute(&mut c)
                .await
                .map(drop),
            Admin::Postgres(mut c) => {
                sqlx::raw_sql(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                    .execute(&mut c)
                    .await
                    .map(drop)
            }
        }
        .unwrap();
    }
}

/// `exercise` on a new in-memory SQLite store.
pub async fn on_sqlite<F, Fut>(exercise: F)
where
    F: FnOnce(Arc<SqlStore>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let s = SqlStore::connect("sqlite::memory:", 1).await.unwrap();
    run_then(s, exercise, async {}).await;
}

/// `exercise` on a new database (named `prefix_...`) of the server of `backend`, if that
/// server is under test; the database is dropped after, whether `exercise` passed or not.
pub async fn on_server<F, Fut>(backend: Backend, prefix: &str, exercise: F)
where
    F: FnOnce(Arc<SqlStore>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = scratch_database(backend, prefix).await else {
        return;
    };
    let s = SqlStore::connect(&db.url, 2).await.unwrap();
    run_then(s, exercise, db.drop()).await;
}

/// Runs `test` on `store`, then closes it and runs `cleanup` even when `test` panicked.
pub async fn run_then<F, Fut>(store: SqlStore, test: F, cleanup: impl Future<Output = ()>)
where
    F: FnOnce(Arc<SqlStore>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let store = Arc::new(store);
    let result = tokio::spawn(test(store.clone())).await;
    store.close().await;
    cleanup.await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}
