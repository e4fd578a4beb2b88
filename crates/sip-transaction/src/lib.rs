//! The SIP transaction layer (RFC 3261 §17, updated by RFC 6026), sans-IO.
//!
//! It owns the four transaction state machines, their timers A–M, request/response matching
//! (RFC 3261 §17.1.3, §17.2.3, with the RFC 2543 fallback) and a bounded transaction table.
//! It does no I/O, reads no clock and draws no random numbers: the caller feeds messages and
//! the current time into [`TransactionLayer`] (`handle_*`) and drains what to send, what to
//! report and when to wake up (`poll_*`). Transports, Via/branch generation, dialogs, proxy
//! logic and Timer C belong to the caller.

mod client_invite;
mod client_non_invite;
mod io;
mod key;
mod layer;
mod server_invite;
mod server_non_invite;
mod timers;

pub use io::{Event, Reliability, State, TransactionId, Transmit};
pub use layer::id_hash::{IdHash, IdHasher, IdMap, IdSet};
pub use layer::{Config, Error, RequestOutcome, ResponseOutcome, TransactionLayer};
pub use timers::Timers;
