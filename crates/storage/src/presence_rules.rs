//! The `presence_rules` table: per-user watcher rules (allow or deny one watcher the
//! user's dialog and presence subscriptions; `model::PresenceRule`). Rows go with their
//! user (a foreign key with ON DELETE CASCADE, and the user's delete).

use model::{AddressOfRecord, PresenceRule, StoreError, WatcherRule};

use crate::db::{aor_args, backend_err, str_arg, violation, Violation};
use crate::SqlStore;

const KEY: [&str; 3] = ["username", "domain", "watcher"];

/// Every rule, or `watched`'s, ordered by user and watcher.
pub(crate) async fn list(
    s: &SqlStore,
    watched: Option<&AddressOfRecord>,
) -> Result<Vec<PresenceRule>, StoreError> {
    let select = "SELECT username, domain, watcher, rule FROM presence_rules";
    let rows = match watched {
        Some(a) => {
            let sql = format!("{select} WHERE username = ? AND domain = ? ORDER BY watcher");
            s.fetch_strings(&sql, &aor_args(a), 4).await?
        }
        None => {
            let sql = format!("{select} ORDER BY username, domain, watcher");
            s.fetch_strings(&sql, &[], 4).await?
        }
    };
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(PresenceRule {
                watched: AddressOfRecord::new(&r[0], &r[1]),
                watcher: AddressOfRecord::parse(&r[2])?,
                rule: WatcherRule::parse(&r[3])?,
            })
        })
        .collect())
}

/// Inserts or replaces a rule of an existing user ([`StoreError::NotFound`] otherwise).
pub(crate) async fn set(s: &SqlStore, r: &PresenceRule) -> Result<(), StoreError> {
    let not_found = || StoreError::NotFound {
        what: format!("user {}", r.watched),
    };
    if !crate::subscribers::exists(s, &r.watched).await? {
        return Err(not_found());
    }
    let sql = format!(
        "INSERT INTO presence_rules (username, domain, watcher, rule) VALUES (?, ?, ?, ?) {}",
        s.backend().upsert(&KEY, &["rule"])
    );
    let [user, domain] = aor_args(&r.watched);
    let watcher = r.watcher.to_string();
    match s
        .execute(
            &sql,
            &[user, domain, str_arg(&watcher), str_arg(r.rule.as_str())],
        )
        .await
    {
        Err(e) if violation(&e) == Some(Violation::ForeignKey) => Err(not_found()),
        r => r.map(drop).map_err(backend_err),
    }
}

/// Removes `watched`'s rule about `watcher`; false when there was none.
pub(crate) async fn delete(
    s: &SqlStore,
    watched: &AddressOfRecord,
    watcher: &AddressOfRecord,
) -> Result<bool, StoreError> {
    let [user, domain] = aor_args(watched);
    let watcher = watcher.to_string();
    let n = s
        .execute(
            "DELETE FROM presence_rules WHERE username = ? AND domain = ? AND watcher = ?",
            &[user, domain, str_arg(&watcher)],
        )
        .await
        .map_err(backend_err)?;
    Ok(n > 0)
}
