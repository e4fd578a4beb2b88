//! Logging in and out, and the language switch. Staff log in with their portal account
//! (Argon2id); SIP users with `user@domain` and their SIP password (checked against the
//! HA1). Failures are throttled per address and per account, and logged.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use model::AddressOfRecord;
use std::sync::Arc;

use crate::app::{see_other, App, Ctx, Fields, LANG_COOKIE, SESSION_COOKIE};
use crate::i18n::Lang;
use crate::security::{cookie, csrf_ok, set_cookie};
use crate::session::{random_token, Principal};

/// The cookie holding the login form's CSRF token (no session exists yet).
const LOGIN_CSRF_COOKIE: &str = "sb_login";

/// `/`: the home of whoever is logged in.
pub async fn home(ctx: Ctx) -> Response {
    match ctx.who() {
        None => see_other("/login"),
        Some(Principal::User(_)) => see_other("/me"),
        Some(Principal::Staff { .. }) => see_other("/dashboard"),
    }
}

fn login_page(ctx: &Ctx, status: StatusCode, name: &str, error: &str) -> Response {
    let token = random_token();
    let mut frame = ctx.frame();
    frame.csrf = token.clone();
    let mut resp = ctx.app.templates.page_with_status(
        status,
        &frame,
        "login.html",
        minijinja::context! { name, error },
    );
    if let Ok(v) = set_cookie(LOGIN_CSRF_COOKIE, &token, ctx.app.cfg.secure_cookies, None).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// GET `/login`.
pub async fn form(ctx: Ctx) -> Response {
    if ctx.who().is_some() {
        return see_other("/");
    }
    login_page(&ctx, StatusCode::OK, "", "")
}

/// POST `/login`.
pub async fn submit(ctx: Ctx, headers: HeaderMap, Form(f): Form<Fields>) -> Response {
    if !csrf_ok(
        cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or(""),
        f.get("csrf").map(String::as_str),
    ) {
        return login_page(&ctx, StatusCode::FORBIDDEN, "", ctx.lang.text("bad_form"));
    }
    let name = f.get("name").map_or("", |s| s.trim());
    let logged = log_value(name);
    let password = f.get("password").map_or("", String::as_str);
    let ip = ctx.addr.ip();
    let now = Instant::now();
    if let Some(wait) = ctx.app.throttle.blocked(ip, name, now) {
        crate::metrics::login_failed();
        tracing::warn!(target: "switchboard::portal", source = %ip, account = %logged, "portal login refused: throttled");
        let mut r = login_page(
            &ctx,
            StatusCode::TOO_MANY_REQUESTS,
            name,
            ctx.lang.text("login_throttled"),
        );
        if let Ok(v) = wait.as_secs().max(1).to_string().parse() {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let who = match check(&ctx, name, password).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "portal login: the store failed");
            return ctx.message(StatusCode::SERVICE_UNAVAILABLE, "login", "login_failed");
        }
    };
    let Some(who) = who else {
        ctx.app.throttle.failed(ip, name, now);
        crate::metrics::login_failed();
        tracing::warn!(target: "switchboard::portal", source = %ip, account = %logged, "portal login failed: wrong name or password");
        return login_page(
            &ctx,
            StatusCode::UNAUTHORIZED,
            name,
            ctx.lang.text("login_failed"),
        );
    };
    ctx.app.throttle.succeeded(name);
    crate::metrics::login();
    tracing::info!(target: "switchboard::portal", source = %ip, account = %who.actor(), "portal login");
    let id = ctx.app.sessions.start(who, now);
    let mut resp = see_other("/");
    let secure = ctx.app.cfg.secure_cookies;
    for c in [
        set_cookie(SESSION_COOKIE, &id, secure, None),
        set_cookie(LOGIN_CSRF_COOKIE, "", secure, Some(0)),
    ] {
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// A typed name as a log field: no spaces or control characters (each becomes `_`), at
/// most 64 characters, `-` when empty, so a line stays one `key=value` per field.
fn log_value(s: &str) -> String {
    if s.is_empty() {
        return "-".into();
    }
    s.chars()
        .take(64)
        .map(|c| {
            if c.is_whitespace() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// The principal `name` and `password` prove, if any: a portal account, or a SIP user
/// (a name with `@`).
async fn check(
    ctx: &Ctx,
    name: &str,
    password: &str,
) -> Result<Option<Principal>, admin::AdminError> {
    if name.is_empty() || password.is_empty() {
        return Ok(None);
    }
    let store = ctx.app.store.as_ref();
    if name.contains('@') {
        let Some(aor) = AddressOfRecord::parse(name) else {
            return Ok(None);
        };
        let ok = admin::check_sip_login(store, &aor, password).await?;
        return Ok(ok.then_some(Principal::User(aor)));
    }
    Ok(admin::check_portal_login(store, name, password)
        .await?
        .map(|a| Principal::Staff {
            name: a.name,
            role: a.role,
        }))
}

/// POST `/logout`.
pub async fn logout(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.check_csrf(&f) {
        return r;
    }
    if let Some((id, _)) = &ctx.session {
        ctx.app.sessions.end(id);
    }
    let mut resp = see_other("/login");
    if let Ok(v) = set_cookie(SESSION_COOKIE, "", ctx.app.cfg.secure_cookies, Some(0)).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// GET `/lang/{code}`: remembers the choice in a cookie and goes home.
pub async fn switch_language(State(app): State<Arc<App>>, Path(code): Path<String>) -> Response {
    let Some(lang) = Lang::parse(&code) else {
        return (StatusCode::NOT_FOUND, "unknown language").into_response();
    };
    let mut resp = see_other("/");
    let short = if lang == Lang::Zh { "zh" } else { "en" };
    if let Ok(v) = set_cookie(LANG_COOKIE, short, app.cfg.secure_cookies, Some(31_536_000)).parse()
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}
