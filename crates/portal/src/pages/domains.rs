//! Domains: listed for staff (a domain admin sees theirs), added and deleted by the admin.

use axum::extract::Path;
use axum::response::Response;
use axum::Form;

use crate::app::{see_other, Ctx, Fields};
use crate::pages::{scope, FORM_ERRORS};

async fn render(
    ctx: &Ctx,
    form: &Fields,
    errors: &Fields,
    status: axum::http::StatusCode,
) -> Response {
    let mut domains = match ctx.app.store.domains().await {
        Ok(d) => d,
        Err(e) => return store_failed(ctx, &e),
    };
    if let Some(mine) = scope(ctx) {
        domains.retain(|d| mine.contains(d));
    }
    let can_edit = ctx.who().is_some_and(|p| p.is_admin());
    ctx.app.templates.page_with_status(
        status,
        &ctx.frame(),
        "domains.html",
        minijinja::context! { domains, can_edit, form, errors },
    )
}

/// A store failure as a page (503) and a log line.
pub fn store_failed(ctx: &Ctx, e: &dyn std::fmt::Display) -> Response {
    tracing::warn!(error = %e, path = %ctx.path, "portal: the store failed");
    ctx.message(axum::http::StatusCode::SERVICE_UNAVAILABLE, "error", "none")
}

/// The answer to a delete form: on success the change goes to the running server, the
/// audit log gets `action` on `object(result)` and the browser goes `back`; a target that
/// is gone is 404, a store failure 503.
pub async fn deleted<T>(
    ctx: &Ctx,
    outcome: Result<admin::Done<T>, admin::AdminError>,
    action: &str,
    object: impl FnOnce(&T) -> String,
    back: &str,
) -> Response {
    match outcome {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            ctx.audit(action, &object(&done.result)).await;
            see_other(back)
        }
        Err(e) if e.http_status() == 404 => ctx.not_found(),
        Err(e) => store_failed(ctx, &e),
    }
}

/// The page asking "delete `what`?": its form posts to `/<section>/<what>/delete`, and
/// going back leads to `back`.
pub fn confirm_delete_page(ctx: &Ctx, section: &str, what: &str, back: &str) -> Response {
    ctx.app.templates.page(
        &ctx.frame(),
        "confirm.html",
        minijinja::context! {
            what,
            action => format!("/{section}/{}/delete", urlencode(what)),
            back,
            fields => Vec::<(String, String)>::new(),
        },
    )
}

/// GET `/domains`.
pub async fn list(ctx: Ctx) -> Response {
    if let Err(r) = ctx.staff() {
        return r;
    }
    render(
        &ctx,
        &Fields::new(),
        &Fields::new(),
        axum::http::StatusCode::OK,
    )
    .await
}

/// POST `/domains`: adds one (admin only).
pub async fn add(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.admin().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let domain = f.get("domain").map_or("", |s| s.trim());
    match admin::add_domain(ctx.app.store.as_ref(), domain).await {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            ctx.audit("domain.add", &done.result).await;
            see_other("/domains")
        }
        Err(e) => {
            let errors = Fields::from([("domain".to_string(), e.to_string())]);
            render(&ctx, &f, &errors, FORM_ERRORS).await
        }
    }
}

/// GET `/domains/{domain}/delete`: asks first.
pub async fn confirm_delete(ctx: Ctx, Path(domain): Path<String>) -> Response {
    if let Err(r) = ctx.admin() {
        return r;
    }
    confirm_delete_page(&ctx, "domains", &domain, "/domains")
}

/// POST `/domains/{domain}/delete` (admin only).
pub async fn delete(ctx: Ctx, Path(domain): Path<String>, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.admin().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let outcome = admin::delete_domain(ctx.app.store.as_ref(), &domain).await;
    deleted(&ctx, outcome, "domain.delete", String::clone, "/domains").await
}

/// Percent-encodes a path segment.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
