//! The media relay contract (issue 19): what the server asks of whatever carries a call's
//! media when the two parties cannot or should not send it to each other directly (a phone
//! behind NAT, a browser speaking DTLS-SRTP with ICE, or `[relay] mode = "always"`).
//!
//! The contract follows rtpengine's `ng` protocol on purpose, so that one interface drives
//! both backends: [`MediaRelay::offer`] takes the SDP of an offer on its way to the callee
//! and gives back the SDP to forward (addresses rewritten to the relay's ports, and the
//! media profile turned into what the callee speaks); [`MediaRelay::answer`] does the same
//! for the answer on its way back; [`MediaRelay::delete`] ends the call's media and gives
//! its counters. A call is named by its Call-ID and the caller's From tag, as in `ng`.
//!
//! Not here: deciding *when* to relay (the proxy's relay stage), the SIP side, or any
//! backend. The embedded relay and the rtpengine `ng` client implement [`MediaRelay`] in
//! their own modules; the server holds one `Box<dyn MediaRelay>` chosen by `[relay]`.
//!
//! Offers and answers follow `ng`'s tags: `call.from_tag` is the From tag of the request
//! that carried the offer (the callee's tag for a re-INVITE the callee sends), `to_tag` its
//! To tag; for an answer, the same tags as the offer it answers.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "embedded")]
pub mod embedded;
mod profile;
pub mod rtpengine;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

/// Which call's media: the Call-ID and the caller's From tag (rtpengine's `call-id` and
/// `from-tag`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallKey {
    /// The dialog's Call-ID.
    pub call_id: String,
    /// The From tag of the INVITE that offered.
    pub from_tag: String,
}

/// The media profile the receiver of a rewritten SDP speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Plain RTP/AVP (SIP phones, gateways): no ICE, no DTLS.
    Rtp,
    /// A browser (RFC 8829): UDP/TLS/RTP/SAVPF with ICE and DTLS-SRTP, rtcp-mux.
    WebRtc,
}

/// One half of an offer/answer exchange to pass through the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayRequest {
    /// Which call.
    pub call: CallKey,
    /// The callee's To tag (answers; `None` on offers and on answers of early forks that
    /// carry none).
    pub to_tag: Option<String>,
    /// The SDP body as received.
    pub sdp: String,
    /// Where the party that wrote `sdp` sent its SIP from (its address after any NAT):
    /// with symmetric latching the relay sends media there until the party's first
    /// packet shows where its media really comes from.
    pub signalled_from: SocketAddr,
    /// What the party that receives the rewritten SDP speaks.
    pub receiver: Profile,
}

/// Counters of one call's relayed media, per direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Packets relayed caller → callee.
    pub packets_to_callee: u64,
    /// Packets relayed callee → caller.
    pub packets_to_caller: u64,
    /// Packets lost on the way in (RTP sequence gaps), both directions.
    pub packets_lost: u64,
    /// RTP bytes relayed caller → callee (UDP payload).
    pub bytes_to_callee: u64,
    /// RTP bytes relayed callee → caller.
    pub bytes_to_caller: u64,
}

/// A backend's running totals, for the server's metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayTotals {
    /// Calls whose media the backend carries now.
    pub calls_active: u64,
    /// Calls relayed since start.
    pub calls_total: u64,
    /// Calls ended by the dead-stream timeout.
    pub calls_timed_out: u64,
    /// Offers refused because no ports were free.
    pub refused_no_ports: u64,
    /// RTP packets relayed, both directions.
    pub packets: u64,
    /// RTP bytes relayed, both directions.
    pub bytes: u64,
    /// RTP packets lost on the way in (sequence gaps).
    pub packets_lost: u64,
}

/// Why the relay could not serve a request; each knows its SIP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// Every port of the range is taken.
    #[error("no relay ports free")]
    NoPorts,
    /// The SDP cannot be relayed (unparseable, or no media the relay can carry).
    #[error("unusable SDP: {0}")]
    BadSdp(String),
    /// The backend did not answer or answered with an error (rtpengine down).
    #[error("media relay unavailable: {0}")]
    Unavailable(String),
    /// No such call (an answer or delete for a call never offered, or already deleted).
    #[error("no such call")]
    UnknownCall,
}

impl RelayError {
    /// The SIP status to answer the request that needed the relay with.
    pub fn status(&self) -> u16 {
        match self {
            RelayError::BadSdp(_) => 488,
            RelayError::NoPorts | RelayError::Unavailable(_) => 503,
            RelayError::UnknownCall => 481,
        }
    }
}

/// The future every relay operation returns (boxed so that `dyn MediaRelay` works).
pub type RelayFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, RelayError>> + Send + 'a>>;

/// A media relay backend: the embedded relay or an external rtpengine.
pub trait MediaRelay: Send + Sync + 'static {
    /// The backend's name for logs and metrics (`embedded`, `rtpengine`).
    fn name(&self) -> &'static str;
    /// Relay an offer: returns the SDP to forward to the callee.
    fn offer(&self, request: RelayRequest) -> RelayFuture<'_, String>;
    /// Relay an answer (183 or 200): returns the SDP to forward to the caller.
    fn answer(&self, request: RelayRequest) -> RelayFuture<'_, String>;
    /// End the call's media (BYE, CANCEL, failure, dead-stream timeout) and return its counters.
    fn delete(&self, call: CallKey) -> RelayFuture<'_, CallStats>;
    /// Running totals for metrics (a backend that keeps none answers zeros).
    fn totals(&self) -> RelayTotals {
        RelayTotals::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_know_their_sip_answer() {
        assert_eq!(RelayError::BadSdp("no audio".into()).status(), 488);
        assert_eq!(RelayError::NoPorts.status(), 503);
        assert_eq!(RelayError::Unavailable("timeout".into()).status(), 503);
        assert_eq!(RelayError::UnknownCall.status(), 481);
    }
}
