//! A registered contact of an address-of-record (RFC 3261 §10).

use crate::aor::AddressOfRecord;

/// One binding: "reach `aor` at `contact` until `expires_at`".
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// Whose binding this is.
    pub aor: AddressOfRecord,
    /// The Contact URI as registered (without `<>` and header parameters).
    pub contact: String,
    /// Preference, 0 to 1000 (q-value times 1000); 1000 when the phone gave none.
    pub q: u16,
    /// Expiry, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// Call-ID of the REGISTER that created or refreshed it.
    pub call_id: String,
    /// CSeq of that REGISTER.
    pub cseq: u32,
    /// Where the REGISTER came from, as `transport:ip:port` (used to reach phones behind NAT).
    pub source: String,
    /// The Path header values, in order (RFC 3327), to be used as a pre-loaded route set.
    pub path: Vec<String>,
    /// The User-Agent of the phone, for `location list`.
    pub user_agent: String,
    /// The server node that received the REGISTER (holds its connection for TCP).
    pub node: String,
    /// RFC 5626 outbound: the flow this binding was registered over, as
    /// `<+sip.instance>;<reg-id>`, when the phone asked for outbound over a connection.
    /// Not stored: a flow is a connection, which does not outlive the server.
    pub flow: Option<String>,
}

impl Binding {
    /// Seconds left before expiry at `now` (0 when expired).
    pub fn remaining(&self, now: u64) -> u64 {
        self.expires_at.saturating_sub(now)
    }
}
