//! Self-care for a SIP user: their forwarding, their registered devices, their password.
//! Only ever their own account: the session's user, never one named in the request.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use model::AddressOfRecord;

use crate::app::{see_other, Ctx, Fields};
use crate::pages::domains::store_failed;
use crate::pages::online::rows;
use crate::pages::{forwarding, FORM_ERRORS};
use crate::session::Principal;

fn me(ctx: &Ctx) -> Result<AddressOfRecord, Response> {
    match ctx.who() {
        Some(Principal::User(aor)) => Ok(aor.clone()),
        Some(Principal::Staff { .. }) => Err(ctx.forbidden()),
        None => Err(see_other("/login")),
    }
}

async fn render(
    ctx: &Ctx,
    aor: &AddressOfRecord,
    errors: &Fields,
    fwd: Option<&Fields>,
    status: StatusCode,
    notice: Option<&str>,
) -> Response {
    let values = match forwarding::form_values(ctx, aor, fwd).await {
        Ok(c) => c,
        Err(e) => return store_failed(ctx, &e),
    };
    let mut frame = ctx.frame();
    frame.notice = notice.map(|k| ctx.lang.text(k).to_string());
    ctx.app.templates.page_with_status(
        status,
        &frame,
        "me.html",
        minijinja::context! {
            user => aor.to_string(), errors,
            fwd => &values, fwd_action => "/me/forwarding",
            lists => &values, lists_action => "/me/lists",
            bindings => rows(&ctx.app.server.bindings(Some(aor))),
            show_user => false, can_unregister => false,
        },
    )
}

/// GET `/me`.
pub async fn page(ctx: Ctx) -> Response {
    match me(&ctx) {
        Ok(aor) => render(&ctx, &aor, &Fields::new(), None, StatusCode::OK, None).await,
        Err(r) => r,
    }
}

/// POST `/me/forwarding`.
pub async fn set_forwarding(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(me(&ctx), &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let errors = forwarding::save(&ctx, &aor, &f).await;
    ctx.audit("forward.set", &aor.to_string()).await;
    if errors.is_empty() {
        render(&ctx, &aor, &errors, None, StatusCode::OK, Some("saved")).await
    } else {
        render(&ctx, &aor, &errors, Some(&f), FORM_ERRORS, None).await
    }
}

/// POST `/me/lists`: find-me and screening.
pub async fn set_lists(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(me(&ctx), &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let errors = crate::pages::lists::save(&ctx, &aor, &f).await;
    ctx.audit("lists.set", &aor.to_string()).await;
    if errors.is_empty() {
        render(&ctx, &aor, &errors, None, StatusCode::OK, Some("saved")).await
    } else {
        render(&ctx, &aor, &errors, Some(&f), FORM_ERRORS, None).await
    }
}

/// POST `/me/password`: needs the current password; updates both HA1s.
pub async fn change_password(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(me(&ctx), &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let store = ctx.app.store.as_ref();
    let current = f.get("current").map_or("", String::as_str);
    match admin::check_sip_login(store, &aor, current).await {
        Ok(true) => {}
        Ok(false) => {
            let errors = Fields::from([(
                "current".to_string(),
                ctx.lang.text("login_failed").to_string(),
            )]);
            return render(&ctx, &aor, &errors, None, FORM_ERRORS, None).await;
        }
        Err(e) => return store_failed(&ctx, &e),
    }
    let password = f.get("password").cloned().unwrap_or_default();
    match admin::set_password(store, &aor, || Ok(password)).await {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            ctx.audit("user.password", &aor.to_string()).await;
            render(
                &ctx,
                &aor,
                &Fields::new(),
                None,
                StatusCode::OK,
                Some("password_changed"),
            )
            .await
        }
        Err(e) => {
            let errors = Fields::from([("password".to_string(), e.to_string())]);
            render(&ctx, &aor, &errors, None, FORM_ERRORS, None).await
        }
    }
}
