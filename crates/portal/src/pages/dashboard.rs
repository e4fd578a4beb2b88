//! The dashboard: registered phones, calls up and in setup, calls per minute, failures by
//! cause, from the running server's figures, and (for the admin) each gateway's health; `/api/live` gives the same as JSON for the
//! script that refreshes the page.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};

use crate::app::{App, Ctx};
use crate::live::Figures;

/// Samples kept for the calls-per-minute rate (one per request at most every second).
const MAX_SAMPLES: usize = 120;

/// The figures and calls per minute over the last minute of samples.
async fn figures(app: &App) -> Option<(Figures, u64)> {
    let f = app.server.figures().await?;
    let now = Instant::now();
    let mut s = app.samples.lock();
    if s.back()
        .is_none_or(|(t, _)| now.duration_since(*t) >= Duration::from_secs(1))
    {
        s.push_back((now, f.invites_total));
    }
    while s.len() > MAX_SAMPLES
        || s.front()
            .is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(70))
    {
        s.pop_front();
    }
    let cpm = match (s.front(), s.back()) {
        (Some((t0, n0)), Some((t1, n1))) if t1 > t0 => {
            let secs = t1.duration_since(*t0).as_secs_f64();
            ((n1.saturating_sub(*n0)) as f64 * 60.0 / secs).round() as u64
        }
        _ => 0,
    };
    Some((f, cpm))
}

/// GET `/dashboard`.
pub async fn page(ctx: Ctx) -> Response {
    if let Err(r) = ctx.staff() {
        return r;
    }
    let Some((f, cpm)) = figures(&ctx.app).await else {
        return ctx.message(StatusCode::SERVICE_UNAVAILABLE, "dashboard", "none");
    };
    // Gateways serve every domain: their health is the admin's.
    let gateways = if ctx.who().is_some_and(|p| p.is_admin()) {
        ctx.app.server.gateway_health().await.unwrap_or_default()
    } else {
        Vec::new()
    };
    ctx.app.templates.page(
        &ctx.frame(),
        "dashboard.html",
        minijinja::context! { f, cpm, gateways },
    )
}

/// GET `/api/live`: the dashboard's figures as JSON.
pub async fn live(ctx: Ctx) -> Response {
    if let Err(r) = ctx.staff() {
        return r;
    }
    match figures(&ctx.app).await {
        Some((f, cpm)) => Json(serde_json::json!({
            "registered": f.registered,
            "calls_up": f.calls_up,
            "calls_in_setup": f.calls_in_setup,
            "calls_per_minute": cpm,
            "failures": f.failures,
        }))
        .into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}
