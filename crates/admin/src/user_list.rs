//! The user list as front ends page through it: a bounded page size, a search prefix
//! checked like a user part, and the scope (the domains a domain admin may see).

use model::{AddressOfRecord, PortalStore, UserQuery};

use crate::AdminError;

/// Largest page a front end may ask for.
pub const MAX_PAGE: u32 = 200;

/// One page of users in (domain, user) order: of `domains` (all when `None`), whose name
/// starts with `prefix`, after `after`; `limit` is capped at [`MAX_PAGE`].
pub async fn list_users(
    store: &dyn PortalStore,
    domains: Option<Vec<String>>,
    prefix: &str,
    after: Option<AddressOfRecord>,
    limit: u32,
) -> Result<Vec<AddressOfRecord>, AdminError> {
    if prefix.len() > 255 || prefix.chars().any(char::is_control) {
        return Err(AdminError::invalid(
            "search",
            "search: at most 255 printable characters",
        ));
    }
    let query = UserQuery {
        domains,
        prefix: prefix.to_string(),
        after,
        limit: limit.clamp(1, MAX_PAGE),
    };
    Ok(store.user_page(&query).await?)
}
