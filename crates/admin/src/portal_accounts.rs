//! Portal logins: accounts for admins and domain admins (Argon2id hashes, never the
//! password), the check of a portal password, and the check of a SIP user's password
//! against their stored HA1 (users log in to the portal with their SIP password).
//!
//! Sessions, throttling and HTTP are the `portal` crate's; the tables are `storage`'s.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use model::{AddressOfRecord, PortalAccount, PortalRole, PortalStore, Store};
use sip_auth::Algorithm;

use crate::{check_password, check_served, AdminError};

/// Longest portal account name, in bytes.
const MAX_NAME: usize = 64;

/// Checks a portal account name: 1 to 64 of `A-Z a-z 0-9 . _ -` (no `@`, so it never
/// reads like a SIP user's `user@domain` login).
pub fn check_account_name(name: &str) -> Result<(), AdminError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AdminError::invalid(
            "name",
            format!("name {name:?}: 1 to 64 letters, digits, '.', '_' or '-'"),
        ))
    }
}

/// The Argon2id hash (PHC string, random salt, the crate's default cost) of `password`.
pub fn hash_portal_password(password: &str) -> Result<String, AdminError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AdminError::invalid("password", format!("password: {e}")))
}

/// A random password of 20 letters and digits (the demo's first admin).
pub fn generate_password() -> String {
    use rand::Rng as _;
    const CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

/// Adds a portal account. A domain admin's domains must be served here; `password` is
/// asked for once the name and domains have passed their checks.
pub async fn add_portal_account(
    store: &dyn PortalStore,
    name: &str,
    role: PortalRole,
    password: impl FnOnce() -> Result<String, AdminError>,
) -> Result<(), AdminError> {
    check_account_name(name)?;
    let role = match role {
        PortalRole::Admin => PortalRole::Admin,
        PortalRole::DomainAdmin(ds) => {
            let mut checked = Vec::with_capacity(ds.len());
            for d in ds {
                let d = crate::check_domain(&d)?;
                check_served(store, &d).await?;
                checked.push(d);
            }
            checked.sort();
            checked.dedup();
            PortalRole::DomainAdmin(checked)
        }
    };
    let password = password()?;
    check_password(&password)?;
    let account = PortalAccount {
        name: name.to_string(),
        password_hash: hash_portal_password(&password)?,
        role,
    };
    store.add_portal_account(&account).await?;
    Ok(())
}

/// The account `name` when `password` is its password; `None` otherwise (an unknown name
/// costs a hash too, so timing does not tell names apart).
pub async fn check_portal_login(
    store: &dyn PortalStore,
    name: &str,
    password: &str,
) -> Result<Option<PortalAccount>, AdminError> {
    let account = store.portal_account(name).await?;
    let hash = match &account {
        Some(a) => a.password_hash.as_str(),
        None => dummy_hash(),
    };
    let good = PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false);
    Ok(account.filter(|_| good))
}

/// Argon2id of a random password nobody has, checked for unknown names.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_portal_password(&generate_password()).unwrap_or_default())
}

/// Whether `password` is the SIP password of `user`: its MD5 HA1 (realm = domain) equals
/// the stored one. `false` for an unknown user.
pub async fn check_sip_login(
    store: &dyn Store,
    user: &AddressOfRecord,
    password: &str,
) -> Result<bool, AdminError> {
    let Some(sub) = store.subscriber(user).await? else {
        return Ok(false);
    };
    let ha1 = sip_auth::ha1(Algorithm::Md5, &sub.aor.user, &sub.aor.domain, password);
    if !constant_time_eq(ha1.as_bytes(), sub.ha1_md5.as_bytes()) {
        return Ok(false);
    }
    // A disabled account logs in nowhere.
    Ok(crate::users::disabled_reason(store, user).await?.is_none())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MemoryStore;

    #[tokio::test]
    async fn portal_passwords_are_argon2id_and_checked() {
        let store = MemoryStore::new();
        add_portal_account(&store, "root", PortalRole::Admin, || Ok("s3cret".into()))
            .await
            .unwrap();
        let stored = store.portal_account("root").await.unwrap().unwrap();
        assert!(stored.password_hash.starts_with("$argon2id$"));
        assert!(!stored.password_hash.contains("s3cret"));
        assert!(check_portal_login(&store, "root", "s3cret")
            .await
            .unwrap()
            .is_some());
        assert!(check_portal_login(&store, "root", "wrong")
            .await
            .unwrap()
            .is_none());
        assert!(check_portal_login(&store, "nobody", "s3cret")
            .await
            .unwrap()
            .is_none());
        assert!(
            add_portal_account(&store, "a@b", PortalRole::Admin, || Ok("x".into()))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_domain_admin_needs_served_domains() {
        let store = MemoryStore::new();
        crate::add_domain(&store, "example.com").await.unwrap();
        let role = PortalRole::DomainAdmin(vec!["Example.com".into()]);
        add_portal_account(&store, "ops", role, || Ok("pw".into()))
            .await
            .unwrap();
        assert_eq!(
            store.portal_account("ops").await.unwrap().unwrap().role,
            PortalRole::DomainAdmin(vec!["example.com".into()])
        );
        let role = PortalRole::DomainAdmin(vec!["other.org".into()]);
        let e = add_portal_account(&store, "ops2", role, || Ok("pw".into()))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("domain"));
    }

    #[tokio::test]
    async fn sip_users_log_in_with_their_sip_password() {
        let store = MemoryStore::new();
        crate::add_domain(&store, "example.com").await.unwrap();
        let alice = AddressOfRecord::new("alice", "example.com");
        crate::add_user(&store, &alice, || Ok("pw1".into()))
            .await
            .unwrap();
        assert!(check_sip_login(&store, &alice, "pw1").await.unwrap());
        assert!(!check_sip_login(&store, &alice, "pw2").await.unwrap());
        let bob = AddressOfRecord::new("bob", "example.com");
        assert!(!check_sip_login(&store, &bob, "pw1").await.unwrap());
    }

    #[test]
    fn generated_passwords_differ() {
        assert_eq!(generate_password().len(), 20);
        assert_ne!(generate_password(), generate_password());
    }
}
