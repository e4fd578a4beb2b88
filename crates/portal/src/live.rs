//! The narrow window the portal has on the running server: headline figures, the
//! registrations held in memory, unregistering one, and applying change notices. The
//! server implements [`RunningServer`]; the portal never sees proxy internals.

use async_trait::async_trait;
use model::{AddressOfRecord, Binding};

/// Figures for the dashboard, read from the server's metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Figures {
    /// Registered contacts.
    pub registered: u64,
    /// Calls being set up (INVITEs without a final answer).
    pub calls_in_setup: u64,
    /// Established calls (dialogs the proxy record-routed and still holds).
    pub calls_up: u64,
    /// INVITEs received since start (calls per minute are computed from it).
    pub invites_total: u64,
    /// Failed calls by final status code (4xx-6xx sent, challenges excluded), highest
    /// count first.
    pub failures: Vec<(u16, u64)>,
}

/// What the portal may ask of the running server.
#[async_trait]
pub trait RunningServer: Send + Sync + 'static {
    /// The current figures; `None` when the server does not answer (stopping).
    async fn figures(&self) -> Option<Figures>;
    /// Live registrations: of one user, or every one (sorted by user, then contact).
    fn bindings(&self, aor: Option<&AddressOfRecord>) -> Vec<Binding>;
    /// Removes one registration (memory and store); false when it was not there.
    async fn unregister(&self, aor: &AddressOfRecord, contact: &str) -> bool;
    /// Applies what an admin use case changed, so the next SIP request sees it.
    async fn apply(&self, notices: &[admin::ChangeNotice]);
}
