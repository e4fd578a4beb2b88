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
pub mod pstn_classes;
pub mod pstn_dialplan;
pub mod pstn_gateways;
pub mod pstn_routes;
pub mod pstn_trusted;
pub mod users;
pub mod voicemail;

use axum::http::StatusCode;
use axum::response::Response;
use model::AddressOfRecord;

use crate::app::{Ctx, Fields};

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

/// A submitted field, trimmed (empty when absent).
pub fn field(form: &Fields, name: &str) -> String {
    form.get(name).map_or("", |s| s.trim()).to_string()
}

/// Puts an admin use case's error next to its field: the field the error names (renamed
/// by `rename` where the form calls it otherwise), else `fallback`.
pub fn error_at(
    errors: &mut Fields,
    e: &admin::AdminError,
    rename: &[(&str, &str)],
    fallback: &str,
) {
    let field = e.field().map_or(fallback, |f| {
        rename
            .iter()
            .find(|(from, _)| *from == f)
            .map_or(f, |(_, to)| to)
    });
    errors.insert(field.to_string(), e.to_string());
}

/// The confirmation page of a delete whose object is named by form fields (a route's
/// prefix and domain, a CIDR with its slash) rather than one path segment.
pub fn confirm_with_fields(
    ctx: &Ctx,
    what: &str,
    action: &str,
    back: &str,
    fields: Vec<(String, String)>,
) -> Response {
    ctx.app.templates.page(
        &ctx.frame(),
        "confirm.html",
        minijinja::context! { what, action, back, fields },
    )
}
