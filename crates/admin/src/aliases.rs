//! Aliases (names and DID numbers reaching a user): add, with the rule that an alias and
//! a user never share a name, and delete.

use model::{AddressOfRecord, Alias, Store};

use crate::domains::check_served;
use crate::users::check_aor;
use crate::{AdminError, Change, ChangeNotice, Done};

/// Makes `alias` reach `user`.
pub async fn add_alias(
    store: &dyn Store,
    alias: &AddressOfRecord,
    user: &AddressOfRecord,
) -> Result<Done, AdminError> {
    check_aor("alias", alias)?;
    check_served(store, &alias.domain)
        .await
        .map_err(|e| AdminError::not_found("alias", format!("alias {alias}: {e}")))?;
    if store.subscriber(alias).await?.is_some() {
        return Err(AdminError::conflict(
            "alias",
            format!("alias {alias}: the name is taken by user {alias}"),
        ));
    }
    store
        .add_alias(&Alias {
            alias: alias.clone(),
            target: user.clone(),
        })
        .await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::Alias(alias.clone(), Change::Added)],
    ))
}

/// Deletes an alias.
pub async fn delete_alias(store: &dyn Store, alias: &AddressOfRecord) -> Result<Done, AdminError> {
    store.delete_alias(alias).await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::Alias(alias.clone(), Change::Removed)],
    ))
}
