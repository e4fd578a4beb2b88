//! Call-pickup groups (issue 17, docs/presence.md): `*8` dialled by a member picks up a
//! call ringing another member. A group is a name kept as each member's `pickup_group`
//! setting (a user is in at most one group; adding them to another moves them), so no
//! table of its own is needed and a deleted user leaves their group with their settings.

use std::collections::BTreeMap;

use model::{AddressOfRecord, Store, PICKUP_GROUP};

use crate::{AdminError, Change, ChangeNotice, Done};

/// The longest group name.
pub const MAX_PICKUP_GROUP_LEN: usize = 64;

/// Checks a group name: 1 to 64 of letters, digits, `-`, `_`, `.`.
pub fn check_pickup_group(name: &str) -> Result<(), AdminError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_PICKUP_GROUP_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(AdminError::invalid(
            "name",
            format!("name: {name:?} must be 1 to {MAX_PICKUP_GROUP_LEN} of letters, digits, - _ ."),
        ))
    }
}

/// Puts `users` (each an existing user) in group `name`.
pub async fn add_to_pickup_group(
    store: &dyn Store,
    name: &str,
    users: &[AddressOfRecord],
) -> Result<Done, AdminError> {
    check_pickup_group(name)?;
    if users.is_empty() {
        return Err(AdminError::invalid(
            "users",
            "users: name at least one user",
        ));
    }
    for u in users {
        if store.subscriber(u).await?.is_none() {
            return Err(AdminError::not_found(
                "users",
                format!("user {u} not found"),
            ));
        }
    }
    let mut notices = Vec::new();
    for u in users {
        store.set_setting(u, PICKUP_GROUP, name).await?;
        notices.push(ChangeNotice::Settings(u.clone(), Change::Changed));
    }
    Ok(Done::new((), notices))
}

/// Every group and its members, by name.
pub async fn pickup_groups(
    store: &dyn Store,
) -> Result<BTreeMap<String, Vec<AddressOfRecord>>, AdminError> {
    let mut groups: BTreeMap<String, Vec<AddressOfRecord>> = BTreeMap::new();
    for (aor, setting, value) in store.all_settings().await? {
        if setting == PICKUP_GROUP {
            groups.entry(value).or_default().push(aor);
        }
    }
    Ok(groups)
}

/// Deletes group `name` (every member leaves it); the result is how many members it had.
pub async fn delete_pickup_group(store: &dyn Store, name: &str) -> Result<Done<usize>, AdminError> {
    let members = pickup_groups(store).await?.remove(name).unwrap_or_default();
    if members.is_empty() {
        return Err(AdminError::not_found(
            "name",
            format!("pickup group {name} not found"),
        ));
    }
    let mut notices = Vec::new();
    for u in &members {
        store.delete_setting(u, PICKUP_GROUP).await?;
        notices.push(ChangeNotice::Settings(u.clone(), Change::Changed));
    }
    Ok(Done::new(members.len(), notices))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names() {
        assert!(check_pickup_group("sales-1").is_ok());
        assert!(check_pickup_group("").is_err());
        assert!(check_pickup_group("a b").is_err());
        assert!(check_pickup_group(&"x".repeat(65)).is_err());
    }
}
