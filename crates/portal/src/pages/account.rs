//! Disabling and enabling a user's account from their page (staff, in reach): a disabled
//! user's phones are unregistered and their REGISTERs and calls refused (403 Account
//! Disabled) until enabled again; they cannot log in to the portal either. The rule and
//! the stored reason are `admin`'s (`disable_user`, `enable_user`).

use axum::extract::Path;
use axum::response::Response;
use axum::Form;

use crate::app::{see_other, Ctx, Fields};
use crate::pages::domains::{store_failed, urlencode};
use crate::pages::users::reachable;

/// POST `/users/{user}/disable` (`reason`).
pub async fn disable(ctx: Ctx, Path(user): Path<String>, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(reachable(&ctx, &user).await, &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let reason = f.get("reason").map_or("", String::as_str);
    match admin::disable_user(ctx.app.store.as_ref(), &aor, reason).await {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            for b in ctx.app.server.bindings(Some(&aor)) {
                ctx.app.server.unregister(&aor, &b.contact).await;
            }
            ctx.audit("user.disable", &aor.to_string()).await;
            see_other(&format!("/users/{}", urlencode(&aor.to_string())))
        }
        Err(e) if e.http_status() == 400 => {
            let errors = Fields::from([("reason".to_string(), e.to_string())]);
            crate::pages::users::render_user(&ctx, &aor, &errors, None, crate::pages::FORM_ERRORS)
                .await
        }
        Err(e) => store_failed(&ctx, &e),
    }
}

/// POST `/users/{user}/enable`.
pub async fn enable(ctx: Ctx, Path(user): Path<String>, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(reachable(&ctx, &user).await, &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    match admin::enable_user(ctx.app.store.as_ref(), &aor).await {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            ctx.audit("user.enable", &aor.to_string()).await;
            see_other(&format!("/users/{}", urlencode(&aor.to_string())))
        }
        Err(e) => store_failed(&ctx, &e),
    }
}
