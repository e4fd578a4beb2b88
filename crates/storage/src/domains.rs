//! The `domains` table: the SIP domains this server is responsible for. Deleting a domain
//! takes its users, aliases, bindings and settings with it, and other users' forwarding and
//! find-me entries into it (`settings.rs` says which).

use model::StoreError;

use crate::db::{backend_err, str_arg, violation, Violation};
use crate::SqlStore;

pub(crate) async fn list(s: &SqlStore) -> Result<Vec<String>, StoreError> {
    let rows = s
        .fetch_strings("SELECT domain FROM domains ORDER BY domain", &[], 1)
        .await?;
    Ok(rows.into_iter().flatten().collect())
}

/// Whether `domain` (in lower case) is one of ours.
pub(crate) async fn exists(s: &SqlStore, domain: &str) -> Result<bool, StoreError> {
    let sql = "SELECT domain FROM domains WHERE domain = ?";
    Ok(!s
        .fetch_strings(sql, &[str_arg(domain)], 1)
        .await?
        .is_empty())
}

pub(crate) async fn add(s: &SqlStore, domain: &str) -> Result<(), StoreError> {
    let d = domain.to_ascii_lowercase();
    match s
        .execute("INSERT INTO domains (domain) VALUES (?)", &[str_arg(&d)])
        .await
    {
        Err(e) if violation(&e) == Some(Violation::Unique) => Err(StoreError::Duplicate {
            what: format!("domain {d}"),
        }),
        r => r.map(drop).map_err(backend_err),
    }
}

pub(crate) async fn delete(s: &SqlStore, domain: &str) -> Result<(), StoreError> {
    let d = domain.to_ascii_lowercase();
    let a = str_arg(&d);
    let stmts = [
        "DELETE FROM domains WHERE domain = ?",
        "DELETE FROM bindings WHERE domain = ?",
        "DELETE FROM aliases WHERE alias_domain = ? OR domain = ?",
        "DELETE FROM user_settings WHERE domain = ?",
        "DELETE FROM subscribers WHERE domain = ?",
        "DELETE FROM portal_account_domains WHERE domain = ?",
    ];
    // The first statement is the existence guard; the rest do what the foreign keys
    // would, plus aliases in this domain that point elsewhere and orphan bindings.
    // Other users' forwarding and find-me rows into this domain go with it.
    let deletes: Vec<_> = stmts
        .iter()
        .map(|sql| (*sql, vec![&a; sql.matches('?').count()]))
        .collect();
    s.delete_and_prune(&deletes, |x| x.domain == d, || format!("domain {d}"))
        .await
}
