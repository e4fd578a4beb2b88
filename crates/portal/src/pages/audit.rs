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

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC` (civil-from-days, Howard Hinnant's).
pub fn utc(t: u64) -> String {
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_print_in_utc() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc(1_796_342_400), "2026-12-04 00:00:00 UTC");
    }
}
