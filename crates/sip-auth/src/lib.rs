//! Sans-IO digest authentication for SIP (RFC 2617, RFC 7616, RFC 8760,
//! RFC 3261 §22).
//!
//! This crate owns the protocol: parsing and printing `Digest` challenge and
//! credentials header values, the MD5/SHA-256 (`-sess`) response computation,
//! constant-time verification, signed stateless nonces and bounded nonce-count
//! replay tracking. It does not own I/O, clocks, randomness, user/password
//! storage, header-name dispatch or policy (which realm, which algorithm, when
//! to challenge): callers pass time and random bytes in and decide.

mod algorithm;
mod challenge;
mod credentials;
mod error;
mod nonce;
mod params;
mod replay;
mod response;

pub use algorithm::{Algorithm, Qop};
pub use challenge::Challenge;
pub use credentials::Credentials;
pub use error::AuthParseError;
pub use nonce::{NonceSigner, NonceStatus, MAX_FUTURE_SKEW_SECS, NONCE_LEN};
pub use params::{Param, MAX_HEADER_VALUE_LEN};
pub use replay::{NcStatus, NonceCountTracker};
pub use response::{compute_response, ha1, userhash, verify};
