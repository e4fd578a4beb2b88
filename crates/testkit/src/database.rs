//! Throw-away databases on the MariaDB and PostgreSQL servers named by
//! `SWITCHBOARD_TEST_MYSQL_URL` and `SWITCHBOARD_TEST_POSTGRES_URL` (`scripts/dbs.sh`).
//! A missing URL skips the test, unless `SWITCHBOARD_REQUIRE_DBS=1` makes it a failure.

#![allow(clippy::print_stderr)] // a database that cannot be dropped is worth a line

use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// A name no other test run uses: `prefix_<pid>_<nanos>`.
pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// The URL in `var`; None (after saying so on stderr) when unset, unless
/// `SWITCHBOARD_REQUIRE_DBS=1`, which makes a missing URL a failure.
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("SWITCHBOARD_REQUIRE_DBS").as_deref() == Ok("1") => {
            panic!("{var} is not set, and SWITCHBOARD_REQUIRE_DBS=1 requires it (eval \"$(scripts/dbs.sh)\")")
        }
        _ => {
            // Straight to stderr: libtest would capture `eprintln!` and hide the line.
            let _ = writeln!(
                std::io::stderr(),
                "not run: set {var} to test this backend (eval \"$(scripts/dbs.sh)\")"
            );
            None
        }
    }
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (head, _) = url.rsplit_once('/').unwrap();
    format!("{head}/{db}")
}

/// A fresh database on a MariaDB or PostgreSQL server, dropped when this goes.
pub struct TempDatabase {
    /// The URL of the new database.
    pub url: String,
    admin_url: String,
    name: String,
    postgres: bool,
}

fn admin_sql(admin_url: &str, postgres: bool, sql: &str) -> Result<(), sqlx::Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection as _;
        if postgres {
            let mut c = sqlx::PgConnection::connect(admin_url).await?;
            sqlx::raw_sql(sql).execute(&mut c).await.map(drop)
        } else {
            let mut c = sqlx::MySqlConnection::connect(admin_url).await?;
            sqlx::raw_sql(sql).execute(&mut c).await.map(drop)
        }
    })
}

impl TempDatabase {
    /// A new database on the server of `SWITCHBOARD_TEST_POSTGRES_URL` (postgres) or
    /// `SWITCHBOARD_TEST_MYSQL_URL`; None when that is unset (see [`server_url`]).
    pub fn create(postgres: bool) -> Option<TempDatabase> {
        let var = if postgres {
            "SWITCHBOARD_TEST_POSTGRES_URL"
        } else {
            "SWITCHBOARD_TEST_MYSQL_URL"
        };
        let base = server_url(var)?;
        let name = unique("switchboard_auth");
        // Identifiers cannot be bound; `name` is ours, alphanumeric and underscores.
        let sql = if postgres {
            format!("CREATE DATABASE \"{name}\"")
        } else {
            format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        };
        admin_sql(&base, postgres, &sql).unwrap();
        let mut url = with_database(&base, &name);
        if !postgres {
            url = url.replacen("mysql://", "mariadb://", 1);
        }
        Some(TempDatabase {
            url,
            admin_url: base,
            name,
            postgres,
        })
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let sql = if self.postgres {
            format!("DROP DATABASE \"{}\" WITH (FORCE)", self.name)
        } else {
            format!("DROP DATABASE `{}`", self.name)
        };
        if let Err(e) = admin_sql(&self.admin_url, self.postgres, &sql) {
            eprintln!("dropping test database {}: {e}", self.name);
        }
    }
}
