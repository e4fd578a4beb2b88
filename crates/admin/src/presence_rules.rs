//! Presence watcher rules (issue 17, docs/presence.md): a user allows or denies one
//! watcher its dialog-state (BLF) and presence subscriptions. `deny` refuses the watcher
//! (`403 Watcher Denied`) even from the user's own domain; `allow` admits a watcher of
//! another local domain. The watched user must exist; the watcher is any address of
//! record (a user of another server may be denied before it ever asks).

use model::{AddressOfRecord, PresenceRule, Store, WatcherRule};

use crate::{AdminError, Change, ChangeNotice, Done};

/// Sets `watched`'s rule about `watcher` (replacing any earlier one).
pub async fn set_presence_rule(
    store: &dyn Store,
    watched: &AddressOfRecord,
    watcher: &AddressOfRecord,
    rule: WatcherRule,
) -> Result<Done, AdminError> {
    if watched == watcher {
        return Err(AdminError::invalid(
            "watcher",
            format!("watcher: {watcher} is the user itself (a user always sees its own state)"),
        ));
    }
    if store.subscriber(watched).await?.is_none() {
        return Err(AdminError::not_found(
            "user",
            format!("user {watched} not found"),
        ));
    }
    store
        .set_presence_rule(&PresenceRule {
            watched: watched.clone(),
            watcher: watcher.clone(),
            rule,
        })
        .await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::PresenceRules(
            watched.clone(),
            Change::Changed,
        )],
    ))
}

/// Removes `watched`'s rule about `watcher` (not found: an error naming it).
pub async fn delete_presence_rule(
    store: &dyn Store,
    watched: &AddressOfRecord,
    watcher: &AddressOfRecord,
) -> Result<Done, AdminError> {
    if !store.delete_presence_rule(watched, watcher).await? {
        return Err(AdminError::not_found(
            "watcher",
            format!("{watched} has no rule about {watcher}"),
        ));
    }
    Ok(Done::new(
        (),
        vec![ChangeNotice::PresenceRules(
            watched.clone(),
            Change::Changed,
        )],
    ))
}
