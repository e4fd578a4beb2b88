//! Stored instant messages (issue 17, docs/messages.md): list the messages kept for
//! offline users, and purge them (all, one user's, or those older than some days). The
//! proxy stores and delivers them; nothing here sends anything or tells a running server
//! (its gauge is recounted by its message task within a minute).

use model::{AddressOfRecord, ImStore, InstantMessage};

use crate::AdminError;

/// The messages waiting (for `user` only, when given), by recipient then oldest first.
pub async fn list_instant_messages(
    store: &dyn ImStore,
    user: Option<&AddressOfRecord>,
) -> Result<Vec<InstantMessage>, AdminError> {
    Ok(store.instant_messages(user).await?)
}

/// Deletes messages (of `user` only, when given); with `older_than_days`, only those
/// received that many days before `now` (Unix seconds). Answers how many went.
pub async fn purge_instant_messages(
    store: &dyn ImStore,
    user: Option<&AddressOfRecord>,
    older_than_days: Option<u32>,
    now: u64,
) -> Result<u64, AdminError> {
    let before = match older_than_days {
        None => u64::MAX,
        Some(0) => {
            return Err(AdminError::invalid(
                "older-than-days",
                "older-than-days: must be at least 1",
            ))
        }
        Some(d) => now.saturating_sub(u64::from(d) * 86_400),
    };
    Ok(store.purge_instant_messages(user, before).await?)
}
