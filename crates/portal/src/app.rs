//! The application: shared state, the request context every handler starts from (session,
//! language, client address), the routes, and the answers shared by every page (login
//! redirect, 403, 404, CSRF refusal, audit).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use model::{AuditEntry, PortalStore};
use parking_lot::Mutex;

use crate::i18n::Lang;
use crate::live::RunningServer;
use crate::render::{Frame, Templates};
use crate::security::{cookie, csrf_ok};
use crate::session::{Principal, Session, Sessions};
use crate::throttle::Throttle;
use crate::{pages, PortalConfig};

/// Session cookie name.
pub const SESSION_COOKIE: &str = "sb_session";
/// Language cookie name.
pub const LANG_COOKIE: &str = "sb_lang";

/// Everything the handlers share.
pub struct App {
    pub(crate) store: Arc<dyn PortalStore>,
    pub(crate) cdr: Arc<dyn model::CdrStore>,
    pub(crate) voicemail: Arc<dyn model::VoicemailStore>,
    /// Gateways, routes, dial plans, trusted peers (`pages/pstn*.rs`).
    pub(crate) pstn: Arc<dyn crate::pstn::PstnBackend>,
    /// CSV imports by file upload (`pages/import.rs`).
    pub(crate) import_jobs: pages::import::Jobs,
    pub(crate) server: Arc<dyn RunningServer>,
    pub(crate) sessions: Sessions,
    pub(crate) throttle: Throttle,
    pub(crate) templates: Templates,
    pub(crate) cfg: PortalConfig,
    /// (when, INVITEs received so far), newest last, for calls per minute; bounded.
    pub(crate) samples: Mutex<VecDeque<(Instant, u64)>>,
}

/// The request as a handler sees it.
pub struct Ctx {
    pub(crate) app: Arc<App>,
    pub(crate) session: Option<(String, Session)>,
    pub(crate) lang: Lang,
    pub(crate) addr: SocketAddr,
    pub(crate) path: String,
}

impl FromRequestParts<Arc<App>> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0);
        let now = Instant::now();
        let session = cookie(&parts.headers, SESSION_COOKIE)
            .and_then(|id| app.sessions.get(id, now).map(|s| (id.to_string(), s)));
        let lang = cookie(&parts.headers, LANG_COOKIE)
            .and_then(Lang::parse)
            .unwrap_or_else(|| {
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .map_or(Lang::En, Lang::from_accept_language)
            });
        Ok(Ctx {
            app: app.clone(),
            session,
            lang,
            addr,
            path: parts.uri.path().to_string(),
        })
    }
}

/// A submitted form, field by field.
pub type Fields = HashMap<String, String>;

impl Ctx {
    /// The page frame.
    pub fn frame(&self) -> Frame {
        Frame::new(self.lang, self.session.as_ref().map(|(_, s)| s), &self.path)
    }

    /// Who is logged in.
    pub fn who(&self) -> Option<&Principal> {
        self.session.as_ref().map(|(_, s)| &s.who)
    }

    /// The logged-in admin or domain admin; otherwise the answer to give (the login page
    /// for nobody, 403 for a SIP user).
    pub fn staff(&self) -> Result<&Principal, Response> {
        match self.who() {
            None => Err(Redirect::to("/login").into_response()),
            Some(p @ Principal::Staff { .. }) => Ok(p),
            Some(Principal::User(_)) => Err(self.forbidden()),
        }
    }

    /// The logged-in admin (not a domain admin).
    pub fn admin(&self) -> Result<&Principal, Response> {
        let p = self.staff()?;
        if p.is_admin() {
            Ok(p)
        } else {
            Err(self.forbidden())
        }
    }

    /// What a form post acts on (`target`: the user or alias the page is about, or the
    /// error page when it is not theirs to change), once the form's CSRF token is checked.
    pub fn posted_to<T>(&self, target: Result<T, Response>, form: &Fields) -> Result<T, Response> {
        target.and_then(|t| self.check_csrf(form).map(|()| t))
    }

    /// A form's CSRF token is the session's; otherwise 403.
    pub fn check_csrf(&self, form: &Fields) -> Result<(), Response> {
        let expected = self.session.as_ref().map_or("", |(_, s)| s.csrf.as_str());
        if csrf_ok(expected, form.get("csrf").map(String::as_str)) {
            Ok(())
        } else {
            tracing::warn!(target: "switchboard::portal", source = %self.addr.ip(), path = %self.path, "portal form refused: missing or wrong CSRF token");
            Err(self.message(StatusCode::FORBIDDEN, "forbidden", "bad_form"))
        }
    }

    /// A page with a translated heading and sentence.
    pub fn message(&self, status: StatusCode, heading: &str, text: &str) -> Response {
        self.app.templates.message(
            status,
            &self.frame(),
            self.lang.text(heading),
            self.lang.text(text),
        )
    }

    /// 403.
    pub fn forbidden(&self) -> Response {
        self.message(StatusCode::FORBIDDEN, "forbidden", "forbidden")
    }

    /// 404 (also what an object outside the principal's reach answers: it is not theirs,
    /// and whether it exists is not theirs to know either).
    pub fn not_found(&self) -> Response {
        self.message(StatusCode::NOT_FOUND, "not_found", "not_found")
    }

    /// Writes an audit entry (who, what, when, from where); a failure is logged, never
    /// shown (the action itself is done).
    pub async fn audit(&self, action: &str, object: &str) {
        let Some(who) = self.who() else { return };
        let entry = AuditEntry {
            id: 0,
            at: unix_now(),
            actor: who.actor(),
            source: self.addr.ip().to_string(),
            action: action.to_string(),
            object: object.to_string(),
        };
        tracing::info!(target: "switchboard::portal", actor = %entry.actor, source = %entry.source, action, object, "portal action");
        if let Err(e) = self
            .app
            .store
            .append_audit(&entry, self.app.cfg.audit_keep)
            .await
        {
            tracing::warn!(error = %e, "writing the portal audit log");
        }
    }
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A redirect after a POST (303: the browser GETs the page).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(pages::login::home))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route("/lang/{code}", get(pages::login::switch_language))
        .route("/static/portal.js", get(pages::assets::script))
        .route("/static/portal.css", get(pages::assets::style))
        .route("/dashboard", get(pages::dashboard::page))
        .route("/api/live", get(pages::dashboard::live))
        .route(
            "/domains",
            get(pages::domains::list).post(pages::domains::add),
        )
        .route(
            "/domains/{domain}/delete",
            get(pages::domains::confirm_delete).post(pages::domains::delete),
        )
        .route("/users", get(pages::users::list).post(pages::users::add))
        .route("/users/import", post(pages::users::import))
        .route("/users/{user}", get(pages::users::show))
        .route("/users/{user}/password", post(pages::users::reset_password))
        .route(
            "/users/{user}/forwarding",
            post(pages::users::set_forwarding),
        )
        .route("/users/{user}/lists", post(pages::users::set_lists))
        .route(
            "/users/{user}/delete",
            get(pages::users::confirm_delete).post(pages::users::delete),
        )
        .route(
            "/aliases",
            get(pages::aliases::list).post(pages::aliases::add),
        )
        .route(
            "/aliases/{alias}/delete",
            get(pages::aliases::confirm_delete).post(pages::aliases::delete),
        )
        .route("/online", get(pages::online::list))
        .route("/online/unregister", post(pages::online::unregister))
        .route("/audit", get(pages::audit::list))
        .route("/me", get(pages::me::page))
        .route("/me/forwarding", post(pages::me::set_forwarding))
        .route("/me/lists", post(pages::me::set_lists))
        .route("/me/password", post(pages::me::change_password))
        .route("/calls", get(pages::calls::list))
        .route("/calls.csv", get(pages::calls::csv))
        .route("/me/calls", get(pages::calls::mine))
        .route("/me/calls.csv", get(pages::calls::mine_csv))
        .route("/me/dial", get(pages::dial::page).post(pages::dial::dial))
        .route("/me/dial/{id}", get(pages::dial::progress))
        .route("/me/dial/{id}/status", get(pages::dial::status))
        .route(
            "/users/import/upload",
            post(pages::import::upload).layer(axum::extract::DefaultBodyLimit::max(
                pages::import::MAX_UPLOAD_BYTES,
            )),
        )
        .route("/users/import/{id}", get(pages::import::progress))
        .route("/users/import/{id}/status", get(pages::import::status))
        .route("/users/{user}/disable", post(pages::account::disable))
        .route("/users/{user}/enable", post(pages::account::enable))
        .route("/me/voicemail", get(pages::voicemail::page))
        .route("/me/voicemail/pin", post(pages::voicemail::set_pin))
        .route(
            "/me/voicemail/greeting",
            post(pages::voicemail::upload_greeting).layer(axum::extract::DefaultBodyLimit::max(
                pages::voicemail::MAX_GREETING_UPLOAD,
            )),
        )
        .route(
            "/me/voicemail/greeting/default",
            post(pages::voicemail::default_greeting),
        )
        .route("/me/voicemail/{id}/audio", get(pages::voicemail::audio))
        .route(
            "/me/voicemail/{id}/delete",
            get(pages::voicemail::confirm_delete).post(pages::voicemail::delete),
        )
        .route(
            "/gateways",
            get(pages::pstn_gateways::list).post(pages::pstn_gateways::add),
        )
        .route(
            "/gateways/{name}/edit",
            get(pages::pstn_gateways::edit_form).post(pages::pstn_gateways::edit),
        )
        .route(
            "/gateways/{name}/delete",
            get(pages::pstn_gateways::confirm_delete).post(pages::pstn_gateways::delete),
        )
        .route(
            "/routes",
            get(pages::pstn_routes::list).post(pages::pstn_routes::add),
        )
        .route(
            "/routes/delete",
            get(pages::pstn_routes::confirm_delete).post(pages::pstn_routes::delete),
        )
        .route(
            "/dialplan",
            get(pages::pstn_dialplan::list).post(pages::pstn_dialplan::add),
        )
        .route(
            "/dialplan/delete",
            get(pages::pstn_dialplan::confirm_delete).post(pages::pstn_dialplan::delete),
        )
        .route(
            "/trusted",
            get(pages::pstn_trusted::list).post(pages::pstn_trusted::add),
        )
        .route(
            "/trusted/delete",
            get(pages::pstn_trusted::confirm_delete).post(pages::pstn_trusted::delete),
        )
        .route(
            "/classes",
            get(pages::pstn_classes::list).post(pages::pstn_classes::set),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::security::headers))
        .with_state(app)
}

async fn not_found(ctx: Ctx) -> Response {
    ctx.not_found()
}
