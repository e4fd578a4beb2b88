//! SDP session descriptions (RFC 4566) and the offer/answer model (RFC 3264) for G.711 audio.
//!
//! This crate owns the text format and the negotiation rules, nothing else: no sockets, no
//! clock, no RTP (that is the `rtp` crate). [`SessionDescription::parse`] reads a body (CRLF
//! or LF line ends) into typed fields, keeping the lines it does not interpret (`i=`, `u=`,
//! `e=`, `p=`, `b=`, `k=`, `z=`, `r=`) as opaque lines so that printing gives them back.
//! [`answer`] answers an offer from [`LocalCapabilities`] (PCMU, PCMA, telephone-event; one
//! answer m-line per offer m-line; hold directions per RFC 3264 §6.1 and §8.4), and
//! [`offer`] builds our own offer; [`uses_dtls_srtp`] tells a browser's SDP from a phone's. Errors know their SIP answer
//! ([`OfferAnswerError::status`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attribute;
mod capabilities;
mod connection;
mod direction;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod media_description;
mod offer_answer;
#[cfg(test)]
mod offer_answer_tests;
mod origin;
mod session_description;
mod webrtc;

pub use attribute::{Attribute, Fmtp, Rtpmap};
pub use capabilities::{Codec, LocalCapabilities};
pub use connection::Connection;
pub use direction::Direction;
pub use error::{ParseError, ParseErrorKind};
pub use media_description::MediaDescription;
pub use offer_answer::{
    accept_answer, answer, negotiate, offer, NegotiatedStream, Negotiation, OfferAnswerError,
};
pub use origin::Origin;
pub use session_description::{OpaqueLine, SessionDescription, Timing};
pub use webrtc::uses_dtls_srtp;
