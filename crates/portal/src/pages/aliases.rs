//! Aliases and DIDs: listed per domain in reach, added (the target must be a user in
//! reach), deleted after a confirmation.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use model::AddressOfRecord;

use crate::app::{see_other, Ctx, Fields};
use crate::pages::domains::{confirm_delete_page, deleted, store_failed};
use crate::pages::{in_reach, scope, FORM_ERRORS};

async fn render(ctx: &Ctx, form: &Fields, errors: &Fields, status: StatusCode) -> Response {
    let mut aliases = match ctx.app.store.aliases(None).await {
        Ok(a) => a,
        Err(e) => return store_failed(ctx, &e),
    };
    if let Some(mine) = scope(ctx) {
        aliases.retain(|a| mine.contains(&a.alias.domain));
    }
    let aliases: Vec<(String, String)> = aliases
        .into_iter()
        .map(|a| (a.alias.to_string(), a.target.to_string()))
        .collect();
    ctx.app.templates.page_with_status(
        status,
        &ctx.frame(),
        "aliases.html",
        minijinja::context! { aliases, form, errors },
    )
}

/// GET `/aliases`.
pub async fn list(ctx: Ctx) -> Response {
    if let Err(r) = ctx.staff() {
        return r;
    }
    render(&ctx, &Fields::new(), &Fields::new(), StatusCode::OK).await
}

/// POST `/aliases`: alias (number@domain) -> target (user@domain).
pub async fn add(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.staff().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let get = |k: &str| f.get(k).map_or("", |s| s.trim()).to_string();
    let (alias, target) = (get("alias"), get("target"));
    let mut errors = Fields::new();
    let parse = |field: &str, v: &str, errors: &mut Fields| match AddressOfRecord::parse(v) {
        Some(a) if in_reach(&ctx, &a) => Some(a),
        Some(a) => {
            errors.insert(
                field.into(),
                format!("domain {} is not one of yours", a.domain),
            );
            None
        }
        None => {
            errors.insert(
                field.into(),
                format!("{field} {v:?}: write it as name@domain"),
            );
            None
        }
    };
    let a = parse("alias", &alias, &mut errors);
    let t = parse("target", &target, &mut errors);
    if let (Some(a), Some(t)) = (a, t) {
        match admin::add_alias(ctx.app.store.as_ref(), &a, &t).await {
            Ok(done) => {
                ctx.app.server.apply(&done.notices).await;
                ctx.audit("alias.add", &format!("{a} -> {t}")).await;
                return see_other("/aliases");
            }
            Err(e) => {
                errors.insert(e.field().unwrap_or("alias").to_string(), e.to_string());
            }
        }
    }
    let form = Fields::from([("alias".to_string(), alias), ("target".to_string(), target)]);
    render(&ctx, &form, &errors, FORM_ERRORS).await
}

fn reachable(ctx: &Ctx, alias: &str) -> Result<AddressOfRecord, Response> {
    ctx.staff()?;
    match AddressOfRecord::parse(alias) {
        Some(a) if in_reach(ctx, &a) => Ok(a),
        _ => Err(ctx.not_found()),
    }
}

/// GET `/aliases/{alias}/delete`: asks first.
pub async fn confirm_delete(ctx: Ctx, Path(alias): Path<String>) -> Response {
    let a = match reachable(&ctx, &alias) {
        Ok(a) => a,
        Err(r) => return r,
    };
    confirm_delete_page(&ctx, "aliases", &a.to_string(), "/aliases")
}

/// POST `/aliases/{alias}/delete`.
pub async fn delete(ctx: Ctx, Path(alias): Path<String>, Form(f): Form<Fields>) -> Response {
    let a = match ctx.posted_to(reachable(&ctx, &alias), &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let outcome = admin::delete_alias(ctx.app.store.as_ref(), &a).await;
    deleted(
        &ctx,
        outcome,
        "alias.delete",
        |()| a.to_string(),
        "/aliases",
    )
    .await
}
