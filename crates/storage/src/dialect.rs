//! Where SQLite, MariaDB/MySQL and PostgreSQL differ, in one place: the [`Backend`] enum and
//! the URL schemes that name it, the placeholder style (`?` or `$1`), the upsert clause
//! (`ON CONFLICT ... DO UPDATE` or `ON DUPLICATE KEY UPDATE`) and the schema scripts (the
//! column types of each dialect live in `migrations/<backend>/`).
//!
//! Aggregate modules write their SQL once, with `?` placeholders, and pass it through
//! [`Backend::placeholders`]; nothing here runs a query or sees a value.

use std::borrow::Cow;

/// Schema migrations, in order: (version, SQLite, MySQL, PostgreSQL).
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        include_str!("../migrations/sqlite/0001_initial.sql"),
        include_str!("../migrations/mysql/0001_initial.sql"),
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        include_str!("../migrations/sqlite/0002_cdr.sql"),
        include_str!("../migrations/mysql/0002_cdr.sql"),
        include_str!("../migrations/postgres/0002_cdr.sql"),
    ),
    (
        3,
        include_str!("../migrations/sqlite/0003_voicemail.sql"),
        include_str!("../migrations/mysql/0003_voicemail.sql"),
        include_str!("../migrations/postgres/0003_voicemail.sql"),
    ),
    (
        4,
        include_str!("../migrations/sqlite/0004_portal.sql"),
        include_str!("../migrations/mysql/0004_portal.sql"),
        include_str!("../migrations/postgres/0004_portal.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_pstn.sql"),
        include_str!("../migrations/mysql/0005_pstn.sql"),
        include_str!("../migrations/postgres/0005_pstn.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_pres3.sql"),
        include_str!("../migrations/mysql/0006_pres3.sql"),
        include_str!("../migrations/postgres/0006_pres3.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_msg.sql"),
        include_str!("../migrations/mysql/0007_msg.sql"),
        include_str!("../migrations/postgres/0007_msg.sql"),
    ),
    (
        8,
        include_str!("../migrations/sqlite/0008_gwtls.sql"),
        include_str!("../migrations/mysql/0008_gwtls.sql"),
        include_str!("../migrations/postgres/0008_gwtls.sql"),
    ),
];

/// Which database a [`SqlStore`](crate::SqlStore) talks to.
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

    /// The backend a URL scheme (without the colon, any case) names, if any.
    pub(crate) fn from_scheme(scheme: &str) -> Option<Backend> {
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "mysql" | "mariadb" => Some(Backend::MySql),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }

    /// `sql`, written with `?` placeholders, in this backend's placeholder style.
    pub(crate) fn placeholders(self, sql: &str) -> Cow<'_, str> {
        match self {
            Backend::Postgres => Cow::Owned(numbered(sql)),
            Backend::Sqlite | Backend::MySql => Cow::Borrowed(sql),
        }
    }

    /// The clause that turns an INSERT into an upsert: on a clash of the unique `key`
    /// columns, the row's `update` columns take the inserted values.
    pub(crate) fn upsert(self, key: &[&str], update: &[&str]) -> String {
        match self {
            Backend::MySql => {
                let sets: Vec<String> = update
                    .iter()
                    .map(|c| format!("{c} = VALUES({c})"))
                    .collect();
                format!("ON DUPLICATE KEY UPDATE {}", sets.join(", "))
            }
            Backend::Sqlite | Backend::Postgres => {
                let sets: Vec<String> = update
                    .iter()
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect();
                format!(
                    "ON CONFLICT ({}) DO UPDATE SET {}",
                    key.join(", "),
                    sets.join(", ")
                )
            }
        }
    }

    /// The schema scripts in this dialect, oldest first, with their versions.
    pub(crate) fn migrations(self) -> impl Iterator<Item = (i64, &'static str)> {
        MIGRATIONS
            .iter()
            .map(move |&(version, sqlite, mysql, postgres)| {
                let script = match self {
                    Backend::Sqlite => sqlite,
                    Backend::MySql => mysql,
                    Backend::Postgres => postgres,
                };
                (version, script)
            })
    }
}

/// `rows` groups of `columns` placeholders: `(?, ?), (?, ?)` (values are always bound).
pub(crate) fn values(columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; rows].join(", ")
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

#[cfg(test)]
mod tests {
    use super::{numbered, values, Backend};

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
        assert_eq!(Backend::MySql.placeholders("b = ?"), "b = ?");
    }

    #[test]
    fn upserts_in_each_dialect() {
        assert_eq!(
            Backend::MySql.upsert(&["k"], &["a", "b"]),
            "ON DUPLICATE KEY UPDATE a = VALUES(a), b = VALUES(b)"
        );
        assert_eq!(
            Backend::Postgres.upsert(&["k", "l"], &["a"]),
            "ON CONFLICT (k, l) DO UPDATE SET a = excluded.a"
        );
        assert_eq!(values(2, 2), "(?, ?), (?, ?)");
    }

    #[test]
    fn schemes_name_backends() {
        assert_eq!(Backend::from_scheme("MariaDB"), Some(Backend::MySql));
        assert_eq!(Backend::from_scheme("postgresql"), Some(Backend::Postgres));
        assert_eq!(Backend::from_scheme("redis"), None);
    }
}
