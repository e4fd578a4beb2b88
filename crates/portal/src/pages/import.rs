//! CSV import by file upload, with progress: the file (`user@domain,password` per line)
//! is read at once, then imported line by line by a background task while the page shows
//! a progress bar (refreshed by the portal's script; without it, by a link) and, at the
//! end, the per-line report. The same line rule serves the paste-in form of the user list.
//!
//! Jobs are held in a bounded table ([`MAX_JOBS`]; the oldest finished one goes first) and
//! shown only to the staff member who started them. Adding users is `admin`'s.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Multipart, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::AddressOfRecord;
use parking_lot::Mutex;

use crate::app::{see_other, App, Ctx, Fields};
use crate::session::Principal;

/// Import jobs kept at once (running or finished).
pub const MAX_JOBS: usize = 32;
/// Most lines one uploaded file may hold.
pub const MAX_UPLOAD_LINES: usize = 100_000;
/// Largest upload, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

/// One import.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Job {
    #[serde(skip)]
    owner: String,
    #[serde(skip)]
    began: Instant,
    /// Lines in the file.
    pub total: usize,
    /// Lines handled so far.
    pub done: usize,
    /// Users added.
    pub added: u64,
    /// (line number, why) of each line refused.
    pub errors: Vec<(usize, String)>,
    /// Whether every line has been handled.
    pub finished: bool,
}

/// The jobs, by number.
#[derive(Default)]
pub struct Jobs {
    table: Mutex<(u64, HashMap<u64, Job>)>,
}

impl Jobs {
    /// A new job of `owner` with `total` lines; None when the table is full of running
    /// jobs.
    fn begin(&self, owner: &str, total: usize) -> Option<u64> {
        let mut g = self.table.lock();
        if g.1.len() >= MAX_JOBS {
            let oldest =
                g.1.iter()
                    .filter(|(_, j)| j.finished)
                    .min_by_key(|(_, j)| j.began)
                    .map(|(k, _)| *k)?;
            g.1.remove(&oldest);
        }
        g.0 += 1;
        let id = g.0;
        g.1.insert(
            id,
            Job {
                owner: owner.to_string(),
                began: Instant::now(),
                total,
                done: 0,
                added: 0,
                errors: Vec::new(),
                finished: false,
            },
        );
        Some(id)
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut Job)) {
        if let Some(j) = self.table.lock().1.get_mut(&id) {
            f(j);
        }
    }

    /// Job `id` when `owner` started it.
    pub fn get(&self, owner: &str, id: u64) -> Option<Job> {
        self.table
            .lock()
            .1
            .get(&id)
            .filter(|j| j.owner == owner)
            .cloned()
    }
}

/// Imports one line (1-based `n`) for `who`: Ok(true) when a user was added, Ok(false)
/// for a blank or comment line, Err(why) when refused.
pub async fn import_line(app: &App, who: &Principal, line: &str) -> Result<bool, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(false);
    }
    let Some((name, password)) = line.split_once(',') else {
        return Err("expected user@domain,password".into());
    };
    let Some(aor) = AddressOfRecord::parse(name.trim()) else {
        return Err(format!("user {:?}: write it as user@domain", name.trim()));
    };
    if !who.manages(&aor.domain) {
        return Err(format!("domain {} is not one of yours", aor.domain));
    }
    let password = password.trim().to_string();
    match admin::add_user(app.store.as_ref(), &aor, || Ok(password)).await {
        Ok(done) => {
            app.server.apply(&done.notices).await;
            Ok(true)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// POST `/users/import/upload` (multipart: `csrf`, `file`): starts a job and shows it.
pub async fn upload(ctx: Ctx, mut form: Multipart) -> Response {
    let who = match ctx.staff() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let mut fields = Fields::new();
    let mut file: Option<Vec<u8>> = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let read = if name == "file" {
                    field.bytes().await.map(|b| {
                        file = Some(b.to_vec());
                    })
                } else {
                    field.text().await.map(|t| {
                        fields.insert(name, t);
                    })
                };
                if let Err(e) = read {
                    return (
                        StatusCode::BAD_REQUEST,
                        format!("upload: {}", e.body_text()),
                    )
                        .into_response();
                }
            }
            Ok(None) => break,
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("upload: {}", e.body_text()),
                )
                    .into_response()
            }
        }
    }
    if let Err(r) = ctx.check_csrf(&fields) {
        return r;
    }
    let text = match String::from_utf8(file.unwrap_or_default()) {
        Ok(t) if !t.trim().is_empty() => t,
        Ok(_) => return ctx.message(StatusCode::BAD_REQUEST, "error", "no_csv_file"),
        Err(_) => return ctx.message(StatusCode::BAD_REQUEST, "error", "csv_not_utf8"),
    };
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.len() > MAX_UPLOAD_LINES {
        return ctx.message(StatusCode::BAD_REQUEST, "error", "csv_too_long");
    }
    let owner = who.actor();
    let Some(id) = ctx.app.import_jobs.begin(&owner, lines.len()) else {
        return ctx.message(StatusCode::SERVICE_UNAVAILABLE, "error", "imports_busy");
    };
    ctx.audit("user.import", &format!("{} lines", lines.len()))
        .await;
    let app: Arc<App> = ctx.app.clone();
    tokio::spawn(async move {
        for (i, line) in lines.iter().enumerate() {
            let outcome = import_line(&app, &who, line).await;
            app.import_jobs.update(id, |j| {
                j.done = i + 1;
                match outcome {
                    Ok(true) => j.added += 1,
                    Ok(false) => {}
                    Err(why) => j.errors.push((i + 1, why)),
                }
            });
        }
        app.import_jobs.update(id, |j| {
            j.finished = true;
            tracing::info!(target: "switchboard::portal", actor = %j.owner, added = j.added, refused = j.errors.len(), "portal import finished");
        });
    });
    see_other(&format!("/users/import/{id}"))
}

/// GET `/users/import/{id}`: the progress bar, and the report once finished.
pub async fn progress(ctx: Ctx, Path(id): Path<u64>) -> Response {
    let who = match ctx.staff() {
        Ok(p) => p.actor(),
        Err(r) => return r,
    };
    let Some(job) = ctx.app.import_jobs.get(&who, id) else {
        return ctx.not_found();
    };
    ctx.app.templates.page(
        &ctx.frame(),
        "import_job.html",
        minijinja::context! { id, job },
    )
}

/// GET `/users/import/{id}/status`: the same as JSON, for the page's script.
pub async fn status(ctx: Ctx, Path(id): Path<u64>) -> Response {
    let who = match ctx.staff() {
        Ok(p) => p.actor(),
        Err(r) => return r,
    };
    match ctx.app.import_jobs.get(&who, id) {
        Some(job) => Json(serde_json::json!({
            "total": job.total, "done": job.done, "added": job.added,
            "refused": job.errors.len(), "finished": job.finished,
        }))
        .into_response(),
        None => ctx.not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_their_owners_and_bounded() {
        let jobs = Jobs::default();
        let id = jobs.begin("root", 3).unwrap();
        assert!(jobs.get("ops", id).is_none());
        jobs.update(id, |j| j.done = 2);
        assert_eq!(jobs.get("root", id).unwrap().done, 2);
        for _ in 1..MAX_JOBS {
            jobs.begin("root", 1).unwrap();
        }
        assert!(jobs.begin("root", 1).is_none(), "all running: none evicted");
        jobs.update(id, |j| j.finished = true);
        assert!(jobs.begin("root", 1).is_some());
        assert!(jobs.get("root", id).is_none(), "the finished one went");
    }
}
