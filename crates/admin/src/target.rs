//! Whether a forwarding or find-me target may be stored: a local user or alias that
//! exists, or an explicit external SIP URI (`sip:user@host[:port]`). A target in a domain
//! served here is local whatever its spelling (`bob@example.com`, `sip:bob@example.com`,
//! or a number of the user's own domain), so it must exist; `bob@elsewhere.net` is refused
//! with a hint to write `sip:bob@elsewhere.net` when an external target is meant.

use model::{check_target, target_aor, AddressOfRecord, Store};

use crate::AdminError;

/// Checks `target` (syntax and existence) for a setting of `owner`; `field` names it in
/// errors.
pub async fn check_target_exists(
    store: &dyn Store,
    field: &'static str,
    owner: &AddressOfRecord,
    target: &str,
) -> Result<(), AdminError> {
    check_target(field, target)?;
    let Some(aor) = target_aor(target, &owner.domain) else {
        // sip:host with no user: external by construction (checked above).
        return Ok(());
    };
    if aor == *owner {
        return Err(AdminError::invalid(
            field,
            format!("{field} {target:?}: is the user itself"),
        ));
    }
    let served = store.domains().await?;
    let local = served.iter().any(|d| d.eq_ignore_ascii_case(&aor.domain));
    if local {
        let exists =
            store.subscriber(&aor).await?.is_some() || store.resolve_alias(&aor).await?.is_some();
        if !exists {
            return Err(AdminError::not_found(
                field,
                format!("{field} {target:?}: no user or alias {aor} here"),
            ));
        }
        return Ok(());
    }
    if !target.starts_with("sip:") {
        return Err(AdminError::invalid(
            field,
            format!(
                "{field} {target:?}: domain {} is not served here; for an external target \
                 write the SIP URI, sip:{aor}",
                aor.domain
            ),
        ));
    }
    Ok(())
}
