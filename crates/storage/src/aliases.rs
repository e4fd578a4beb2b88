//! The `aliases` table: other names for a user (`alias_user@alias_domain` rings
//! `username@domain`). A user and an alias never share a name: this module refuses either
//! way round. Deleting the user or a domain removes its aliases (`subscribers.rs`,
//! `domains.rs`).

use std::collections::HashSet;

use model::{AddressOfRecord, Alias, Store, StoreError};

use crate::db::{aor_args, aor_from, backend_err, violation, Violation};
use crate::{subscribers, SqlStore};

pub(crate) async fn resolve(
    s: &SqlStore,
    alias: &AddressOfRecord,
) -> Result<Option<AddressOfRecord>, StoreError> {
    let rows = s
        .fetch_strings(
            "SELECT username, domain FROM aliases WHERE alias_user = ? AND alias_domain = ?",
            &aor_args(alias),
            2,
        )
        .await?;
    Ok(rows.first().map(|r| aor_from(r)))
}

pub(crate) async fn add(s: &SqlStore, a: &Alias) -> Result<(), StoreError> {
    let not_found = || StoreError::NotFound {
        what: format!("user {}", a.target),
    };
    if !subscribers::exists(s, &a.target).await? {
        return Err(not_found());
    }
    if subscribers::exists(s, &a.alias).await? {
        return Err(StoreError::Duplicate {
            what: format!("user {} (an alias cannot take a user's name)", a.alias),
        });
    }
    let [alias_user, alias_domain] = aor_args(&a.alias);
    let [user, domain] = aor_args(&a.target);
    let r = s
        .execute(
            "INSERT INTO aliases (alias_user, alias_domain, username, domain) \
             VALUES (?, ?, ?, ?)",
            &[alias_user, alias_domain, user, domain],
        )
        .await;
    match r {
        Err(e) if violation(&e) == Some(Violation::Unique) => Err(StoreError::Duplicate {
            what: format!("alias {}", a.alias),
        }),
        Err(e) if violation(&e) == Some(Violation::ForeignKey) => Err(not_found()),
        r => r.map(drop).map_err(backend_err),
    }
}

pub(crate) async fn delete(s: &SqlStore, alias: &AddressOfRecord) -> Result<(), StoreError> {
    let n = s
        .execute(
            "DELETE FROM aliases WHERE alias_user = ? AND alias_domain = ?",
            &aor_args(alias),
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

pub(crate) async fn list(s: &SqlStore, domain: Option<&str>) -> Result<Vec<Alias>, StoreError> {
    let select = "SELECT alias_user, alias_domain, username, domain FROM aliases";
    let rows = s
        .fetch_in_domain(
            select,
            "alias_domain",
            domain,
            "alias_user, alias_domain",
            4,
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Alias {
            alias: aor_from(&r),
            target: aor_from(&r[2..]),
        })
        .collect())
}

/// Fails with [`StoreError::Duplicate`] when `aor` is an alias.
pub(crate) async fn refuse_name(s: &SqlStore, aor: &AddressOfRecord) -> Result<(), StoreError> {
    match resolve(s, aor).await? {
        Some(_) => Err(name_taken(aor)),
        None => Ok(()),
    }
}

/// Fails with [`StoreError::Duplicate`] naming the first of `aors` that is an alias (one
/// read of the table for a whole batch).
pub(crate) async fn refuse_names(
    s: &SqlStore,
    aors: &[&AddressOfRecord],
) -> Result<(), StoreError> {
    let aliases: HashSet<AddressOfRecord> = s
        .aliases(None)
        .await?
        .into_iter()
        .map(|a| a.alias)
        .collect();
    match aors.iter().find(|a| aliases.contains(a)) {
        Some(a) => Err(name_taken(a)),
        None => Ok(()),
    }
}

fn name_taken(alias: &AddressOfRecord) -> StoreError {
    StoreError::Duplicate {
        what: format!("alias {alias} (a user cannot take an alias's name)"),
    }
}
