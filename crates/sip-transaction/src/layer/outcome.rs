//! What the TU must do with a received request or response: the layer's verdict after
//! matching. It owns the verdicts only; the matching itself is in `server_side.rs` and
//! `client_side.rs`.

use sip_message::SipMessage;

#[cfg(doc)]
use super::TransactionLayer;
use crate::io::TransactionId;

/// What the TU must do with a request given to [`TransactionLayer::handle_request`].
#[derive(Debug, Clone)]
pub enum RequestOutcome {
    /// A new request (not ACK, not CANCEL): a server transaction was created; the TU answers
    /// it with [`TransactionLayer::respond`].
    New {
        /// The new server transaction.
        id: TransactionId,
        /// The request.
        request: SipMessage,
    },
    /// A new CANCEL: its own non-INVITE server transaction (the TU answers it 200, or 481
    /// when `invite_tx` is `None`), plus the INVITE server transaction it cancels, if any
    /// (check [`TransactionLayer::state`]: once a final response was sent, it has no effect).
    Cancel {
        /// The CANCEL's server transaction.
        cancel_tx: TransactionId,
        /// The INVITE server transaction with the same key.
        invite_tx: Option<TransactionId>,
        /// The CANCEL.
        request: SipMessage,
    },
    /// A retransmission (or the ACK of a 3xx-6xx): handled here. Any response to re-send is
    /// queued in [`TransactionLayer::poll_transmit`].
    Absorbed,
    /// An ACK that is not absorbed: with `invite_tx: None` it matches no transaction (the ACK
    /// of a 2xx: a proxy forwards it statelessly); with `Some`, it matched an INVITE server
    /// transaction in Accepted state (RFC 6026) and is passed up as well.
    Ack {
        /// The ACK.
        ack: SipMessage,
        /// The Accepted INVITE server transaction it matched, if any.
        invite_tx: Option<TransactionId>,
    },
    /// The table is full: answer `503 Service Unavailable` with `Retry-After` statelessly.
    Overloaded {
        /// The request.
        request: SipMessage,
    },
    /// The message is a response: use [`TransactionLayer::handle_response`].
    NotARequest {
        /// The message.
        message: SipMessage,
    },
}

/// What the TU must do with a response given to [`TransactionLayer::handle_response`].
#[derive(Debug, Clone)]
pub enum ResponseOutcome {
    /// Pass it to the TU of this client transaction: a provisional, the final, or (INVITE,
    /// Accepted state) a 2xx retransmission or a 2xx from another fork.
    Matched {
        /// The client transaction.
        id: TransactionId,
        /// The response.
        response: SipMessage,
    },
    /// A retransmission handled here (an ACK may have been queued).
    Absorbed,
    /// No client transaction matches (RFC 3261 §18.1.2): a proxy forwards a stray 2xx
    /// statelessly, anything else is dropped.
    Stray {
        /// The response.
        response: SipMessage,
    },
}
