//! The narrow window the portal has on the running server: headline figures, the
//! registrations held in memory, unregistering one, applying change notices, and
//! click-to-dial (a REFER to the user's phone, then the progress of the call it places).
//! The server implements [`RunningServer`]; the portal never sees proxy internals.

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
    /// Click-to-dial (RFC 5359 §2.18): asks `user`'s registered phone `phone` (a contact of
    /// theirs; None: their first), by an out-of-dialog REFER with `Refer-Sub: false`, to
    /// call `target` (a `sip:` URI). Answers the attempt's number for
    /// [`RunningServer::dial_progress`], or why nothing was sent.
    async fn click_to_dial(
        &self,
        user: &AddressOfRecord,
        target: &str,
        phone: Option<&str>,
    ) -> Result<u64, DialRefused>;
    /// How click-to-dial attempt `id` of `user` is going; None when it is not theirs or
    /// has been forgotten.
    fn dial_progress(&self, user: &AddressOfRecord, id: u64) -> Option<DialProgress>;
    /// Every loaded gateway's health, as `gateway list` shows it; `None` when the server
    /// does not answer.
    async fn gateway_health(&self) -> Option<Vec<GatewayHealth>>;
}

/// One gateway's health as the running server knows it (its prober and its calls).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GatewayHealth {
    /// The gateway's name.
    pub name: String,
    /// Up (answering probes, or not probed) or down.
    pub up: bool,
    /// Whether it is probed at all.
    pub probed: bool,
    /// Probes failed in a row.
    pub failed_probes: u64,
    /// The status of the last probe answered, and when (Unix seconds).
    pub last_answer: Option<(u16, u64)>,
    /// Calls sent to it.
    pub attempts: u64,
    /// Calls it answered.
    pub answers: u64,
    /// Calls that failed there (any cause).
    pub failed: u64,
}

/// Why a click-to-dial REFER was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialRefused {
    /// The user has no registered phone.
    NoPhone,
    /// The target is not one `sip:` URI.
    BadTarget,
    /// The server is busy or stopping.
    Busy,
}

/// Where a click-to-dial attempt is, latest first: the REFER's answer, then the call the
/// phone placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "step", content = "status", rename_all = "kebab-case")]
pub enum DialStep {
    /// The REFER is on its way to the phone.
    Referring,
    /// The phone refused the REFER (or did not answer: 408) with this status.
    Refused(u16),
    /// The phone accepted the REFER (202); its call has not reached the server yet.
    Accepted(u16),
    /// The phone's INVITE reached the server.
    Calling,
    /// The target is ringing.
    Ringing,
    /// The target answered.
    Answered,
    /// The call failed with this status.
    Failed(u16),
    /// The answered call ended.
    Ended,
}

/// A click-to-dial attempt as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DialProgress {
    /// The target asked for.
    pub target: String,
    /// The contact of the phone the REFER went to.
    pub phone: String,
    /// Where it is.
    pub step: DialStep,
}
