//! Permission classes (admin only): the four classes, lowest first, with the routes each
//! one opens, and a form that sets a user's class through `admin::set_class` (the page
//! shows a user's current class when asked with `?user=`).

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use model::{AddressOfRecord, CallClass};

use crate::app::{Ctx, Fields};
use crate::pages::domains::store_failed;
use crate::pages::pstn_routes::CLASSES;
use crate::pages::{error_at, field, FORM_ERRORS};

/// A user's class as stored (national when none is set).
async fn class_of(ctx: &Ctx, user: &AddressOfRecord) -> Result<CallClass, model::StoreError> {
    let settings = ctx.app.store.settings(user).await?;
    Ok(settings
        .iter()
        .find(|(k, _)| k == model::CLASS)
        .and_then(|(_, v)| CallClass::parse(v))
        .unwrap_or(CallClass::National))
}

async fn render(
    ctx: &Ctx,
    form: &Fields,
    errors: &Fields,
    saved: Option<String>,
    status: StatusCode,
) -> Response {
    let routes = match ctx.app.pstn.routes().await {
        Ok(r) => r,
        Err(e) => return store_failed(ctx, &e),
    };
    let classes: Vec<_> = CLASSES
        .iter()
        .map(|c| {
            let prefixes: Vec<String> = routes
                .iter()
                .filter(|r| r.class.as_str() == *c)
                .map(|r| match &r.domain {
                    Some(d) => format!("{} ({d})", r.prefix),
                    None => r.prefix.clone(),
                })
                .collect();
            minijinja::context! { name => c, routes => prefixes.join(", ") }
        })
        .collect();
    ctx.app.templates.page_with_status(
        status,
        &ctx.frame(),
        "classes.html",
        minijinja::context! { classes, form, errors, saved, names => CLASSES },
    )
}

/// GET `/classes` (with `?user=`: that user's class in the form).
pub async fn list(ctx: Ctx, Query(q): Query<Fields>) -> Response {
    if let Err(r) = ctx.admin() {
        return r;
    }
    let user = field(&q, "user");
    let mut form = Fields::from([("class".to_string(), "national".to_string())]);
    let mut errors = Fields::new();
    if !user.is_empty() {
        match AddressOfRecord::parse(&user) {
            Some(aor) => match class_of(&ctx, &aor).await {
                Ok(c) => {
                    form.insert("class".into(), c.as_str().into());
                }
                Err(e) => return store_failed(&ctx, &e),
            },
            None => {
                errors.insert("user".into(), format!("{user:?}: write it as name@domain"));
            }
        }
        form.insert("user".into(), user);
    }
    render(&ctx, &form, &errors, None, StatusCode::OK).await
}

/// POST `/classes`: user, class.
pub async fn set(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.admin().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let (user, class) = (field(&f, "user"), field(&f, "class"));
    let mut errors = Fields::new();
    match AddressOfRecord::parse(&user) {
        None => {
            errors.insert("user".into(), format!("{user:?}: write it as name@domain"));
        }
        Some(aor) => match admin::set_class(ctx.app.store.as_ref(), &aor, &class).await {
            Ok(done) => {
                ctx.app.server.apply(&done.notices).await;
                ctx.audit("class.set", &format!("{aor} {}", done.result))
                    .await;
                let saved = format!("{aor}: {}", done.result);
                return render(&ctx, &f, &errors, Some(saved), StatusCode::OK).await;
            }
            Err(e) => error_at(&mut errors, &e, &[], "user"),
        },
    }
    render(&ctx, &f, &errors, None, FORM_ERRORS).await
}
