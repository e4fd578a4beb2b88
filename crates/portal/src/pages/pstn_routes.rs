//! PSTN routes (admin only): which gateways, in which order, numbers with a prefix leave
//! through, for which permission class and domain. The longest matching prefix wins (there
//! is no separate priority: a longer prefix is the more specific route). Added through
//! `admin::add_route`, deleted after a confirmation.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use crate::app::{see_other, Ctx, Fields};
use crate::pages::domains::store_failed;
use crate::pages::{confirm_with_fields, error_at, field, FORM_ERRORS};

/// The class names, lowest first.
pub const CLASSES: [&str; 4] = ["local", "national", "international", "premium"];

async fn render(ctx: &Ctx, form: &Fields, errors: &Fields, status: StatusCode) -> Response {
    let (routes, gateways) = match (ctx.app.pstn.routes().await, ctx.app.pstn.gateways().await) {
        (Ok(r), Ok(g)) => (r, g),
        (Err(e), _) | (_, Err(e)) => return store_failed(ctx, &e),
    };
    let routes: Vec<_> = routes
        .into_iter()
        .map(|r| {
            minijinja::context! {
                prefix => r.prefix,
                domain => r.domain.unwrap_or_default(),
                gateways => r.gateways.join(", "),
                class => r.class.as_str(),
            }
        })
        .collect();
    let gateways: Vec<String> = gateways.into_iter().map(|g| g.name).collect();
    ctx.app.templates.page_with_status(
        status,
        &ctx.frame(),
        "routes.html",
        minijinja::context! { routes, gateways, form, errors, classes => CLASSES },
    )
}

/// GET `/routes`.
pub async fn list(ctx: Ctx) -> Response {
    if let Err(r) = ctx.admin() {
        return r;
    }
    let form = Fields::from([("class".to_string(), "national".to_string())]);
    render(&ctx, &form, &Fields::new(), StatusCode::OK).await
}

/// POST `/routes`: prefix, gateways (comma-separated, tried in order), class, domain
/// (empty: every domain).
pub async fn add(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.admin().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let (prefix, gateways, class, domain) = (
        field(&f, "prefix"),
        field(&f, "gateways"),
        field(&f, "class"),
        field(&f, "domain"),
    );
    let class = Some(class.as_str()).filter(|c| !c.is_empty());
    let domain = Some(domain.as_str()).filter(|d| !d.is_empty());
    let mut errors = Fields::new();
    match admin::add_route(ctx.app.pstn.as_ref(), &prefix, &gateways, class, domain).await {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            let r = &done.result;
            ctx.audit(
                "route.add",
                &format!(
                    "{} -> {} ({}, {})",
                    r.prefix,
                    r.gateways.join(","),
                    r.class,
                    r.domain.as_deref().unwrap_or("every domain")
                ),
            )
            .await;
            return see_other("/routes");
        }
        Err(e) => {
            // A gateway that does not exist is the only thing a route can miss.
            let fallback = if e.http_status() == 404 {
                "gateways"
            } else {
                "prefix"
            };
            error_at(&mut errors, &e, &[("gateway", "gateways")], fallback);
        }
    }
    render(&ctx, &f, &errors, FORM_ERRORS).await
}

/// The route a delete names: `prefix` and `domain` (empty: the every-domain route).
#[derive(serde::Deserialize)]
pub struct Which {
    prefix: String,
    #[serde(default)]
    domain: String,
}

/// GET `/routes/delete?prefix=..&domain=..`: asks first.
pub async fn confirm_delete(ctx: Ctx, Query(w): Query<Which>) -> Response {
    if let Err(r) = ctx.admin() {
        return r;
    }
    let what = if w.domain.is_empty() {
        format!("the route {}", w.prefix)
    } else {
        format!("the route {} of {}", w.prefix, w.domain)
    };
    confirm_with_fields(
        &ctx,
        &what,
        "/routes/delete",
        "/routes",
        vec![
            ("prefix".into(), w.prefix.clone()),
            ("domain".into(), w.domain.clone()),
        ],
    )
}

/// POST `/routes/delete`.
pub async fn delete(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.admin().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let (prefix, domain) = (field(&f, "prefix"), field(&f, "domain"));
    let domain = Some(domain.as_str()).filter(|d| !d.is_empty());
    let outcome = admin::delete_route(ctx.app.pstn.as_ref(), &prefix, domain).await;
    crate::pages::domains::deleted(
        &ctx,
        outcome,
        "route.delete",
        |()| format!("{prefix} ({})", domain.unwrap_or("every domain")),
        "/routes",
    )
    .await
}
