//! What keeps provisioning consistent across tables: opening only a database that exists
//! (the CLI must not create one silently), the user/alias name clash, and the call-service
//! rows of other users that point at a user or domain being deleted.
//!
//! The SQL of the tables themselves lives in `lib.rs`; the decisions about which settings
//! reference whom live in `model::prune_settings`.

use std::borrow::Cow;

use model::{prune_settings, AddressOfRecord, Store, StoreError};

use crate::{backend_err, invalid_url, Arg, SqlStore};

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

    /// Fails with [`StoreError::Duplicate`] when `aor` is an alias.
    pub(crate) async fn refuse_alias_name(&self, aor: &AddressOfRecord) -> Result<(), StoreError> {
        if self.resolve_alias(aor).await?.is_some() {
            return Err(StoreError::Duplicate {
                what: format!("alias {aor} (a user cannot take an alias's name)"),
            });
        }
        Ok(())
    }

    /// Fails with [`StoreError::Duplicate`] naming the first of `aors` that is an alias.
    pub(crate) async fn refuse_alias_names(
        &self,
        aors: &[&AddressOfRecord],
    ) -> Result<(), StoreError> {
        let aliases: std::collections::HashSet<AddressOfRecord> = self
            .aliases(None)
            .await?
            .into_iter()
            .map(|a| a.alias)
            .collect();
        match aors.iter().find(|a| aliases.contains(a)) {
            Some(a) => Err(StoreError::Duplicate {
                what: format!("alias {a} (a user cannot take an alias's name)"),
            }),
            None => Ok(()),
        }
    }

    /// The statements that remove or rewrite other users' forwarding and find-me rows
    /// pointing at a user for which `gone` holds; run in the deleting transaction.
    pub(crate) async fn pruning_statements(
        &self,
        gone: impl Fn(&AddressOfRecord) -> bool,
    ) -> Result<Vec<(Cow<'static, str>, Vec<Arg<'static>>)>, StoreError> {
        let rows = self.all_settings().await?;
        let delete = "DELETE FROM user_settings WHERE username = ? AND domain = ? AND name = ?";
        let update =
            "UPDATE user_settings SET value = ? WHERE username = ? AND domain = ? AND name = ?";
        Ok(prune_settings(&rows, gone)
            .into_iter()
            .map(|(aor, name, value)| {
                let key = [
                    Arg::Str(Cow::Owned(aor.user)),
                    Arg::Str(Cow::Owned(aor.domain)),
                    Arg::Str(Cow::Owned(name)),
                ];
                match value {
                    None => (Cow::Owned(self.sql(delete).into_owned()), key.into()),
                    Some(v) => {
                        let mut args = vec![Arg::Str(Cow::Owned(v))];
                        args.extend(key);
                        (Cow::Owned(self.sql(update).into_owned()), args)
                    }
                }
            })
            .collect())
    }
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
