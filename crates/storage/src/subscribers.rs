//! The `subscribers` table: users and their HA1 digests, one by one and in batches (`user
//! import`). A user's name may not be an alias's (`aliases.rs` checks); deleting a user takes
//! its aliases, bindings and settings, and other users' entries pointing at it.

use std::borrow::Cow;
use std::collections::HashSet;

use model::{AddressOfRecord, Store, StoreError, Subscriber};

use crate::db::{
    aor_args, aor_from, backend_err, lower, str_arg, unix_now, violation, Arg, Violation,
    BATCH_ROWS,
};
use crate::dialect::values;
use crate::{aliases, domains, SqlStore};

const INSERT: &str =
    "INSERT INTO subscribers (username, domain, ha1_md5, ha1_sha256, created_at) VALUES ";

/// The parameters of one row of [`INSERT`] but the last, `created_at`.
fn row_args<'a>(s: &'a Subscriber, domain: &'a str) -> [Arg<'a>; 4] {
    [
        str_arg(&s.aor.user),
        str_arg(domain),
        str_arg(&s.ha1_md5),
        str_arg(&s.ha1_sha256),
    ]
}

impl SqlStore {
    /// Inserts many subscribers, 500 per multi-row INSERT, each batch in its own
    /// transaction (a failed batch writes nothing; earlier batches stay committed). Every
    /// domain must exist ([`StoreError::NotFound`]) and no user may exist already
    /// ([`StoreError::Duplicate`], naming the batch's first user). Returns how many were added.
    pub async fn add_subscribers(&self, subs: &[Subscriber]) -> Result<u64, StoreError> {
        let now = Arg::Int(unix_now());
        aliases::refuse_names(self, &subs.iter().map(|s| &s.aor).collect::<Vec<_>>()).await?;
        let mut added = 0;
        for chunk in subs.chunks(BATCH_ROWS) {
            let domains: Vec<String> = chunk
                .iter()
                .map(|s| s.aor.domain.to_ascii_lowercase())
                .collect();
            let args: Vec<[Arg<'_>; 4]> = chunk
                .iter()
                .zip(&domains)
                .map(|(s, d)| row_args(s, d))
                .collect();
            let sql = self
                .sql(&format!("{INSERT}{}", values(5, chunk.len())))
                .into_owned();
            let params: Vec<&Arg<'_>> = args
                .iter()
                .flat_map(|row| row.iter().chain(std::iter::once(&now)))
                .collect();
            let first = || chunk.first().map(|s| s.aor.to_string()).unwrap_or_default();
            match self.transaction(&[(Cow::Owned(sql), params)], false).await {
                Ok(_) => added += chunk.len() as u64,
                Err(e) => {
                    return Err(match violation(&e) {
                        Some(Violation::Unique) => StoreError::Duplicate {
                            what: format!("a user in the batch starting with {}", first()),
                        },
                        Some(Violation::ForeignKey) => StoreError::NotFound {
                            what: format!("a domain in the batch starting with {}", first()),
                        },
                        None => backend_err(e),
                    })
                }
            }
        }
        Ok(added)
    }
}

/// Whether `aor` is a user.
pub(crate) async fn exists(s: &SqlStore, aor: &AddressOfRecord) -> Result<bool, StoreError> {
    let sql = "SELECT username FROM subscribers WHERE username = ? AND domain = ?";
    Ok(!s.fetch_strings(sql, &aor_args(aor), 1).await?.is_empty())
}

pub(crate) async fn get(
    s: &SqlStore,
    aor: &AddressOfRecord,
) -> Result<Option<Subscriber>, StoreError> {
    let rows = s
        .fetch_strings(
            "SELECT ha1_md5, ha1_sha256 FROM subscribers WHERE username = ? AND domain = ?",
            &aor_args(aor),
            2,
        )
        .await?;
    Ok(rows.into_iter().next().map(|mut r| Subscriber {
        aor: AddressOfRecord::new(&aor.user, &aor.domain),
        ha1_sha256: r.pop().unwrap_or_default(),
        ha1_md5: r.pop().unwrap_or_default(),
    }))
}

pub(crate) async fn add(s: &SqlStore, sub: &Subscriber) -> Result<(), StoreError> {
    let d = sub.aor.domain.to_ascii_lowercase();
    let missing_domain = || StoreError::NotFound {
        what: format!("domain {d}"),
    };
    if !domains::exists(s, &d).await? {
        return Err(missing_domain());
    }
    aliases::refuse_name(s, &sub.aor).await?;
    let [u, dom, md5, sha256] = row_args(sub, &d);
    let r = s
        .execute(
            &format!("{INSERT}{}", values(5, 1)),
            &[u, dom, md5, sha256, Arg::Int(unix_now())],
        )
        .await;
    match r {
        Err(e) if violation(&e) == Some(Violation::Unique) => Err(StoreError::Duplicate {
            what: format!("user {}", sub.aor),
        }),
        Err(e) if violation(&e) == Some(Violation::ForeignKey) => Err(missing_domain()),
        r => r.map(drop).map_err(backend_err),
    }
}

pub(crate) async fn update(s: &SqlStore, sub: &Subscriber) -> Result<(), StoreError> {
    let [u, d] = aor_args(&sub.aor);
    let n = s
        .execute(
            "UPDATE subscribers SET ha1_md5 = ?, ha1_sha256 = ? \
             WHERE username = ? AND domain = ?",
            &[str_arg(&sub.ha1_md5), str_arg(&sub.ha1_sha256), u, d],
        )
        .await
        .map_err(backend_err)?;
    // MySQL counts changed rows, not matched ones: an update to the same hashes is 0.
    if n == 0 && !exists(s, &sub.aor).await? {
        return Err(StoreError::NotFound {
            what: format!("user {}", sub.aor),
        });
    }
    Ok(())
}

pub(crate) async fn delete(s: &SqlStore, aor: &AddressOfRecord) -> Result<(), StoreError> {
    let (u, d) = (str_arg(&aor.user), lower(&aor.domain));
    let deletes = [
        "DELETE FROM subscribers WHERE username = ? AND domain = ?",
        "DELETE FROM aliases WHERE username = ? AND domain = ?",
        "DELETE FROM bindings WHERE username = ? AND domain = ?",
        "DELETE FROM user_settings WHERE username = ? AND domain = ?",
        "DELETE FROM presence_rules WHERE username = ? AND domain = ?",
    ]
    .map(|sql| (sql, vec![&u, &d]));
    // Other users' forwarding and find-me rows pointing at this user, or at one of
    // its aliases, go with it.
    let names: HashSet<AddressOfRecord> = s
        .aliases(None)
        .await?
        .into_iter()
        .filter(|a| a.target == *aor)
        .map(|a| a.alias)
        .chain(std::iter::once(aor.clone()))
        .collect();
    s.delete_and_prune(&deletes, |x| names.contains(x), || format!("user {aor}"))
        .await
}

pub(crate) async fn list(
    s: &SqlStore,
    domain: Option<&str>,
) -> Result<Vec<Subscriber>, StoreError> {
    let select = "SELECT username, domain, ha1_md5, ha1_sha256 FROM subscribers";
    let rows = s
        .fetch_in_domain(select, "domain", domain, "username, domain", 4)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Subscriber {
            aor: aor_from(&r),
            ha1_md5: r[2].clone(),
            ha1_sha256: r[3].clone(),
        })
        .collect())
}
