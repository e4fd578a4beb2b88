//! The server's periodic work off the core task, every 5 seconds: expired bindings
//! purged from the location table (a log line each) and from the store, and, when nodes
//! share a database, the directory re-read for changes made through another node.
//!
//! Not here: the proxy's own timers (transactions, subscriptions), which run on the core
//! task.

use std::sync::Arc;
use std::time::Duration;

use model::Store;
use registrar::Location;
use storage::SqlStore;

use crate::notices::Applier;
use crate::run::wall_clock;

/// How often the purge and the shared-database reload run.
const PERIOD: Duration = Duration::from_secs(5);

/// Starts the periodic task; `shared` when several nodes share the database.
pub fn spawn(
    store: Arc<SqlStore>,
    location: Arc<Location>,
    applier: Arc<Applier>,
    shared: bool,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PERIOD);
        loop {
            tick.tick().await;
            let now = wall_clock();
            for (aor, contact) in location.purge_expired(now) {
                proxy::oplog::registration(
                    proxy::oplog::RegistrationAction::Expired,
                    &aor,
                    &contact,
                    &"-",
                    0,
                );
            }
            if let Err(e) = store.purge_expired(now).await {
                tracing::warn!(error = %e, "purging expired bindings");
            }
            // A single node hears of every change through the control socket; nodes that
            // share a database also re-read it, for changes made through another node
            // (in turn with the notices, so an older full read never lands after one).
            if shared {
                if let Err(e) = applier.reload().await {
                    tracing::warn!(error = %e, "reloading the directory");
                }
            }
        }
    })
}
