//! Users: add (validated, both digest HA1s computed), change the password, delete (with
//! the aliases that reach them).

use model::{prune_settings, validate, AddressOfRecord, Store, Subscriber};
use sip_auth::Algorithm;

use crate::domains::{check_served, settings_notices};
use crate::{AdminError, Change, ChangeNotice, Done};

/// Longest password accepted, in bytes.
const MAX_PASSWORD: usize = 256;

/// Checks USER@DOMAIN: a valid SIP user part at a valid domain; `field` names it in
/// errors.
pub fn check_aor(field: &'static str, aor: &AddressOfRecord) -> Result<(), AdminError> {
    validate::check_user_part(field, &aor.user)?;
    validate::check_host(field, &aor.domain)?;
    Ok(())
}

/// Checks a password: not empty, at most 256 bytes.
pub fn check_password(p: &str) -> Result<(), AdminError> {
    if p.is_empty() {
        return Err(AdminError::invalid(
            "password",
            "password: must not be empty",
        ));
    }
    if p.len() > MAX_PASSWORD {
        return Err(AdminError::invalid(
            "password",
            "password: longer than 256 characters",
        ));
    }
    Ok(())
}

/// A subscriber with both HA1 hashes computed from a password (realm = domain). The
/// password itself is never stored.
pub fn subscriber_with_password(aor: &AddressOfRecord, password: &str) -> Subscriber {
    Subscriber {
        aor: aor.clone(),
        ha1_md5: sip_auth::ha1(Algorithm::Md5, &aor.user, &aor.domain, password),
        ha1_sha256: sip_auth::ha1(Algorithm::Sha256, &aor.user, &aor.domain, password),
    }
}

/// The subscriber for a password asked for now and checked.
fn hashed(
    user: &AddressOfRecord,
    password: impl FnOnce() -> Result<String, AdminError>,
) -> Result<Subscriber, AdminError> {
    let password = password()?;
    check_password(&password)?;
    Ok(subscriber_with_password(user, &password))
}

/// Adds a user. `password` is asked for only once the name has passed its checks (a
/// front end may prompt for it), then checked with [`check_password`].
pub async fn add_user(
    store: &dyn Store,
    user: &AddressOfRecord,
    password: impl FnOnce() -> Result<String, AdminError>,
) -> Result<Done, AdminError> {
    check_aor("user", user)?;
    check_served(store, &user.domain).await?;
    if let Some(target) = store.resolve_alias(user).await? {
        return Err(AdminError::conflict(
            "user",
            format!("user {user}: the name is taken by alias {user} -> {target}"),
        ));
    }
    store.add_subscriber(&hashed(user, password)?).await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::User(user.clone(), Change::Added)],
    ))
}

/// Replaces a user's hashes with those of a new password (asked for once the user is
/// known to exist).
pub async fn set_password(
    store: &dyn Store,
    user: &AddressOfRecord,
    password: impl FnOnce() -> Result<String, AdminError>,
) -> Result<Done, AdminError> {
    if store.subscriber(user).await?.is_none() {
        return Err(AdminError::not_found(
            "user",
            format!("user {user} not found"),
        ));
    }
    store.update_subscriber(&hashed(user, password)?).await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::User(user.clone(), Change::Changed)],
    ))
}

/// Deletes a user; the store deletes the aliases reaching it, its settings and bindings,
/// and prunes forwarding and find-me entries of other users that pointed at it or at
/// those aliases (each such user gets a settings notice).
pub async fn delete_user(store: &dyn Store, user: &AddressOfRecord) -> Result<Done, AdminError> {
    let aliases: Vec<AddressOfRecord> = store
        .aliases(None)
        .await?
        .into_iter()
        .filter(|a| a.target == *user)
        .map(|a| a.alias)
        .collect();
    let pruned = prune_settings(&store.all_settings().await?, |a| {
        a == user || aliases.contains(a)
    });
    store.delete_subscriber(user).await?;
    let mut notices = vec![ChangeNotice::User(user.clone(), Change::Removed)];
    notices.extend(
        aliases
            .into_iter()
            .map(|a| ChangeNotice::Alias(a, Change::Removed)),
    );
    notices.extend(settings_notices(pruned.into_iter().map(|(aor, _, _)| aor)));
    Ok(Done::new((), notices))
}

/// Longest reason kept for a disabled account.
pub const MAX_DISABLED_REASON: usize = 200;

/// Disables `user`'s account: their REGISTERs and calls are refused with 403 until
/// [`enable_user`]; `reason` (shown in the refusal's log line and to admins; empty: "disabled
/// by an admin") is kept. Registrations are the front end's to remove.
pub async fn disable_user(
    store: &dyn Store,
    user: &AddressOfRecord,
    reason: &str,
) -> Result<Done, AdminError> {
    let reason = reason.trim();
    if reason.chars().count() > MAX_DISABLED_REASON || reason.contains(['\r', '\n']) {
        return Err(AdminError::invalid(
            "reason",
            format!("reason: one line of at most {MAX_DISABLED_REASON} characters"),
        ));
    }
    if store.subscriber(user).await?.is_none() {
        return Err(AdminError::not_found(
            "user",
            format!("user {user} not found"),
        ));
    }
    let reason = if reason.is_empty() {
        "disabled by an admin"
    } else {
        reason
    };
    store.set_setting(user, model::DISABLED, reason).await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::Settings(user.clone(), Change::Changed)],
    ))
}

/// Enables a disabled account again; answers whether it was disabled.
pub async fn enable_user(
    store: &dyn Store,
    user: &AddressOfRecord,
) -> Result<Done<bool>, AdminError> {
    if store.subscriber(user).await?.is_none() {
        return Err(AdminError::not_found(
            "user",
            format!("user {user} not found"),
        ));
    }
    let was = store.delete_setting(user, model::DISABLED).await?;
    Ok(Done::new(
        was,
        vec![ChangeNotice::Settings(user.clone(), Change::Changed)],
    ))
}

/// Why `user`'s account is disabled, when it is.
pub async fn disabled_reason(
    store: &dyn Store,
    user: &AddressOfRecord,
) -> Result<Option<String>, AdminError> {
    Ok(store
        .settings(user)
        .await?
        .into_iter()
        .find(|(name, _)| name == model::DISABLED)
        .map(|(_, why)| why))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod disable_tests {
    use super::*;
    use model::MemoryStore;

    #[tokio::test]
    async fn disabling_keeps_a_reason_and_enabling_removes_it() {
        let s = MemoryStore::new();
        let alice = AddressOfRecord::new("alice", "example.com");
        let e = disable_user(&s, &alice, "").await.unwrap_err();
        assert_eq!(e.http_status(), 404);
        crate::add_domain(&s, "example.com").await.unwrap();
        add_user(&s, &alice, || Ok("pw".into())).await.unwrap();
        let e = disable_user(&s, &alice, "two\nlines").await.unwrap_err();
        assert_eq!(e.field(), Some("reason"));
        disable_user(&s, &alice, "").await.unwrap();
        assert_eq!(
            disabled_reason(&s, &alice).await.unwrap().as_deref(),
            Some("disabled by an admin")
        );
        assert!(!crate::check_sip_login(&s, &alice, "pw").await.unwrap());
        assert!(enable_user(&s, &alice).await.unwrap().result);
        assert!(!enable_user(&s, &alice).await.unwrap().result);
        assert!(crate::check_sip_login(&s, &alice, "pw").await.unwrap());
    }
}
