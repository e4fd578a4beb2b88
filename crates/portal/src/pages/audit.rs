//! The audit log page (admin only): newest first, paged by entry number.

use axum::extract::Query;
use axum::response::Response;

use crate::app::{Ctx, Fields};
use crate::pages::domains::store_failed;

/// Entries per page.
const PAGE: u32 = 100;

/// GET `/audit?before=ID`.
pub async fn list(ctx: Ctx, Query(q): Query<Fields>) -> Response {
    if let Err(r) = ctx.admin() {
        return r;
    }
    let before = q.get("before").and_then(|b| b.parse::<i64>().ok());
    let entries = match ctx.app.store.audit(before, PAGE).await {
        Ok(e) => e,
        Err(e) => return store_failed(&ctx, &e),
    };
    let older = (entries.len() == PAGE as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let entries: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "when": utc(e.at), "actor": e.actor, "source": e.source,
                "action": e.action, "object": e.object,
            })
        })
        .collect();
    ctx.app.templates.page(
        &ctx.frame(),
        "audit.html",
        minijinja::context! { entries, older },
    )
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(t: u64) -> String {
    format!("{} UTC", admin::utc::date_time(t))
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_print_in_utc() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc(1_796_342_400), "2026-12-04 00:00:00 UTC");
    }
}
