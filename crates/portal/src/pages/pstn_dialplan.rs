//! Dial plans: per-domain rules (regular expression -> replacement, by priority) that
//! rewrite the numbers a domain's users dial before routing, and the `dialplan test` tool
//! as a form showing every rule tried and the number that results. Dial plans belong to a
//! domain, so a domain admin sees and changes their own domains' rules; the admin all.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use crate::app::{see_other, Ctx, Fields};
use crate::pages::domains::store_failed;
use crate::pages::{confirm_with_fields, error_at, field, scope, FORM_ERRORS};

/// What the page shows besides the rules: the add form (and its errors) and the test form
/// (and its result).
#[derive(Default)]
struct View {
    form: Fields,
    errors: Fields,
    test: Fields,
}

async fn render(ctx: &Ctx, view: View, status: StatusCode) -> Response {
    let mut rules = match ctx.app.pstn.dial_rules().await {
        Ok(r) => r,
        Err(e) => return store_failed(ctx, &e),
    };
    if let Some(mine) = scope(ctx) {
        rules.retain(|r| mine.contains(&r.domain));
    }
    // The test: the rules of the test's domain, as `dialplan test` runs them.
    let (test_domain, number) = (
        field(&view.test, "test_domain").to_ascii_lowercase(),
        field(&view.test, "number"),
    );
    let mut test_error = String::new();
    let mut result = None;
    if !number.is_empty() {
        if ctx.who().is_some_and(|p| p.manages(&test_domain)) {
            let of_domain: Vec<_> = rules
                .iter()
                .filter(|r| r.domain == test_domain)
                .cloned()
                .collect();
            let (out, steps) = model::DialPlan::new(of_domain).translate(&number);
            let steps: Vec<_> = steps
                .into_iter()
                .map(|s| minijinja::context! { pattern => s.pattern, result => s.result })
                .collect();
            result = Some(minijinja::context! { out, steps });
        } else {
            test_error = format!("domain {test_domain:?} is not one of yours");
        }
    }
    let rules: Vec<_> = rules
        .into_iter()
        .map(|r| {
            minijinja::context! {
                domain => r.domain, priority => r.priority,
                pattern => r.pattern, replacement => r.replacement,
            }
        })
        .collect();
    let View { form, errors, test } = view;
    ctx.app.templates.page_with_status(
        status,
        &ctx.frame(),
        "dialplan.html",
        minijinja::context! { rules, form, errors, test, test_error, result, number },
    )
}

/// GET `/dialplan` (with `test_domain` and `number`: the test's result too).
pub async fn list(ctx: Ctx, Query(test): Query<Fields>) -> Response {
    if let Err(r) = ctx.staff() {
        return r;
    }
    let form = Fields::from([("priority".to_string(), "100".to_string())]);
    let view = View {
        form,
        test,
        ..View::default()
    };
    render(&ctx, view, StatusCode::OK).await
}

/// POST `/dialplan`: domain, pattern, replacement, priority.
pub async fn add(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    if let Err(r) = ctx.staff().and_then(|_| ctx.check_csrf(&f)) {
        return r;
    }
    let (domain, pattern, replacement, priority) = (
        field(&f, "domain"),
        field(&f, "pattern"),
        field(&f, "replacement"),
        field(&f, "priority"),
    );
    let mut errors = Fields::new();
    let priority: i32 = if priority.is_empty() {
        100
    } else {
        priority.parse().unwrap_or_else(|_| {
            errors.insert(
                "priority".into(),
                format!("{priority:?} is not a whole number"),
            );
            0
        })
    };
    if !ctx
        .who()
        .is_some_and(|p| p.manages(&domain.to_ascii_lowercase()))
    {
        errors.insert(
            "domain".into(),
            format!("domain {domain:?} is not one of yours"),
        );
    }
    if errors.is_empty() {
        match ctx
            .app
            .pstn
            .add_dial_rule_checked(&domain, &pattern, &replacement, priority)
            .await
        {
            Ok(done) => {
                ctx.app.server.apply(&done.notices).await;
                ctx.audit(
                    "dialplan.add",
                    &format!("{domain}: {pattern} -> {replacement} (priority {priority})"),
                )
                .await;
                return see_other("/dialplan");
            }
            Err(e) => error_at(&mut errors, &e, &[("match", "pattern")], "pattern"),
        }
    }
    let view = View {
        form: f,
        errors,
        ..View::default()
    };
    render(&ctx, view, FORM_ERRORS).await
}

/// The rule a delete names.
#[derive(serde::Deserialize)]
pub struct Which {
    domain: String,
    pattern: String,
}

/// GET `/dialplan/delete?domain=..&pattern=..`: asks first.
pub async fn confirm_delete(ctx: Ctx, Query(w): Query<Which>) -> Response {
    if !ctx.who().is_some_and(|p| p.manages(&w.domain)) {
        return ctx.staff().err().unwrap_or_else(|| ctx.not_found());
    }
    confirm_with_fields(
        &ctx,
        &format!("{}: {}", w.domain, w.pattern),
        "/dialplan/delete",
        "/dialplan",
        vec![
            ("domain".into(), w.domain.clone()),
            ("pattern".into(), w.pattern.clone()),
        ],
    )
}

/// POST `/dialplan/delete`.
pub async fn delete(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    let (domain, pattern) = (
        field(&f, "domain").to_ascii_lowercase(),
        field(&f, "pattern"),
    );
    let reach = match ctx.staff() {
        Err(r) => Err(r),
        Ok(p) if p.manages(&domain) => Ok(()),
        Ok(_) => Err(ctx.not_found()),
    };
    if let Err(r) = ctx.posted_to(reach, &f) {
        return r;
    }
    let outcome = admin::delete_dial_rule(ctx.app.pstn.as_ref(), &domain, &pattern).await;
    crate::pages::domains::deleted(
        &ctx,
        outcome,
        "dialplan.delete",
        |()| format!("{domain}: {pattern}"),
        "/dialplan",
    )
    .await
}
