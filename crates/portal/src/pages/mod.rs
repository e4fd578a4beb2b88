//! The pages, one module per area. Each handler starts from [`crate::app::Ctx`], checks
//! who may do what with this object, calls an `admin` use case or a store read, and
//! renders a template or redirects.

pub mod account;
pub mod aliases;
pub mod assets;
pub mod audit;
pub mod calls;
pub mod dashboard;
pub mod dial;
pub mod domains;
pub mod forwarding;
pub mod import;
pub mod lists;
pub mod login;
pub mod me;
pub mod online;
pub mod users;
pub mod voicemail;

use axum::http::StatusCode;
use model::AddressOfRecord;

use crate::app::Ctx;

/// The status a page with form errors answers.
pub const FORM_ERRORS: StatusCode = StatusCode::BAD_REQUEST;

/// Which object the principal may touch: a user or alias in one of their domains. An
/// object outside is answered 404, like one that does not exist.
pub fn in_reach(ctx: &Ctx, aor: &AddressOfRecord) -> bool {
    ctx.who().is_some_and(|p| p.manages(&aor.domain))
}

/// The domains the principal may see, `None` for all.
pub fn scope(ctx: &Ctx) -> Option<Vec<String>> {
    match ctx.who().and_then(|p| p.role()) {
        Some(model::PortalRole::DomainAdmin(ds)) => Some(ds.clone()),
        _ => None,
    }
}
