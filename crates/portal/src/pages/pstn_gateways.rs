//! PSTN gateways (admin only: gateways serve every domain): listed with the live health
//! the running server knows (as `gateway list` shows it), added through
//! `admin::add_gateway`, edited through `admin::update_gateway` (everything but the name,
//! which routes refer to), deleted after a confirmation (refused, with the reason, while a
//! route uses one).

use std::collections::HashMap;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use crate::app::{see_other, unix_now, Ctx, Fields};
use crate::live::GatewayHealth;
use crate::pages::domains::{confirm_delete_page, store_failed};
use crate::pages::{error_at, field, FORM_ERRORS};

/// One row of the list: the stored gateway and its health, as text.
#[derive(serde::Serialize)]
struct Row {
    name: String,
    address: String,
    transport: &'static str,
    strip: u32,
    prefix: String,
    probe: String,
    tls_verify: String,
    state: &'static str,
    failed_probes: String,
    last_answer: String,
    attempts: String,
    answers: String,
    failed: String,
}

fn row(g: model::Gateway, h: Option<&GatewayHealth>, now: u64) -> Row {
    let dash = || "-".to_string();
    let (state, failed_probes, last_answer, attempts, answers, failed) = match h {
        None => ("unknown", dash(), dash(), dash(), dash(), dash()),
        Some(h) => (
            if h.up { "up" } else { "down" },
            h.failed_probes.to_string(),
            match h.last_answer {
                Some((status, at)) => format!("{status}, {}s ago", now.saturating_sub(at)),
                None if h.probed => "none yet".into(),
                None => "not probed".into(),
            },
            h.attempts.to_string(),
            h.answers.to_string(),
            h.failed.to_string(),
        ),
    };
    let tls_verify = g.tls_summary();
    Row {
        name: g.name,
        address: g.addr.to_string(),
        transport: g.transport.as_str(),
        strip: g.strip,
        prefix: g.prefix,
        probe: if g.probe_secs == 0 {
            "never".into()
        } else {
            format!("{}s", g.probe_secs)
        },
        tls_verify,
        state,
        failed_probes,
        last_answer,
        attempts,
        answers,
        failed,
    }
}

async fn render(ctx: &Ctx, form: &Fields, errors: &Fields, status: StatusCode) -> Response {
    let gateways = match ctx.app.pstn.gateways().await {
        Ok(g) => g,
        Err(e) => return store_failed(ctx, &e),
    };
    let health = ctx.app.server.gateway_health().await;
    let server_answered = health.is_some();
    let by_name: HashMap<String, GatewayHealth> = health
        .unwrap_or_default()
        .into_iter()
        .map(|h| (h.name.clone(), h))
        .collect();
    let now = unix_now();
    let gateways: Vec<Row> = gateways
        .into_iter()
        .map(|g| {
            let h = by_name.get(&g.name);
            row(g, h, now)
        })
        .collect();
    let transports = ["udp", "tcp", "tls"];
    ctx.app.templates.page_with_status(
        status,
        &ctx.frame(),
        "gateways.html",
        minijinja::context! { gateways, server_answered, form, errors, transports },
    )
}

/// GET `/gateways`.
pub async fn list(ctx: Ctx) -> Response {
    if let Err(r) = ctx.admin() {
        return r;
    }
    let form = Fields::from([
        ("transport".to_string(), "udp".to_string()),
        ("strip".to_string(), "0".to_string()),
        ("probe".to_string(), model::DEFAULT_PROBE_SECS.to_string()),
        ("tls_verify".to_string(), "verify".to_string()),
    ]);
    render(&ctx, &form, &Fields::new(), StatusCode::OK).await
}

/// A whole number typed in `name`, or the error next to it.
fn number(form: &Fields, name: &str, errors: &mut Fields) -> u32 {
    let v = field(form, name);
    if v.is_empty() {
        return 0;
    }
    v.parse().unwrap_or_else(|_| {
        errors.insert(name.into(), format!("{v:?} is not a whole number"));
        0
    })
}

/// POST `/gateways`: name, address (IP:PORT), transport, strip, prefix, probe, tls_verify.
pub async fn add(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.admin().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    match save(&ctx, &f, false).await {
        Ok(()) => see_other("/gateways"),
        Err(errors) => render(&ctx, &f, &errors, FORM_ERRORS).await,
    }
}

/// The edit form of a gateway.
fn edit_page(
    ctx: &Ctx,
    name: &str,
    form: &Fields,
    errors: &Fields,
    status: StatusCode,
) -> Response {
    ctx.app.templates.page_with_status(
        status,
        &ctx.frame(),
        "gateway_edit.html",
        minijinja::context! { name, form, errors, transports => ["udp", "tcp", "tls"] },
    )
}

/// GET `/gateways/{name}/edit`: the form, filled with the gateway as stored.
pub async fn edit_form(ctx: Ctx, Path(name): Path<String>) -> Response {
    if let Err(r) = ctx.admin() {
        return r;
    }
    let gateways = match ctx.app.pstn.gateways().await {
        Ok(g) => g,
        Err(e) => return store_failed(&ctx, &e),
    };
    let Some(g) = gateways.into_iter().find(|g| g.name == name) else {
        return ctx.not_found();
    };
    let form = Fields::from([
        ("address".to_string(), g.addr.to_string()),
        ("transport".to_string(), g.transport.as_str().to_string()),
        ("strip".to_string(), g.strip.to_string()),
        ("prefix".to_string(), g.prefix),
        ("probe".to_string(), g.probe_secs.to_string()),
        ("tls_verify".to_string(), g.tls_verify.to_string()),
    ]);
    edit_page(&ctx, &name, &form, &Fields::new(), StatusCode::OK)
}

/// POST `/gateways/{name}/edit`.
pub async fn edit(ctx: Ctx, Path(name): Path<String>, Form(mut f): Form<Fields>) -> Response {
    if let Err(r) = ctx.admin().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    f.insert("name".into(), name.clone());
    match save(&ctx, &f, true).await {
        Ok(()) => see_other("/gateways"),
        Err(errors) if errors.contains_key("gone") => ctx.not_found(),
        Err(errors) => edit_page(&ctx, &name, &f, &errors, FORM_ERRORS),
    }
}

/// Adds (or, with `update`, changes) the gateway the form describes; the errors by field
/// otherwise (`gone`: the gateway to change does not exist).
async fn save(ctx: &Ctx, f: &Fields, update: bool) -> Result<(), Fields> {
    let mut errors = Fields::new();
    let strip = number(f, "strip", &mut errors);
    let probe = number(f, "probe", &mut errors);
    let (name, address, transport, prefix, tls_verify) = (
        field(f, "name"),
        field(f, "address"),
        field(f, "transport"),
        field(f, "prefix"),
        field(f, "tls_verify"),
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    let input = admin::GatewayInput {
        name: &name,
        address: &address,
        transport: Some(transport.as_str()).filter(|t| !t.is_empty()),
        strip,
        prefix: &prefix,
        probe_secs: Some(probe),
        tls_verify: Some(tls_verify.as_str()).filter(|v| !v.trim().is_empty()),
    };
    let outcome = if update {
        admin::update_gateway(ctx.app.pstn.as_ref(), &input).await
    } else {
        admin::add_gateway(ctx.app.pstn.as_ref(), &input).await
    };
    match outcome {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            let g = &done.result;
            let action = if update {
                "gateway.edit"
            } else {
                "gateway.add"
            };
            ctx.audit(
                action,
                &format!(
                    "{} {} {} strip {} prefix {:?} probe {} tls_verify {}",
                    g.name,
                    g.addr,
                    g.transport.as_str(),
                    g.strip,
                    g.prefix,
                    g.probe_secs,
                    g.tls_verify
                ),
            )
            .await;
            return Ok(());
        }
        Err(e) if update && e.http_status() == 404 => {
            errors.insert("gone".into(), e.to_string());
        }
        Err(e) => error_at(&mut errors, &e, &[("gateway", "name")], "name"),
    }
    Err(errors)
}

/// GET `/gateways/{name}/delete`: asks first.
pub async fn confirm_delete(ctx: Ctx, Path(name): Path<String>) -> Response {
    if let Err(r) = ctx.admin() {
        return r;
    }
    confirm_delete_page(&ctx, "gateways", &name, "/gateways")
}

/// POST `/gateways/{name}/delete`: a gateway a route still uses is not deleted; the list
/// says why.
pub async fn delete(ctx: Ctx, Path(name): Path<String>, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.admin().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    match admin::delete_gateway(ctx.app.pstn.as_ref(), &name).await {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            ctx.audit("gateway.delete", &name).await;
            see_other("/gateways")
        }
        Err(e) if e.http_status() == 404 => ctx.not_found(),
        Err(e) if e.http_status() == 503 => store_failed(&ctx, &e),
        Err(e) => {
            let errors = Fields::from([("delete".to_string(), e.to_string())]);
            render(&ctx, &Fields::new(), &errors, StatusCode::CONFLICT).await
        }
    }
}
