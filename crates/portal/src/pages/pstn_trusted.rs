//! Trusted peers (admin only): addresses whose requests are not challenged (a gateway's
//! inbound calls, a PBX). Added through `admin::add_trusted`, deleted after a
//! confirmation.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use crate::app::{see_other, Ctx, Fields};
use crate::pages::domains::store_failed;
use crate::pages::{confirm_with_fields, error_at, field, FORM_ERRORS};

async fn render(ctx: &Ctx, form: &Fields, errors: &Fields, status: StatusCode) -> Response {
    let peers = match ctx.app.pstn.trusted().await {
        Ok(p) => p,
        Err(e) => return store_failed(ctx, &e),
    };
    let peers: Vec<(String, String)> = peers
        .into_iter()
        .map(|p| (p.cidr, p.gateway.unwrap_or_default()))
        .collect();
    ctx.app.templates.page_with_status(
        status,
        &ctx.frame(),
        "trusted.html",
        minijinja::context! { peers, form, errors },
    )
}

/// GET `/trusted`.
pub async fn list(ctx: Ctx) -> Response {
    if let Err(r) = ctx.admin() {
        return r;
    }
    render(&ctx, &Fields::new(), &Fields::new(), StatusCode::OK).await
}

/// POST `/trusted`: cidr (ADDRESS[/PREFIX]), gateway (optional).
pub async fn add(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.admin().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let (cidr, gateway) = (field(&f, "cidr"), field(&f, "gateway"));
    let gw = Some(gateway.as_str()).filter(|g| !g.is_empty());
    let mut errors = Fields::new();
    match admin::add_trusted(ctx.app.pstn.as_ref(), &cidr, gw).await {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            ctx.audit(
                "trusted.add",
                format!("{} {}", done.result, gw.unwrap_or("")).trim_end(),
            )
            .await;
            return see_other("/trusted");
        }
        Err(e) => {
            let fallback = if e.http_status() == 404 {
                "gateway"
            } else {
                "cidr"
            };
            error_at(&mut errors, &e, &[], fallback);
        }
    }
    render(&ctx, &f, &errors, FORM_ERRORS).await
}

/// The peer a delete names.
#[derive(serde::Deserialize)]
pub struct Which {
    cidr: String,
}

/// GET `/trusted/delete?cidr=..`: asks first.
pub async fn confirm_delete(ctx: Ctx, Query(w): Query<Which>) -> Response {
    if let Err(r) = ctx.admin() {
        return r;
    }
    confirm_with_fields(
        &ctx,
        &w.cidr,
        "/trusted/delete",
        "/trusted",
        vec![("cidr".into(), w.cidr.clone())],
    )
}

/// POST `/trusted/delete`.
pub async fn delete(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.admin().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let cidr = field(&f, "cidr");
    let outcome = admin::delete_trusted(ctx.app.pstn.as_ref(), &cidr).await;
    crate::pages::domains::deleted(
        &ctx,
        outcome,
        "trusted.delete",
        |()| cidr.clone(),
        "/trusted",
    )
    .await
}
