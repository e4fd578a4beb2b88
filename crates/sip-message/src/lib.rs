//! SIP messages: parsing, inspecting, editing and printing (RFC 3261 §7, §20, §25).
//!
//! This crate owns the wire format and nothing else: no sockets, no clock, no transactions.
//! A [`SipMessage`] is parsed from one owned buffer into byte ranges; only the start line and
//! the headers every hop needs (Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length)
//! are parsed eagerly, and the top Via, From and To are kept as parsed (byte ranges), so
//! reading them again costs no parse. Everything else is parsed on demand by the typed parsers in
//! [`uri`], [`name_addr`], [`via`] and friends. Changes to a message are recorded in an
//! [`Editor`] and applied once while printing into a reusable buffer, so forwarding a request
//! never re-serialises the headers it did not touch. [`StreamFramer`] frames messages on
//! stream transports (TCP, TLS). Digest authentication lives in the `sip-auth` crate.

mod cseq;
pub mod digits;
mod editor;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod header_name;
mod message;
pub mod method;
pub mod name_addr;
pub mod params;
mod parse;
mod peer;
mod response;
mod stateless;
mod stream;
pub mod text;
pub mod typed;
pub mod uri;
pub mod via;
mod written;

pub use cseq::CSeq;
pub use editor::{EditText, Editor};
pub use error::ParseError;
pub use header_name::HeaderName;
pub use message::{HeaderField, SipMessage, Span, StartLine};
pub use method::Method;
pub use name_addr::{parse_contact_list, ContactValue, NameAddr};
pub use parse::{parse_strict, Limits};
pub use peer::{ConnectionId, Peer, Transport};
pub use response::{build_ack_for_failure, build_cancel, reason_phrase, ResponseBuilder};
pub use stateless::error_response;
pub use stream::{Frame, FramingError, StreamFramer};
pub use uri::{Scheme, Uri};
pub use via::Via;
pub use written::WrittenMessage;
