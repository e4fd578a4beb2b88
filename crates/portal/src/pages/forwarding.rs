//! The forwarding form shared by the user's own page and the admin's page of a user: the
//! four kinds (always, busy, no answer with its delay, unavailable), each set or cleared
//! through the `admin` use cases, errors kept per field.

use admin::ForwardKind;
use model::{AddressOfRecord, UserSettings};

use crate::app::{Ctx, Fields};

const KINDS: [(&str, ForwardKind); 4] = [
    ("always", ForwardKind::Always),
    ("busy", ForwardKind::Busy),
    ("no_answer", ForwardKind::NoAnswer),
    ("unavailable", ForwardKind::Unavailable),
];

/// The form's current values for `user`.
pub async fn current(ctx: &Ctx, user: &AddressOfRecord) -> Result<Fields, model::StoreError> {
    let rows = ctx.app.store.settings(user).await?;
    let s = UserSettings::from_rows(rows.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let f = s.forwarding;
    let mut out = Fields::new();
    out.insert("always".into(), f.always.unwrap_or_default());
    out.insert("busy".into(), f.busy.unwrap_or_default());
    let (na, delay) = f
        .no_answer
        .map_or((String::new(), admin::DEFAULT_NO_ANSWER_SECS), |(t, d)| {
            (t, d)
        });
    out.insert("no_answer".into(), na);
    out.insert("delay".into(), delay.to_string());
    out.insert("unavailable".into(), f.unavailable.unwrap_or_default());
    Ok(out)
}

/// Applies the submitted form; returns the errors by field (empty when all went well).
/// Each kind is set or cleared on its own, so a bad field leaves the others saved.
pub async fn save(ctx: &Ctx, user: &AddressOfRecord, form: &Fields) -> Fields {
    let mut errors = Fields::new();
    let delay = match form
        .get("delay")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(d) => match d.parse::<u32>() {
            Ok(n) if (1..=model::MAX_RING_SECS).contains(&n) => Some(n),
            _ => {
                errors.insert(
                    "delay".into(),
                    format!(
                        "delay: a number of seconds from 1 to {}",
                        model::MAX_RING_SECS
                    ),
                );
                return errors;
            }
        },
    };
    let store = ctx.app.store.as_ref();
    for (field, kind) in KINDS {
        let target = form.get(field).map_or("", |s| s.trim());
        let result = if target.is_empty() {
            admin::clear_forwarding(store, user, Some(kind))
                .await
                .map(|d| d.notices)
        } else {
            let after = if kind == ForwardKind::NoAnswer {
                delay
            } else {
                None
            };
            admin::set_forwarding(store, user, kind, target, after)
                .await
                .map(|d| d.notices)
        };
        match result {
            Ok(notices) => ctx.app.server.apply(&notices).await,
            Err(e) => {
                errors.insert(field.to_string(), e.to_string());
            }
        }
    }
    errors
}

/// What the forwarding and list forms show: the stored values, overlaid with a submitted
/// form's (so a form with errors shows what was typed).
pub async fn form_values(
    ctx: &Ctx,
    user: &AddressOfRecord,
    submitted: Option<&Fields>,
) -> Result<Fields, model::StoreError> {
    let mut values = current(ctx, user).await?;
    values.extend(crate::pages::lists::current(ctx, user).await?);
    if let Some(f) = submitted {
        values.extend(
            f.iter()
                .filter(|(k, _)| *k != "csrf")
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    Ok(values)
}
