//! Domains: add, delete (with everything in them), and the "is it served here" check the
//! other use cases share.

use model::{prune_settings, validate, Store};

use crate::{AdminError, Change, ChangeNotice, Done};

/// Checks a domain name or IP literal (RFC 1123; no scheme, no port); returns it
/// lowercased.
pub fn check_domain(domain: &str) -> Result<String, AdminError> {
    Ok(validate::check_domain(domain)?)
}

/// Fails with `domain D is not served here` unless the store serves `domain`.
pub async fn check_served(store: &dyn Store, domain: &str) -> Result<(), AdminError> {
    let served = store.domains().await?;
    if !served.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
        return Err(AdminError::not_found(
            "domain",
            format!("domain {domain} is not served here"),
        ));
    }
    Ok(())
}

/// Serves a new domain; the result is its normalised name.
pub async fn add_domain(store: &dyn Store, domain: &str) -> Result<Done<String>, AdminError> {
    let d = check_domain(domain)?;
    store.add_domain(&d).await?;
    let notice = ChangeNotice::Domain(d.clone(), Change::Added);
    Ok(Done::new(d, vec![notice]))
}

/// Stops serving a domain; the store deletes its users, aliases, settings and bindings,
/// and prunes other users' forwarding and find-me entries that pointed into it (each such
/// user gets a settings notice). The result is the normalised name.
pub async fn delete_domain(store: &dyn Store, domain: &str) -> Result<Done<String>, AdminError> {
    let d = check_domain(domain)?;
    let pruned = prune_settings(&store.all_settings().await?, |a| a.domain == d);
    store.delete_domain(&d).await?;
    let mut notices = vec![ChangeNotice::Domain(d.clone(), Change::Removed)];
    notices.extend(settings_notices(pruned.into_iter().map(|(aor, _, _)| aor)));
    Ok(Done::new(d, notices))
}

/// One settings notice per distinct owner, in order.
pub(crate) fn settings_notices(
    owners: impl IntoIterator<Item = model::AddressOfRecord>,
) -> Vec<ChangeNotice> {
    let mut seen = Vec::new();
    for aor in owners {
        if !seen.contains(&aor) {
            seen.push(aor);
        }
    }
    seen.into_iter()
        .map(|a| ChangeNotice::Settings(a, Change::Changed))
        .collect()
}
