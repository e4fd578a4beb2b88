//! Click-to-dial (RFC 5359 §2.18) for a SIP user: they type a number (or pick one they
//! called before) and choose which of their registered phones is to call (the first is
//! chosen unless they pick another: one REFER to one phone, never a fork, so exactly one
//! phone places the call); the server REFERs that phone to it, and a page follows the
//! REFER's answer and then the call the phone places (ringing, answered, failed). The page
//! refreshes itself with the portal's script; without it, a link reloads it.
//!
//! Only ever the session's own user and their own attempts. The REFER and the progress
//! are the running server's ([`crate::RunningServer::click_to_dial`]).

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use model::{AddressOfRecord, CdrFilter};

use crate::app::{see_other, Ctx, Fields};
use crate::live::{DialRefused, DialStep};
use crate::pages::FORM_ERRORS;
use crate::session::Principal;

/// Numbers offered from the user's history.
const RECENT: usize = 10;
/// Records read to find them.
const RECENT_SCAN: u32 = 100;

fn me(ctx: &Ctx) -> Result<AddressOfRecord, Response> {
    match ctx.who() {
        Some(Principal::User(aor)) => Ok(aor.clone()),
        Some(Principal::Staff { .. }) => Err(ctx.forbidden()),
        None => Err(see_other("/login")),
    }
}

/// The URI to call for what the user typed: a `sip:` URI as it is, `user@domain` with
/// `sip:`, a number or name in the user's own domain. Errors say what is accepted.
pub fn target_uri(me: &AddressOfRecord, typed: &str) -> Result<String, String> {
    let typed = typed.trim();
    let bare = typed
        .strip_prefix("sip:")
        .or_else(|| typed.strip_prefix("sips:"))
        .unwrap_or(typed);
    let (user, domain) = match bare.split_once('@') {
        Some((u, d)) => (u, d),
        None => (bare, me.domain.as_str()),
    };
    let user_ok = !user.is_empty()
        && user.len() <= 64
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-_.!~*#".contains(&b));
    let domain_ok = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if user_ok && domain_ok {
        Ok(format!("sip:{user}@{}", domain.to_ascii_lowercase()))
    } else {
        Err(format!(
            "{typed:?} is not a number, user@domain or sip: URI"
        ))
    }
}

/// The user parts the user dialled lately, newest first, each once.
async fn recent(ctx: &Ctx, me: &AddressOfRecord) -> Vec<String> {
    let filter = CdrFilter {
        user: Some(me.to_string()),
        limit: Some(RECENT_SCAN),
        ..CdrFilter::default()
    };
    let mut out: Vec<String> = Vec::new();
    let Ok(records) = ctx.app.cdr.records(&filter).await else {
        return out;
    };
    for r in records.iter().rev() {
        if r.caller.as_deref() != Some(&me.to_string())
            && !r.caller_from.contains(&format!(":{me}"))
        {
            continue;
        }
        let n = crate::pages::calls::redial_number(&r.dialled);
        if !n.is_empty() && !out.contains(&n) {
            out.push(n);
        }
        if out.len() == RECENT {
            break;
        }
    }
    out
}

async fn form(
    ctx: &Ctx,
    me: &AddressOfRecord,
    number: &str,
    chosen: Option<&str>,
    error: Option<String>,
) -> Response {
    let status = if error.is_some() {
        FORM_ERRORS
    } else {
        StatusCode::OK
    };
    let recent = recent(ctx, me).await;
    let phones: Vec<(String, String)> = ctx
        .app
        .server
        .bindings(Some(me))
        .into_iter()
        .map(|b| (b.contact, b.user_agent))
        .collect();
    let chosen = chosen.unwrap_or("");
    ctx.app.templates.page_with_status(
        status,
        &ctx.frame(),
        "dial.html",
        minijinja::context! { number, error, recent, phones, chosen },
    )
}

/// GET `/me/dial?number=N`: the form (a number from the history prefilled).
pub async fn page(ctx: Ctx, Query(q): Query<Fields>) -> Response {
    match me(&ctx) {
        Ok(aor) => {
            let number = q.get("number").map_or("", |n| n.trim());
            form(&ctx, &aor, number, None, None).await
        }
        Err(r) => r,
    }
}

/// POST `/me/dial`: REFERs the user's phone, then shows the attempt's page.
pub async fn dial(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(me(&ctx), &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let typed = f.get("number").map_or("", |n| n.trim());
    let phone = f.get("phone").map(|p| p.trim()).filter(|p| !p.is_empty());
    let target = match target_uri(&aor, typed) {
        Ok(t) => t,
        Err(why) => return form(&ctx, &aor, typed, phone, Some(why)).await,
    };
    match ctx.app.server.click_to_dial(&aor, &target, phone).await {
        Ok(id) => {
            ctx.audit("dial.call", &format!("{aor} {target}")).await;
            see_other(&format!("/me/dial/{id}"))
        }
        Err(refused) => {
            tracing::warn!(target: "switchboard::portal", user = %aor, %target, ?refused, "click-to-dial refused");
            let key = match refused {
                DialRefused::NoPhone => "dial_no_phone",
                DialRefused::BadTarget => "dial_bad_target",
                DialRefused::Busy => "dial_busy",
            };
            form(
                &ctx,
                &aor,
                typed,
                phone,
                Some(ctx.lang.text(key).to_string()),
            )
            .await
        }
    }
}

/// Whether nothing more will happen to an attempt at this step.
fn settled(step: DialStep) -> bool {
    matches!(
        step,
        DialStep::Refused(_) | DialStep::Failed(_) | DialStep::Ended
    )
}

/// The step in words.
fn words(ctx: &Ctx, step: DialStep) -> String {
    let t = |k: &str| ctx.lang.text(k).to_string();
    match step {
        DialStep::Referring => t("dial_referring"),
        DialStep::Refused(s) => format!("{} ({s})", t("dial_refused")),
        DialStep::Accepted(s) => format!("{} ({s})", t("dial_accepted")),
        DialStep::Calling => t("dial_calling"),
        DialStep::Ringing => t("dial_ringing"),
        DialStep::Answered => t("dial_answered"),
        DialStep::Failed(s) => format!("{} ({s})", t("dial_failed")),
        DialStep::Ended => t("dial_ended"),
    }
}

/// GET `/me/dial/{id}`: where the attempt is.
pub async fn progress(ctx: Ctx, Path(id): Path<u64>) -> Response {
    let aor = match me(&ctx) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(p) = ctx.app.server.dial_progress(&aor, id) else {
        return ctx.not_found();
    };
    ctx.app.templates.page(
        &ctx.frame(),
        "dial_progress.html",
        minijinja::context! {
            id, target => p.target, phone => p.phone,
            step => words(&ctx, p.step), settled => settled(p.step),
        },
    )
}

/// GET `/me/dial/{id}/status`: the same as JSON, for the page's script.
pub async fn status(ctx: Ctx, Path(id): Path<u64>) -> Response {
    let aor = match me(&ctx) {
        Ok(a) => a,
        Err(r) => return r,
    };
    match ctx.app.server.dial_progress(&aor, id) {
        Some(p) => Json(serde_json::json!({
            "step": p.step,
            "text": words(&ctx, p.step),
            "settled": settled(p.step),
        }))
        .into_response(),
        None => ctx.not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_user_types_becomes_one_uri() {
        let me = AddressOfRecord::new("alice", "example.com");
        assert_eq!(target_uri(&me, " 2000 ").unwrap(), "sip:2000@example.com");
        assert_eq!(
            target_uri(&me, "bob@Other.TEST").unwrap(),
            "sip:bob@other.test"
        );
        assert_eq!(
            target_uri(&me, "sip:+4930123@example.com").unwrap(),
            "sip:+4930123@example.com"
        );
        for bad in [
            "",
            "bob>;x",
            "a b",
            "bob@ex ample",
            "x\r\nVia: y",
            "<sip:x@y>",
        ] {
            assert!(target_uri(&me, bad).is_err(), "{bad:?}");
        }
    }
}
