//! The user agent's configuration: who it is on the wire and its bounds.

use sip_transaction::Timers;

/// Configuration of a [`crate::UserAgent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UaConfig {
    /// Our Contact URI, e.g. `sip:voicemail@127.0.0.1:5070` (without `<>`).
    pub contact: String,
    /// The sent-by of our Via headers, e.g. `127.0.0.1:5070`.
    pub via_sent_by: String,
    /// The `User-Agent`/`Server` header value.
    pub user_agent: String,
    /// T1, T2, T4: the 2xx is retransmitted from T1 doubling to T2 until the ACK, and the
    /// call is given up (BYE) after 64*T1 without one.
    pub timers: Timers,
    /// The most calls (dialogs and INVITEs being answered) at once; a new INVITE past it
    /// gets `503 Service Unavailable` with `Retry-After`.
    pub max_calls: usize,
    /// The most transactions at once (the transaction table's bound).
    pub max_transactions: usize,
}

impl Default for UaConfig {
    fn default() -> Self {
        UaConfig {
            contact: "sip:service@127.0.0.1:5070".into(),
            via_sent_by: "127.0.0.1:5070".into(),
            user_agent: "switchboard".into(),
            timers: Timers::default(),
            max_calls: 4096,
            max_transactions: 65_536,
        }
    }
}
