//! What the user agent tells its caller.

use std::net::SocketAddr;

use bytes::Bytes;

use crate::ids::{CallHandle, RequestHandle};

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// The peer sent BYE.
    RemoteBye,
    /// The peer CANCELled the INVITE before we answered (it got 487).
    Cancelled,
    /// We hung up and the BYE was answered (or timed out: the dialog is over either way).
    LocalBye,
    /// We refused the INVITE with a final response of 300 or more.
    Rejected,
    /// Our 2xx was never ACKed within 64*T1 (we sent BYE, RFC 3261 §13.3.1.4).
    AckTimeout,
    /// A call we placed got this final failure (300-699; 408 when nothing answered
    /// within Timer B; 487 after our CANCEL).
    Failed(u16),
}

/// The kind of request that brought a new offer inside a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfferKind {
    /// A re-INVITE (answered by [`crate::UserAgent::answer_offer`], then ACKed).
    ReInvite,
    /// An UPDATE (RFC 3311).
    Update,
}

/// An event for the caller, from [`crate::UserAgent::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UaEvent {
    /// A new INVITE. `100 Trying` is already sent; answer with `ringing`, `accept` or
    /// `reject`.
    Incoming {
        /// The call.
        call: CallHandle,
        /// The Request-URI as received.
        request_uri: String,
        /// The From header value.
        from: String,
        /// The caller's address of record (the From URI).
        from_uri: String,
        /// The SDP offer, if the INVITE had one.
        offer: Option<Bytes>,
        /// Where the INVITE came from.
        source: SocketAddr,
    },
    /// The ACK for our 2xx arrived: the dialog is confirmed.
    Confirmed {
        /// The call.
        call: CallHandle,
        /// The SDP answer in the ACK, when the INVITE had no offer (ours went in the 2xx).
        answer: Option<Bytes>,
    },
    /// A provisional response (101-199) to an INVITE we sent.
    Progress {
        /// The call.
        call: CallHandle,
        /// The status (180, 183, ...).
        status: u16,
        /// Its SDP (early media), if any.
        sdp: Option<Bytes>,
    },
    /// A call we placed was answered (2xx): the ACK is sent and the dialog confirmed.
    Answered {
        /// The call.
        call: CallHandle,
        /// The SDP answer in the 2xx.
        sdp: Option<Bytes>,
    },
    /// A call we placed was redirected (3xx): the Contact URIs, in order. `Ended` with
    /// `Failed(3xx)` follows.
    Redirected {
        /// The call.
        call: CallHandle,
        /// The Contact URIs of the 3xx.
        contacts: Vec<String>,
    },
    /// A re-INVITE or UPDATE with an SDP offer: answer with `answer_offer`.
    Offer {
        /// The call.
        call: CallHandle,
        /// Re-INVITE or UPDATE.
        kind: OfferKind,
        /// The offer.
        sdp: Bytes,
    },
    /// A digit sent by SIP INFO (`application/dtmf-relay` or `application/dtmf`).
    Dtmf {
        /// The call.
        call: CallHandle,
        /// `0`-`9`, `*`, `#`, `A`-`D`.
        digit: char,
        /// The duration in milliseconds (0 when not given).
        duration_ms: u32,
    },
    /// The call is over; the handle is no longer valid.
    Ended {
        /// The call.
        call: CallHandle,
        /// Why.
        reason: EndReason,
    },
    /// A REFER (answered `202`): report its progress with `notify_refer`. `call` is the
    /// call it came in, or a dialog of its own when it came outside any call.
    Refer {
        /// The call (or the REFER's own dialog).
        call: CallHandle,
        /// The Refer-To value as received (`<sip:alice@example.com?Replaces=...>`).
        refer_to: String,
        /// The Referred-By value, if any.
        referred_by: Option<String>,
        /// Where the REFER came from.
        source: SocketAddr,
    },
    /// A SUBSCRIBE outside any dialog (answered `200` with `Expires: 0`: a fetch):
    /// send the state once with `notify` (`done`).
    Subscribe {
        /// The subscription's dialog.
        call: CallHandle,
        /// The event package, lower case (`dialog`).
        event: String,
        /// The Request-URI (whose state is asked).
        request_uri: String,
        /// Where the SUBSCRIBE came from.
        source: SocketAddr,
    },
    /// The final answer to a request sent outside a dialog (408 when it timed out).
    Response {
        /// The request.
        request: RequestHandle,
        /// The status code.
        status: u16,
    },
}
