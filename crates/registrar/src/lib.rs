//! The registrar (RFC 3261 §10) and the location service it fills.
//!
//! [`Location`] is the in-memory table of bindings that the proxy consults on every call;
//! it is sharded, bounded, and loaded from the store at start. [`Registrar`] turns a
//! REGISTER into a [`RegisterOutcome`]: the answer to send and the [`Change`]s the server
//! writes behind to the store, so a restart loses no binding. Authentication, domain
//! checks and transport are not here: the proxy's earlier stages do them.
//!
//! RFC 5626 outbound: a phone registering over a connection with `+sip.instance` and
//! `reg-id` registers a flow, keyed by those two (`register.rs`, `outbound.rs`).

mod config;
mod location;
mod outbound;
mod register;
mod stored;

pub use config::RegistrarConfig;
pub use location::{Change, Location, LocationFull};
pub use register::{RegisterOutcome, Registrar};
