//! The user-agent side of SIP dialogs (RFC 3261 §12–15), sans-IO.
//!
//! A [`UserAgent`] is what a media service (voicemail, and later music on hold, park,
//! conferences) needs to be a SIP endpoint: it answers incoming INVITEs (100, 180, 200 with
//! the caller's SDP answer, the 2xx retransmitted until the ACK, RFC 3261 §13.3.1.4),
//! handles CANCEL, BYE both ways, re-INVITE and UPDATE offers (hold and resume), INFO with
//! `application/dtmf-relay`, and sends requests inside a dialog (BYE, NOTIFY, ...) along
//! its route set and outside one (NOTIFY for message-waiting). It also places calls
//! ([`UserAgent::place_call`], the UAC side of RFC 3261 §13.2: provisional responses, the
//! 2xx ACKed, failures and redirects reported, CANCEL, an RFC 3891 `Replaces` header),
//! and takes a delayed offer's answer from the ACK. It keeps the tags, CSeq numbers,
//! remote target and route set of each dialog.
//!
//! It owns no socket, reads no clock and draws no random number: datagrams and the time go
//! in through `handle_*`, datagrams, events and the next wake-up come out through
//! `poll_*`, and tags and branches derive from a seed given at construction. Transactions
//! are the `sip-transaction` crate's; SDP negotiation and media belong to the caller
//! (the events carry the bodies). Only UDP (unreliable) transport is handled this round.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod agent;
mod config;
mod dialog;
mod dtmf_relay;
mod event;
#[doc(hidden)]
pub mod fuzzing;
mod ids;
mod incoming;
mod outgoing;
mod refer;
mod subscribe;
mod uac;

pub use agent::UserAgent;
pub use config::UaConfig;
pub use dialog::Dialog;
pub use dtmf_relay::{parse_dtmf_relay, DtmfRelay};
pub use event::{EndReason, OfferKind, UaEvent};
pub use ids::{CallHandle, RequestHandle};
pub use outgoing::OutOfDialogRequest;
pub use uac::{replaces_header, OutgoingCall};
