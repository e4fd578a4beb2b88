//! The web portal: admin pages (dashboard, domains, users, aliases, who is online, call
//! history, audit log, PSTN gateways, routes, dial plans, trusted peers, permission
//! classes) and user self-care (forwarding, devices, password, my calls,
//! click-to-dial, voicemail), served by the switchboard
//! binary itself over HTTP (axum), rendered on the server (minijinja templates compiled
//! in), working without JavaScript; one small script refreshes the dashboard.
//!
//! Every change goes through the `admin` use cases (the CLI's), whose change notices the
//! running server applies through [`RunningServer`]; live figures and registrations come
//! through the same narrow trait. This crate owns HTTP, sessions, CSRF, login throttling,
//! authorisation per object, the audit trail and translation. It owns no SQL (`storage`,
//! behind [`model::PortalStore`]), no provisioning rule (`admin`) and no proxy state.
#![warn(missing_docs)]
// Handlers refuse with the finished page (`Result<_, Response>`): an early answer, built
// once per refused request, not an error value passed around; boxing it only adds noise.
#![allow(clippy::result_large_err)]

mod app;
mod config;
mod i18n;
mod live;
mod metrics;
mod pages;
mod pstn;
mod render;
mod security;
mod session;
mod throttle;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::PortalConfig;
pub use i18n::Lang;
pub use live::{DialProgress, DialRefused, DialStep, Figures, GatewayHealth, RunningServer};
pub use metrics::render_metrics;
pub use security::CSP;

/// Serves the portal on `listener` until the task is aborted. Fails only when a template
/// does not compile (a bug the crate's tests catch).
pub fn serve<S>(
    listener: TcpListener,
    store: Arc<S>,
    server: Arc<dyn RunningServer>,
    cfg: PortalConfig,
) -> Result<JoinHandle<()>, String>
where
    S: model::PortalStore + model::CdrStore + model::VoicemailStore + model::PstnStore,
{
    let templates = render::Templates::new().map_err(|e| e.to_string())?;
    let app = Arc::new(app::App {
        cdr: store.clone(),
        voicemail: store.clone(),
        pstn: store.clone(),
        import_jobs: pages::import::Jobs::default(),
        store,
        server,
        sessions: session::Sessions::new(cfg.max_sessions, cfg.session_idle),
        throttle: throttle::Throttle::new(cfg.max_failed_logins, cfg.login_ban),
        templates,
        cfg,
        samples: Mutex::new(VecDeque::new()),
    });
    let router = app::router(app);
    Ok(tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, service).await {
            tracing::error!(error = %e, "portal stopped");
        }
    }))
}
