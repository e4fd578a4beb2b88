//! The user's lists on their own page: find-me (targets tried in turn, one per line,
//! `target,seconds`) and screening (incoming and outgoing, one pattern per line:
//! `user@domain`, `@domain`, `prefix*`, `anonymous`). Each list is replaced as a whole
//! through the `admin` use cases; errors name the line.

use model::{AddressOfRecord, ScreenDirection, UserSettings};

use crate::app::{Ctx, Fields};

/// The lists' current text, by form field (`findme`, `screen_in`, `screen_out`).
pub async fn current(ctx: &Ctx, user: &AddressOfRecord) -> Result<Fields, model::StoreError> {
    let rows = ctx.app.store.settings(user).await?;
    let s = UserSettings::from_rows(rows.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let findme: Vec<String> = s
        .findme
        .map(|f| {
            f.targets
                .iter()
                .map(|(t, secs)| format!("{t},{secs}"))
                .collect()
        })
        .unwrap_or_default();
    let list = |d: ScreenDirection| -> Vec<String> {
        s.screening
            .iter()
            .filter(|r| r.direction == d)
            .map(|r| r.pattern.to_string())
            .collect()
    };
    Ok(Fields::from([
        ("findme".to_string(), findme.join("\n")),
        (
            "screen_in".to_string(),
            list(ScreenDirection::Incoming).join("\n"),
        ),
        (
            "screen_out".to_string(),
            list(ScreenDirection::Outgoing).join("\n"),
        ),
    ]))
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Saves the submitted lists; returns the errors by field (empty when all went well).
pub async fn save(ctx: &Ctx, user: &AddressOfRecord, form: &Fields) -> Fields {
    let store = ctx.app.store.as_ref();
    let mut errors = Fields::new();
    let before = match current(ctx, user).await {
        Ok(c) => c,
        Err(e) => {
            errors.insert("findme".into(), e.to_string());
            return errors;
        }
    };
    let findme = lines(form.get("findme").map_or("", String::as_str));
    let result = if findme.is_empty() {
        admin::clear_findme(store, user).await.map(|d| d.notices)
    } else {
        admin::set_findme(store, user, &findme)
            .await
            .map(|d| d.notices)
    };
    match result {
        Ok(n) => ctx.app.server.apply(&n).await,
        Err(e) => {
            errors.insert("findme".into(), e.to_string());
        }
    }
    for (field, d) in [
        ("screen_in", ScreenDirection::Incoming),
        ("screen_out", ScreenDirection::Outgoing),
    ] {
        let old = lines(before.get(field).map_or("", String::as_str));
        let new = lines(form.get(field).map_or("", String::as_str));
        for p in old.iter().filter(|p| !new.contains(p)) {
            match admin::delete_screen_rule(store, user, d, p).await {
                Ok(done) => ctx.app.server.apply(&done.notices).await,
                Err(e) => {
                    errors.insert(field.into(), e.to_string());
                }
            }
        }
        for p in new.iter().filter(|p| !old.contains(p)) {
            match admin::add_screen_rule(store, user, d, p).await {
                Ok(done) => ctx.app.server.apply(&done.notices).await,
                Err(e) => {
                    errors.insert(field.into(), e.to_string());
                }
            }
        }
    }
    errors
}
