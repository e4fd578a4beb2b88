//! Who is online: the registrations the running server holds, in the principal's domains,
//! with user agent, address and time left; an unregister button per registration.

use axum::extract::Query;
use axum::response::Response;
use axum::Form;
use model::{AddressOfRecord, Binding};
use serde::Serialize;

use crate::app::{see_other, unix_now, Ctx, Fields};
use crate::pages::in_reach;

/// Most registrations one page shows (search to narrow).
const MAX_ROWS: usize = 500;

/// A registration as the tables show it.
#[derive(Debug, Serialize)]
pub struct Row {
    aor: String,
    contact: String,
    user_agent: String,
    source: String,
    expires: u64,
}

/// Table rows for bindings.
pub fn rows(bindings: &[Binding]) -> Vec<Row> {
    let now = unix_now();
    bindings
        .iter()
        .map(|b| Row {
            aor: b.aor.to_string(),
            contact: b.contact.clone(),
            user_agent: b.user_agent.clone(),
            source: b.source.clone(),
            expires: b.remaining(now),
        })
        .collect()
}

/// GET `/online?q=PREFIX`.
pub async fn list(ctx: Ctx, Query(q): Query<Fields>) -> Response {
    if let Err(r) = ctx.staff() {
        return r;
    }
    let prefix = q.get("q").map_or("", |s| s.trim());
    let bindings: Vec<Binding> = ctx
        .app
        .server
        .bindings(None)
        .into_iter()
        .filter(|b| in_reach(&ctx, &b.aor) && b.aor.to_string().starts_with(prefix))
        .take(MAX_ROWS)
        .collect();
    ctx.app.templates.page(
        &ctx.frame(),
        "online.html",
        minijinja::context! {
            bindings => rows(&bindings), q => prefix,
            show_user => true, can_unregister => true,
        },
    )
}

/// POST `/online/unregister` (aor, contact).
pub async fn unregister(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.staff().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let Some(aor) = f.get("aor").and_then(|a| AddressOfRecord::parse(a)) else {
        return ctx.not_found();
    };
    if !in_reach(&ctx, &aor) {
        return ctx.not_found();
    }
    let contact = f.get("contact").map_or("", String::as_str);
    if !ctx.app.server.unregister(&aor, contact).await {
        return ctx.not_found();
    }
    ctx.audit("location.unregister", &format!("{aor} {contact}"))
        .await;
    see_other("/online")
}
