//! A SIP user's voicemail: the mailbox's state, PIN change, greeting upload (converted
//! like `switchboard voicemail greeting`: any PCM WAV to 8 kHz mono) or back to the
//! default prompt, and the messages, each played in the browser from its own URL and
//! deletable.
//!
//! Only ever the session's own mailbox: a message's audio is served only when the
//! message is in the session user's mailbox (404 otherwise). Mailboxes are turned on and
//! off by admins (`switchboard voicemail enable`); the rules are `admin`'s, the rows
//! `model::VoicemailStore`'s. Files live in `<data_dir>/voicemail/USER@DOMAIN/`, as the
//! CLI and the voicemail service keep them.

use std::path::PathBuf;

use axum::extract::{Multipart, Path};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use model::{AddressOfRecord, Mailbox};

use crate::app::{see_other, Ctx, Fields};
use crate::pages::audit::utc;
use crate::pages::domains::store_failed;
use crate::pages::FORM_ERRORS;
use crate::session::Principal;

/// Largest greeting upload, in bytes (five minutes of 48 kHz 16-bit stereo is ~58 MB; a
/// greeting worth uploading is far shorter).
pub const MAX_GREETING_UPLOAD: usize = 20 * 1024 * 1024;

fn me(ctx: &Ctx) -> Result<AddressOfRecord, Response> {
    match ctx.who() {
        Some(Principal::User(aor)) => Ok(aor.clone()),
        Some(Principal::Staff { .. }) => Err(ctx.forbidden()),
        None => Err(see_other("/login")),
    }
}

fn mailbox_dir(ctx: &Ctx, aor: &AddressOfRecord) -> PathBuf {
    ctx.app.cfg.data_dir.join("voicemail").join(aor.to_string())
}

async fn render(
    ctx: &Ctx,
    aor: &AddressOfRecord,
    errors: &Fields,
    status: StatusCode,
    notice: Option<&str>,
) -> Response {
    let vm = ctx.app.voicemail.as_ref();
    let mailbox = match vm.mailbox(aor).await {
        Ok(m) => m,
        Err(e) => return store_failed(ctx, &e),
    };
    let messages = match &mailbox {
        Some(_) => match vm.messages(aor).await {
            Ok(m) => m,
            Err(e) => return store_failed(ctx, &e),
        },
        None => Vec::new(),
    };
    let messages: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id, "when": utc(m.received_at), "caller": m.caller,
                "secs": m.duration_secs, "new": m.status == model::MessageStatus::New,
            })
        })
        .collect();
    let mut frame = ctx.frame();
    frame.notice = notice.map(|k| ctx.lang.text(k).to_string());
    ctx.app.templates.page_with_status(
        status,
        &frame,
        "voicemail.html",
        minijinja::context! {
            user => aor.to_string(),
            has_mailbox => mailbox.is_some(),
            enabled => mailbox.as_ref().is_some_and(|m| m.enabled),
            custom_greeting => mailbox.as_ref().is_some_and(|m| m.greeting.is_some()),
            messages, errors,
        },
    )
}

/// GET `/me/voicemail`.
pub async fn page(ctx: Ctx) -> Response {
    match me(&ctx) {
        Ok(aor) => render(&ctx, &aor, &Fields::new(), StatusCode::OK, None).await,
        Err(r) => r,
    }
}

async fn mailbox(ctx: &Ctx, aor: &AddressOfRecord) -> Result<Mailbox, Response> {
    match ctx.app.voicemail.mailbox(aor).await {
        Ok(Some(m)) => Ok(m),
        Ok(None) => Err(ctx.not_found()),
        Err(e) => Err(store_failed(ctx, &e)),
    }
}

fn error(field: &str, text: impl Into<String>) -> Fields {
    Fields::from([(field.to_string(), text.into())])
}

/// POST `/me/voicemail/pin`: a new PIN (typed twice), the mailbox's other settings kept.
pub async fn set_pin(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(me(&ctx), &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let m = match mailbox(&ctx, &aor).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let pin = f.get("pin").map_or("", |p| p.trim()).to_string();
    if f.get("pin2").map(|p| p.trim()) != Some(pin.as_str()) {
        let errors = error("pin2", ctx.lang.text("pins_differ"));
        return render(&ctx, &aor, &errors, FORM_ERRORS, None).await;
    }
    let options = admin::VoicemailOptions {
        pin,
        after_secs: Some(m.after_secs),
        no_pin_at_home: m.no_pin_at_home,
    };
    let store = ctx.app.store.as_ref();
    match admin::enable_voicemail(store, ctx.app.voicemail.as_ref(), &aor, &options).await {
        Ok(done) => {
            // Setting the PIN must not turn on a mailbox an admin turned off.
            if !m.enabled {
                if let Err(e) = admin::disable_voicemail(ctx.app.voicemail.as_ref(), &aor).await {
                    return store_failed(&ctx, &e);
                }
            }
            ctx.app.server.apply(&done.notices).await;
            ctx.audit("voicemail.pin", &aor.to_string()).await;
            render(&ctx, &aor, &Fields::new(), StatusCode::OK, Some("saved")).await
        }
        Err(e) => {
            let text = e.to_string();
            let text = text.strip_prefix("pin: ").unwrap_or(&text).to_string();
            render(&ctx, &aor, &error("pin", text), FORM_ERRORS, None).await
        }
    }
}

/// The upload's fields: the CSRF token and the file's bytes.
async fn read_upload(mut form: Multipart) -> Result<(Fields, Option<Vec<u8>>), String> {
    let mut fields = Fields::new();
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or("").to_string();
        if name == "greeting" {
            let bytes = field.bytes().await.map_err(|e| e.body_text())?;
            file = Some(bytes.to_vec());
        } else {
            let text = field.text().await.map_err(|e| e.body_text())?;
            fields.insert(name, text);
        }
    }
    Ok((fields, file))
}

/// POST `/me/voicemail/greeting` (multipart): a WAV file, converted to 8 kHz mono and
/// stored as the mailbox's `greeting.wav`.
pub async fn upload_greeting(ctx: Ctx, form: Multipart) -> Response {
    let aor = match me(&ctx) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (fields, file) = match read_upload(form).await {
        Ok(u) => u,
        Err(why) => {
            let errors = error("greeting", format!("the upload failed: {why}"));
            return render(&ctx, &aor, &errors, FORM_ERRORS, None).await;
        }
    };
    if let Err(r) = ctx.check_csrf(&fields) {
        return r;
    }
    if let Err(r) = mailbox(&ctx, &aor).await {
        return r;
    }
    let bytes = file.unwrap_or_default();
    if bytes.is_empty() {
        let errors = error("greeting", ctx.lang.text("no_file"));
        return render(&ctx, &aor, &errors, FORM_ERRORS, None).await;
    }
    let wav = match admin::convert_greeting(&bytes) {
        Ok(w) => w,
        Err(e) => {
            let text = e.to_string();
            let text = text.strip_prefix("file: ").unwrap_or(&text).to_string();
            return render(&ctx, &aor, &error("greeting", text), FORM_ERRORS, None).await;
        }
    };
    let dir = mailbox_dir(&ctx, &aor);
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        let dir = dir.canonicalize().unwrap_or(dir);
        let target = dir.join("greeting.wav");
        let tmp = dir.join("greeting.wav.new");
        std::fs::write(&tmp, wav)?;
        std::fs::rename(&tmp, &target)?;
        Ok(target)
    });
    let target = match written {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, user = %aor, "portal: writing a greeting");
            return store_failed(&ctx, &e);
        }
    };
    let path = target.to_string_lossy();
    match admin::set_voicemail_greeting(ctx.app.voicemail.as_ref(), &aor, Some(&path)).await {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            ctx.audit("voicemail.greeting", &aor.to_string()).await;
            render(
                &ctx,
                &aor,
                &Fields::new(),
                StatusCode::OK,
                Some("greeting_saved"),
            )
            .await
        }
        Err(e) => store_failed(&ctx, &e),
    }
}

/// POST `/me/voicemail/greeting/default`: the default prompt plays again.
pub async fn default_greeting(ctx: Ctx, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(me(&ctx), &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    match admin::set_voicemail_greeting(ctx.app.voicemail.as_ref(), &aor, None).await {
        Ok(done) => {
            ctx.app.server.apply(&done.notices).await;
            ctx.audit("voicemail.greeting", &aor.to_string()).await;
            see_other("/me/voicemail")
        }
        Err(e) if e.http_status() == 404 => ctx.not_found(),
        Err(e) => store_failed(&ctx, &e),
    }
}

/// The message `id` of the session's user, if it is theirs.
async fn own_message(
    ctx: &Ctx,
    aor: &AddressOfRecord,
    id: i64,
) -> Result<model::VoicemailMessage, Response> {
    match ctx.app.voicemail.messages(aor).await {
        Ok(list) => list
            .into_iter()
            .find(|m| m.id == id)
            .ok_or_else(|| ctx.not_found()),
        Err(e) => Err(store_failed(ctx, &e)),
    }
}

/// The session's user and their message `id` (a GET's page: no form to check).
async fn my_message(
    ctx: &Ctx,
    id: i64,
) -> Result<(AddressOfRecord, model::VoicemailMessage), Response> {
    let aor = me(ctx)?;
    let m = own_message(ctx, &aor, id).await?;
    Ok((aor, m))
}

/// GET `/me/voicemail/{id}/audio`: the message's WAV file.
pub async fn audio(ctx: Ctx, Path(id): Path<i64>) -> Response {
    let (aor, m) = match my_message(&ctx, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    match tokio::fs::read(&m.file).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "audio/wav"),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, file = %m.file, user = %aor, "portal: a message's file is unreadable");
            ctx.not_found()
        }
    }
}

/// GET `/me/voicemail/{id}/delete`: asks first.
pub async fn confirm_delete(ctx: Ctx, Path(id): Path<i64>) -> Response {
    let (_, m) = match my_message(&ctx, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    ctx.app.templates.page(
        &ctx.frame(),
        "confirm.html",
        minijinja::context! {
            what => format!("{} {} ({})", ctx.lang.text("vm_message_of"), m.caller, utc(m.received_at)),
            action => format!("/me/voicemail/{id}/delete"),
            back => "/me/voicemail",
            fields => Vec::<(String, String)>::new(),
        },
    )
}

/// POST `/me/voicemail/{id}/delete`: the message and its file go.
pub async fn delete(ctx: Ctx, Path(id): Path<i64>, Form(f): Form<Fields>) -> Response {
    let aor = match ctx.posted_to(me(&ctx), &f) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Err(r) = own_message(&ctx, &aor, id).await {
        return r;
    }
    match admin::delete_voicemail_message(ctx.app.voicemail.as_ref(), &aor, id).await {
        Ok(done) => {
            match std::fs::remove_file(&done.result.file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(error = %e, file = %done.result.file, "portal: removing a message's file")
                }
            }
            ctx.app.server.apply(&done.notices).await;
            ctx.audit("voicemail.delete", &format!("{aor} {id}")).await;
            see_other("/me/voicemail")
        }
        Err(e) if e.http_status() == 404 => ctx.not_found(),
        Err(e) => store_failed(&ctx, &e),
    }
}
