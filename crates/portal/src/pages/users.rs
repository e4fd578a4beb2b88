//! Users: the searchable, paged list (keyset paging over the (domain, user) index), add,
//! CSV import with a per-line report, a user's page (reset the password, services,
//! aliases, registrations) and delete. A domain admin reaches only users of their domains;
//! anyone else's answer 404.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use model::AddressOfRecord;

use crate::app::{see_other, Ctx, Fields};
use crate::pages::domains::{confirm_delete_page, deleted, store_failed, urlencode};
use crate::pages::online::rows;
use crate::pages::{forwarding, in_reach, scope, FORM_ERRORS};

/// Most lines a CSV import takes at once.
const MAX_IMPORT_LINES: usize = 10_000;

async fn render_list(
    ctx: &Ctx,
    q: &Fields,
    form: &Fields,
    errors: &Fields,
    report: Option<serde_json::Value>,
    status: StatusCode,
) -> Response {
    let store = ctx.app.store.as_ref();
    let prefix = q.get("q").map_or("", |s| s.trim());
    let domain = q
        .get("domain")
        .map_or("", |s| s.trim())
        .to_ascii_lowercase();
    let after = q.get("after").and_then(|a| AddressOfRecord::parse(a));
    let mine = scope(ctx);
    let mut domains = match store.domains().await {
        Ok(d) => d,
        Err(e) => return store_failed(ctx, &e),
    };
    if let Some(m) = &mine {
        domains.retain(|d| m.contains(d));
    }
    let filter = if domain.is_empty() {
        mine
    } else if domains.contains(&domain) {
        Some(vec![domain.clone()])
    } else {
        Some(Vec::new())
    };
    let page = ctx.app.cfg.page_size;
    let mut errors = errors.clone();
    let users = match admin::list_users(store, filter, prefix, after.clone(), page + 1).await {
        Ok(u) => u,
        Err(e) if e.http_status() == 400 => {
            errors.insert("search".into(), e.to_string());
            Vec::new()
        }
        Err(e) => return store_failed(ctx, &e),
    };
    let has_more = users.len() > page as usize;
    let users: Vec<String> = users
        .into_iter()
        .take(page as usize)
        .map(|u| u.to_string())
        .collect();
    let next = if has_more {
        users.last().cloned()
    } else {
        None
    };
    ctx.app.templates.page_with_status(
        status,
        &ctx.frame(),
        "users.html",
        minijinja::context! {
            users, domains, q => prefix, domain, next,
            after => after.map(|a| a.to_string()),
            form, errors, report,
        },
    )
}

/// GET `/users?q=PREFIX&domain=D&after=USER@DOMAIN`.
pub async fn list(ctx: Ctx, Query(q): Query<Fields>) -> Response {
    if let Err(r) = ctx.staff() {
        return r;
    }
    render_list(
        &ctx,
        &q,
        &Fields::new(),
        &Fields::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// POST `/users`: adds a user (user@domain, password).
pub async fn add(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.staff().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let name = f.get("user").map_or("", |s| s.trim());
    let fail = |field: &str, msg: String| Fields::from([(field.to_string(), msg)]);
    let errors = match AddressOfRecord::parse(name) {
        None => fail("user", format!("user {name:?}: write it as user@domain")),
        Some(aor) if !in_reach(&ctx, &aor) => {
            fail("user", format!("domain {} is not one of yours", aor.domain))
        }
        Some(aor) => {
            let password = f.get("password").cloned().unwrap_or_default();
            match admin::add_user(ctx.app.store.as_ref(), &aor, || Ok(password)).await {
                Ok(done) => {
                    ctx.app.server.apply(&done.notices).await;
                    ctx.audit("user.add", &aor.to_string()).await;
                    return see_other(&format!("/users/{}", urlencode(&aor.to_string())));
                }
                Err(e) => fail(e.field().unwrap_or("user"), e.to_string()),
            }
        }
    };
    let form = Fields::from([("user".to_string(), name.to_string())]);
    render_list(&ctx, &Fields::new(), &form, &errors, None, FORM_ERRORS).await
}

/// POST `/users/import`: `user@domain,password` per line; each line is added on its own
/// and a failed line is reported with its number and reason.
pub async fn import(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.staff().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let csv = f.get("csv").map_or("", String::as_str);
    let mut added = 0u64;
    let mut errors: Vec<(usize, String)> = Vec::new();
    let Some(who) = ctx.who().cloned() else {
        return see_other("/login");
    };
    for (i, line) in csv.lines().enumerate().take(MAX_IMPORT_LINES) {
        match crate::pages::import::import_line(&ctx.app, &who, line).await {
            Ok(true) => added += 1,
            Ok(false) => {}
            Err(why) => errors.push((i + 1, why)),
        }
    }
    if csv.lines().count() > MAX_IMPORT_LINES {
        errors.push((
            MAX_IMPORT_LINES + 1,
            format!("only {MAX_IMPORT_LINES} lines are imported at once"),
        ));
    }
    ctx.audit("user.import", &format!("{added} users")).await;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        FORM_ERRORS
    };
    let report = serde_json::json!({ "added": added, "errors": errors });
    render_list(
        &ctx,
        &Fields::new(),
        &Fields::new(),
        &Fields::new(),
        Some(report),
        status,
    )
    .await
}

/// The user named in the path, when the principal may reach it.
pub(crate) async fn reachable(ctx: &Ctx, user: &str) -> Result<AddressOfRecord, Response> {
    ctx.staff()?;
    let aor = AddressOfRecord::parse(user).ok_or_else(|| ctx.not_found())?;
    if !in_reach(ctx, &aor) {
        return Err(ctx.not_found());
    }
    match ctx.app.store.subscriber(&aor).await {
        Ok(Some(_)) => Ok(aor),
        Ok(None) => Err(ctx.not_found()),
        Err(e) => Err(store_failed(ctx, &e)),
    }
}

pub(crate) async fn render_user(
    ctx: &Ctx,
    aor: &AddressOfRecord,
    errors: &Fields,
    fwd: Option<&Fields>,
    status: StatusCode,
) -> Response {
    let store = ctx.app.store.as_ref();
    let values = match forwarding::form_values(ctx, aor, fwd).await {
        Ok(c) => c,
        Err(e) => return store_failed(ctx, &e),
    };
    let aliases: Vec<String> = match store.aliases(Some(&aor.domain)).await {
        Ok(a) => a
            .into_iter()
            .filter(|a| a.target == *aor)
            .map(|a| a.alias.to_string())
            .collect(),
        Err(e) => return store_failed(ctx, &e),
    };
    let bindings = rows(&ctx.app.server.bindings(Some(aor)));
    let disabled = match admin::disabled_reason(store, aor).await {
        Ok(d) => d,
        Err(e) => return store_failed(ctx, &e),
    };
    let mut frame = ctx.frame();
    if status == StatusCode::OK && ctx.path.ends_with("saved") {
        frame.notice = Some(ctx.lang.text("saved").to_string());
    }
    ctx.app.templates.page_with_status(
        status,
        &frame,
        "user.html",
        minijinja::context! {
            user => aor.to_string(), errors, aliases, bindings,
            fwd => &values, lists => &values,
            fwd_action => format!("/users/{}/forwarding", urlencode(&aor.to_string())),
            lists_action => format!("/users/{}/lists", urlencode(&aor.to_string())),
            show_user => false, can_unregister => true, disabled,
        },
    )
}

/// GET `/users/{user}`.
pub async fn show(ctx: Ctx, Path(user): Path<String>) -> Response {
    match reachable(&ctx, &user).await {
        Ok(aor) => render_user(&ctx, &aor, &Fields::new(), None, StatusCode::OK).await,
        Err(r) => r,
    }
}

/// POST `/users/{user}/password`: sets a new password (both HA1s).
pub async fn reset_password(ctx: Ctx, Path(user): Path<String>, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(reachable(&ctx, &user).await, &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let password = f.get("password").cloned().unwrap_or_default();
    match admin::set_password(ctx.app.store.as_ref(), &aor, || Ok(password)).await {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            ctx.audit("user.password", &aor.to_string()).await;
            see_other(&format!("/users/{}", urlencode(&aor.to_string())))
        }
        Err(e) => {
            let errors = Fields::from([("password".to_string(), e.to_string())]);
            render_user(&ctx, &aor, &errors, None, FORM_ERRORS).await
        }
    }
}

/// POST `/users/{user}/forwarding`: the user's forwarding, set by staff.
pub async fn set_forwarding(ctx: Ctx, Path(user): Path<String>, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(reachable(&ctx, &user).await, &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let errors = forwarding::save(&ctx, &aor, &f).await;
    ctx.audit("forward.set", &aor.to_string()).await;
    if errors.is_empty() {
        see_other(&format!("/users/{}", urlencode(&aor.to_string())))
    } else {
        render_user(&ctx, &aor, &errors, Some(&f), FORM_ERRORS).await
    }
}

/// POST `/users/{user}/lists`: the user's find-me and screening lists, set by staff.
pub async fn set_lists(ctx: Ctx, Path(user): Path<String>, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(reachable(&ctx, &user).await, &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let errors = crate::pages::lists::save(&ctx, &aor, &f).await;
    ctx.audit("lists.set", &aor.to_string()).await;
    if errors.is_empty() {
        see_other(&format!("/users/{}", urlencode(&aor.to_string())))
    } else {
        render_user(&ctx, &aor, &errors, Some(&f), FORM_ERRORS).await
    }
}

/// GET `/users/{user}/delete`: asks first.
pub async fn confirm_delete(ctx: Ctx, Path(user): Path<String>) -> Response {
    let aor = match reachable(&ctx, &user).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let what = aor.to_string();
    let back = format!("/users/{}", urlencode(&what));
    confirm_delete_page(&ctx, "users", &what, &back)
}

/// POST `/users/{user}/delete`.
pub async fn delete(ctx: Ctx, Path(user): Path<String>, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(reachable(&ctx, &user).await, &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let outcome = admin::delete_user(ctx.app.store.as_ref(), &aor).await;
    deleted(&ctx, outcome, "user.delete", |()| aor.to_string(), "/users").await
}
