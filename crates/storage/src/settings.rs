//! The `user_settings` table: per-user call-service settings (forwarding, find-me,
//! screening) as name/value rows, and the rows of other users that must go or change when
//! a user or domain they point at is deleted.
//!
//! What a setting means, and which ones reference whom, is `model`'s (`UserSettings`,
//! `prune_settings`); this module only stores the text.

use std::borrow::Cow;

use model::{prune_settings, AddressOfRecord, StoreError};

use crate::db::{aor_args, aor_from, backend_err, str_arg, violation, Arg, Statement, Violation};
use crate::{subscribers, SqlStore};

/// Longest setting name accepted, in bytes (the MySQL schema's column).
pub const MAX_SETTING_NAME_LEN: usize = 64;

const KEY: [&str; 3] = ["username", "domain", "name"];

impl SqlStore {
    /// Runs `deletes` in one transaction, the first one the existence guard (when it
    /// deletes nothing, nothing happens and the answer is [`StoreError::NotFound`] naming
    /// `what`), together with the removal or rewriting of other users' forwarding and
    /// find-me rows pointing at a user for which `gone` holds.
    pub(crate) async fn delete_and_prune(
        &self,
        deletes: &[(&str, Vec<&Arg<'_>>)],
        gone: impl Fn(&AddressOfRecord) -> bool,
        what: impl FnOnce() -> String,
    ) -> Result<(), StoreError> {
        let prune = self.pruning_statements(gone).await?;
        let stmts: Vec<Statement<'_, '_>> = deletes
            .iter()
            .map(|(sql, args)| (self.sql(sql), args.clone()))
            .chain(
                prune
                    .iter()
                    .map(|(sql, args)| (sql.clone(), args.iter().collect())),
            )
            .collect();
        match self.transaction(&stmts, true).await.map_err(backend_err)? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound { what: what() }),
        }
    }

    /// The statements that remove or rewrite other users' forwarding and find-me rows
    /// pointing at a user for which `gone` holds; run in the deleting transaction.
    async fn pruning_statements(
        &self,
        gone: impl Fn(&AddressOfRecord) -> bool,
    ) -> Result<Vec<(Cow<'static, str>, Vec<Arg<'static>>)>, StoreError> {
        let rows = all(self).await?;
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

pub(crate) async fn list(
    s: &SqlStore,
    aor: &AddressOfRecord,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = s
        .fetch_strings(
            "SELECT name, value FROM user_settings WHERE username = ? AND domain = ? \
             ORDER BY name",
            &aor_args(aor),
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

pub(crate) async fn set(
    s: &SqlStore,
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
    let not_found = || StoreError::NotFound {
        what: format!("user {aor}"),
    };
    if !subscribers::exists(s, aor).await? {
        return Err(not_found());
    }
    let sql = format!(
        "INSERT INTO user_settings (username, domain, name, value) VALUES (?, ?, ?, ?) {}",
        s.backend().upsert(&KEY, &["value"])
    );
    let [user, domain] = aor_args(aor);
    match s
        .execute(&sql, &[user, domain, str_arg(name), str_arg(value)])
        .await
    {
        Err(e) if violation(&e) == Some(Violation::ForeignKey) => Err(not_found()),
        r => r.map(drop).map_err(backend_err),
    }
}

pub(crate) async fn delete(
    s: &SqlStore,
    aor: &AddressOfRecord,
    name: &str,
) -> Result<bool, StoreError> {
    let [user, domain] = aor_args(aor);
    let n = s
        .execute(
            "DELETE FROM user_settings WHERE username = ? AND domain = ? AND name = ?",
            &[user, domain, str_arg(name)],
        )
        .await
        .map_err(backend_err)?;
    Ok(n > 0)
}

pub(crate) async fn all(
    s: &SqlStore,
) -> Result<Vec<(AddressOfRecord, String, String)>, StoreError> {
    let rows = s
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
