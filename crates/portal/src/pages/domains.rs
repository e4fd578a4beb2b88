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
    ctx.app.templates.page(
        &ctx.frame(),
        "confirm.html",
        minijinja::context! {
            what => domain,
            action => format!("/domains/{}/delete", urlencode(&domain)),
            back => "/domains",
            fields => Vec::<(String, String)>::new(),
        },
    )
}

/// POST `/domains/{domain}/delete` (admin only).
pub async fn delete(ctx: Ctx, Path(domain): Path<String>, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.admin().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    match admin::delete_domain(ctx.app.store.as_ref(), &domain).await {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            ctx.audit("domain.delete", &done.result).await;
            see_other("/domains")
        }
        Err(e) if e.http_status() == 404 => ctx.not_found(),
        Err(e) => store_failed(&ctx, &e),
    }
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
