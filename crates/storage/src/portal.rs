//! The portal's tables: `portal_accounts` (login name, Argon2id hash, role),
//! `portal_account_domains` (a domain admin's domains), `portal_audit` (who did what, when,
//! from where; bounded), and the keyset-paged user list over the
//! `subscribers (domain, username)` index.

use futures_util::TryStreamExt;
use model::{AddressOfRecord, AuditEntry, PortalAccount, PortalRole, StoreError, UserQuery};
use sqlx::Row;

use crate::db::{
    aor_from, backend_err, str_arg, text, time_arg, unix_now, violation, Arg, Violation,
};
use crate::SqlStore;

pub(crate) async fn account(s: &SqlStore, name: &str) -> Result<Option<PortalAccount>, StoreError> {
    let rows = s
        .fetch_strings(
            "SELECT password_hash, role FROM portal_accounts WHERE name = ?",
            &[str_arg(name)],
            2,
        )
        .await?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    let role = if row[1] == "admin" {
        PortalRole::Admin
    } else {
        let domains = s
            .fetch_strings(
                "SELECT domain FROM portal_account_domains WHERE name = ? ORDER BY domain",
                &[str_arg(name)],
                1,
            )
            .await?;
        PortalRole::DomainAdmin(domains.into_iter().flatten().collect())
    };
    Ok(Some(PortalAccount {
        name: name.to_string(),
        password_hash: row[0].clone(),
        role,
    }))
}

pub(crate) async fn add_account(s: &SqlStore, a: &PortalAccount) -> Result<(), StoreError> {
    let insert = s
        .sql("INSERT INTO portal_accounts (name, password_hash, role, created_at) VALUES (?, ?, ?, ?)")
        .into_owned();
    let domain_insert = s
        .sql("INSERT INTO portal_account_domains (name, domain) VALUES (?, ?)")
        .into_owned();
    let (name, hash, role, now) = (
        str_arg(&a.name),
        str_arg(&a.password_hash),
        str_arg(a.role.name()),
        Arg::Int(unix_now()),
    );
    let domains: Vec<Arg<'_>> = match &a.role {
        PortalRole::Admin => Vec::new(),
        PortalRole::DomainAdmin(ds) => ds.iter().map(|d| crate::db::lower(d)).collect(),
    };
    let mut stmts = vec![(insert.into(), vec![&name, &hash, &role, &now])];
    for d in &domains {
        stmts.push((domain_insert.clone().into(), vec![&name, d]));
    }
    match s.transaction(&stmts, false).await {
        Ok(_) => Ok(()),
        Err(e) if violation(&e) == Some(Violation::Unique) => Err(StoreError::Duplicate {
            what: format!("portal account {}", a.name),
        }),
        Err(e) => Err(backend_err(e)),
    }
}

pub(crate) async fn set_password(s: &SqlStore, name: &str, hash: &str) -> Result<(), StoreError> {
    let n = s
        .execute(
            "UPDATE portal_accounts SET password_hash = ? WHERE name = ?",
            &[str_arg(hash), str_arg(name)],
        )
        .await
        .map_err(backend_err)?;
    if n == 0 && account(s, name).await?.is_none() {
        return Err(StoreError::NotFound {
            what: format!("portal account {name}"),
        });
    }
    Ok(())
}

pub(crate) async fn count(s: &SqlStore) -> Result<u64, StoreError> {
    let sql = "SELECT COUNT(*) FROM portal_accounts";
    let n: i64 = with_pool!(&s.pool, p => sqlx::query_scalar(sql).fetch_one(p).await)
        .map_err(backend_err)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(crate) async fn append_audit(
    s: &SqlStore,
    e: &AuditEntry,
    keep: u64,
) -> Result<(), StoreError> {
    s.execute(
        "INSERT INTO portal_audit (at, actor, source, action, object) VALUES (?, ?, ?, ?, ?)",
        &[
            Arg::Int(time_arg(e.at)),
            str_arg(&e.actor),
            str_arg(&e.source),
            str_arg(&e.action),
            str_arg(&e.object),
        ],
    )
    .await
    .map_err(backend_err)?;
    // The log is bounded: entries older than the newest `keep` go (ids only grow).
    let newest = audit(s, None, 1).await?.first().map_or(0, |e| e.id);
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    if newest > keep {
        s.execute(
            "DELETE FROM portal_audit WHERE id <= ?",
            &[Arg::Int(newest - keep)],
        )
        .await
        .map_err(backend_err)?;
    }
    Ok(())
}

pub(crate) async fn audit(
    s: &SqlStore,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let sql = s
        .sql(
            "SELECT id, at, actor, source, action, object FROM portal_audit \
             WHERE id < ? ORDER BY id DESC LIMIT ?",
        )
        .into_owned();
    let before = before.unwrap_or(i64::MAX);
    let limit = i64::from(limit);
    with_pool!(&s.pool, p => {
        sqlx::query(&sql)
            .bind(before)
            .bind(limit)
            .fetch(p)
            .and_then(|r| {
                std::future::ready((|| {
                    let at: i64 = r.try_get(1)?;
                    Ok(AuditEntry {
                        id: r.try_get(0)?,
                        at: u64::try_from(at).unwrap_or(0),
                        actor: text(&r, 2)?,
                        source: text(&r, 3)?,
                        action: text(&r, 4)?,
                        object: text(&r, 5)?,
                    })
                })())
            })
            .try_collect()
            .await
    })
    .map_err(backend_err)
}

pub(crate) async fn user_page(
    s: &SqlStore,
    q: &UserQuery,
) -> Result<Vec<AddressOfRecord>, StoreError> {
    let mut sql = String::from("SELECT username, domain FROM subscribers WHERE 1 = 1");
    let mut args: Vec<Arg<'_>> = Vec::new();
    // Keyset paging must be an index range: one domain is `domain = ? AND username > ?`,
    // otherwise the row value `(domain, username) > (?, ?)` (an OR of the two spelled out
    // made SQLite scan the whole domain: 45 ms a page at 100,000 users, against 1).
    let single = q
        .domains
        .as_ref()
        .filter(|ds| ds.len() == 1)
        .map(|ds| &ds[0]);
    match (&q.domains, single) {
        (Some(ds), _) if ds.is_empty() => return Ok(Vec::new()),
        (_, Some(d)) => {
            sql.push_str(" AND domain = ?");
            args.push(crate::db::lower(d));
        }
        (Some(ds), None) => {
            sql.push_str(&format!(
                " AND domain IN ({})",
                vec!["?"; ds.len()].join(", ")
            ));
            args.extend(ds.iter().map(|d| crate::db::lower(d)));
        }
        (None, _) => {}
    }
    if !q.prefix.is_empty() {
        // A range instead of LIKE: no escaping of % and _, and it uses the index.
        sql.push_str(" AND username >= ? AND username < ?");
        args.push(str_arg(&q.prefix));
        args.push(Arg::Str(prefix_end(&q.prefix).into()));
    }
    if let Some(after) = &q.after {
        if single.is_some_and(|d| d.eq_ignore_ascii_case(&after.domain)) {
            sql.push_str(" AND username > ?");
        } else {
            sql.push_str(" AND (domain, username) > (?, ?)");
            args.push(crate::db::lower(&after.domain));
        }
        args.push(str_arg(&after.user));
    }
    sql.push_str(" ORDER BY domain, username LIMIT ?");
    args.push(Arg::Int(i64::from(q.limit)));
    let rows = s.fetch_strings(&sql, &args, 2).await?;
    Ok(rows.iter().map(|r| aor_from(r)).collect())
}

/// The smallest string greater than every string starting with `prefix`: its last
/// character raised by one (the user list's search is by prefix).
fn prefix_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    String::from(char::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefix_end_is_just_past_the_prefix() {
        assert_eq!(super::prefix_end("al"), "am");
        assert_eq!(super::prefix_end("1"), "2");
        assert!("alice".as_bytes() < super::prefix_end("al").as_bytes());
    }
}
