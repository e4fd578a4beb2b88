//! Call history (CDRs): the admin's (every call, or a domain admin's domains) and a user's
//! own ("my calls"), filtered by user, start time and final status, newest first, paged by
//! (start, id) keyset, and exported as the same RFC 4180 CSV as `switchboard cdr export`.
//!
//! The filter is parsed by `admin::cdr::cdr_filter` (the CLI's) and records are read through
//! [`model::CdrStore`]; this module owns only who sees which records and the page.

use axum::extract::Query;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use model::{CallRecord, CdrFilter};

use crate::app::{see_other, Ctx, Fields};
use crate::pages::domains::{store_failed, urlencode};
use crate::pages::scope;
use crate::session::Principal;

/// Most records one CSV export holds (newest first when over).
pub const MAX_EXPORT: u32 = 100_000;

/// Whose history a request reads.
enum Whose {
    /// Staff: everything, or only `domains` for a domain admin.
    Staff(Option<Vec<String>>),
    /// A user: their own calls.
    Own(String),
}

fn whose(ctx: &Ctx, own: bool) -> Result<Whose, Response> {
    match (ctx.who(), own) {
        (None, _) => Err(see_other("/login")),
        (Some(Principal::User(aor)), true) => Ok(Whose::Own(aor.to_string())),
        (Some(Principal::Staff { .. }), false) => Ok(Whose::Staff(scope(ctx))),
        _ => Err(ctx.forbidden()),
    }
}

/// The filter from the query string (`user`, `since`, `until`, `status`, `before_ms` and
/// `before_id`), narrowed to what the principal may see; errors by field.
fn filter(who: &Whose, q: &Fields) -> Result<CdrFilter, Fields> {
    let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let user = match who {
        Whose::Own(me) => Some(me.as_str()),
        Whose::Staff(_) => get("user"),
    };
    let mut f =
        admin::cdr::cdr_filter(user, get("since"), get("until"), get("status")).map_err(|e| {
            let field = e
                .field()
                .unwrap_or("user")
                .trim_start_matches('-')
                .to_string();
            let text = e.to_string();
            let text = text
                .strip_prefix(&format!("--{field}: "))
                .unwrap_or(&text)
                .to_string();
            Fields::from([(field, text)])
        })?;
    if let Whose::Staff(Some(domains)) = who {
        f.domains = Some(domains.clone());
    }
    if let (Some(ms), Some(id)) = (
        get("before_ms").and_then(|m| m.parse::<u64>().ok()),
        get("before_id"),
    ) {
        f.before = Some((ms, id.to_string()));
    }
    Ok(f)
}

/// One row as the page shows it.
fn row(r: &CallRecord) -> serde_json::Value {
    let status = if r.reason.is_empty() {
        r.status.to_string()
    } else {
        format!("{} {}", r.status, r.reason)
    };
    serde_json::json!({
        "started": admin::cdr::format_time(r.started_ms),
        "caller": r.caller.clone().unwrap_or_else(|| r.caller_from.clone()),
        "dialled": r.dialled,
        "target": r.target,
        "status": status,
        "answered": (200..300).contains(&r.status),
        "duration": r.duration_ms.map(|d| format!("{}.{:03}", d / 1000, d % 1000)),
        "hangup": r.hangup,
        "gateway": r.gateway,
        "number": redial_number(&r.dialled),
    })
}

/// What click-to-dial would call again for a dialled URI: its user part (`sip:2000@d` is
/// `2000`).
pub fn redial_number(dialled: &str) -> String {
    let rest = dialled
        .strip_prefix("sips:")
        .or_else(|| dialled.strip_prefix("sip:"))
        .unwrap_or(dialled);
    rest.split(['@', ';', '?']).next().unwrap_or("").to_string()
}

/// The query string of the filter fields (for the pager and the CSV link).
fn keep(q: &Fields) -> String {
    ["user", "since", "until", "status"]
        .iter()
        .filter_map(|k| {
            q.get(*k)
                .filter(|v| !v.trim().is_empty())
                .map(|v| format!("{k}={}", urlencode(v.trim())))
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn page(ctx: Ctx, q: Fields, own: bool) -> Response {
    let who = match whose(&ctx, own) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let base = if own { "/me/calls" } else { "/calls" };
    let size = ctx.app.cfg.page_size;
    let (records, errors) = match filter(&who, &q) {
        Ok(mut f) => {
            f.limit = Some(size + 1);
            if let Err(e) = admin::cdr::add_user_aliases(ctx.app.store.as_ref(), &mut f).await {
                return store_failed(&ctx, &e);
            }
            match admin::cdr::list_records(ctx.app.cdr.as_ref(), &f).await {
                Ok(mut r) => {
                    r.reverse();
                    (r, Fields::new())
                }
                Err(e) => return store_failed(&ctx, &e),
            }
        }
        Err(errors) => (Vec::new(), errors),
    };
    let more = records.len() > size as usize;
    let records: Vec<&CallRecord> = records.iter().take(size as usize).collect();
    let filters = keep(&q);
    let sep = if filters.is_empty() { "" } else { "&" };
    let older = more.then(|| records.last()).flatten().map(|r| {
        format!(
            "{base}?{filters}{sep}before_ms={}&before_id={}",
            r.started_ms,
            urlencode(&r.id)
        )
    });
    let rows: Vec<serde_json::Value> = records.iter().map(|r| row(r)).collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        crate::pages::FORM_ERRORS
    };
    let form: Fields = ["user", "since", "until", "status"]
        .iter()
        .filter_map(|k| q.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    ctx.app.templates.page_with_status(
        status,
        &ctx.frame(),
        "calls.html",
        minijinja::context! {
            rows, errors, form, own, base, older,
            first => q.contains_key("before_ms").then(|| format!("{base}?{filters}")),
            csv => format!("{base}.csv?{filters}"),
        },
    )
}

async fn export(ctx: Ctx, q: Fields, own: bool) -> Response {
    let who = match whose(&ctx, own) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let mut f = match filter(&who, &q) {
        Ok(f) => f,
        Err(errors) => {
            let text: Vec<String> = errors
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            return (StatusCode::BAD_REQUEST, text.join("\n")).into_response();
        }
    };
    f.before = None;
    f.limit = Some(MAX_EXPORT);
    if let Err(e) = admin::cdr::add_user_aliases(ctx.app.store.as_ref(), &mut f).await {
        return store_failed(&ctx, &e);
    }
    let records = match admin::cdr::list_records(ctx.app.cdr.as_ref(), &f).await {
        Ok(r) => r,
        Err(e) => return store_failed(&ctx, &e),
    };
    let mut out = Vec::new();
    if let Err(e) = admin::cdr::write_csv(&records, &mut out) {
        return store_failed(&ctx, &e);
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "text/csv; charset=utf-8; header=present",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"calls.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

/// GET `/calls?user=&since=&until=&status=&before_ms=&before_id=` (staff).
pub async fn list(ctx: Ctx, Query(q): Query<Fields>) -> Response {
    page(ctx, q, false).await
}

/// GET `/calls.csv?...` (staff): the filtered records as CSV.
pub async fn csv(ctx: Ctx, Query(q): Query<Fields>) -> Response {
    export(ctx, q, false).await
}

/// GET `/me/calls?since=&until=&status=...`: the user's own calls.
pub async fn mine(ctx: Ctx, Query(q): Query<Fields>) -> Response {
    page(ctx, q, true).await
}

/// GET `/me/calls.csv?...`: the user's own calls as CSV.
pub async fn mine_csv(ctx: Ctx, Query(q): Query<Fields>) -> Response {
    export(ctx, q, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_filter_is_always_their_own() {
        let q = Fields::from([("user".to_string(), "boss@example.com".to_string())]);
        let f = filter(&Whose::Own("me@example.com".into()), &q).unwrap();
        assert_eq!(f.user.as_deref(), Some("me@example.com"));
        let f = filter(&Whose::Staff(Some(vec!["example.com".into()])), &q).unwrap();
        assert_eq!(f.user.as_deref(), Some("boss@example.com"));
        assert_eq!(f.domains, Some(vec!["example.com".to_string()]));
    }

    #[test]
    fn errors_name_the_field() {
        let q = Fields::from([("since".to_string(), "soon".to_string())]);
        let e = filter(&Whose::Staff(None), &q).unwrap_err();
        assert!(e["since"].starts_with("\"soon\" is not a time"), "{e:?}");
        let q = Fields::from([("status".to_string(), "99".to_string())]);
        assert!(filter(&Whose::Staff(None), &q)
            .unwrap_err()
            .contains_key("status"));
    }

    #[test]
    fn history_redials_the_user_part() {
        assert_eq!(redial_number("sip:2000@example.com;user=phone"), "2000");
        assert_eq!(redial_number("sip:bob@example.com"), "bob");
    }
}
