//! Switchboard's domain types and the store traits SIP logic talks to.
//!
//! This crate owns the vocabulary (address-of-record, binding, subscriber, alias) and the
//! [`Store`] trait that the `storage` crate implements on SQLite, MariaDB and PostgreSQL.
//! It does not own any SQL, any socket or any SIP parsing. [`MemoryStore`] is a complete
//! in-memory implementation for unit tests.

mod aor;
mod binding;
mod dialplan;
mod error;
mod memory;
mod memory_pstn;
mod pstn;
mod settings;
mod store;
mod subscriber;
pub mod validate;

pub use aor::AddressOfRecord;
pub use binding::Binding;
pub use dialplan::{DialPlan, DialRule, DialStep, MAX_DIALPLAN_TEXT};
pub use error::StoreError;
pub use memory::MemoryStore;
pub use pstn::{
    check_cidr, is_number, CallClass, Gateway, GatewayTransport, PstnStore, Route, TrustedPeer,
    DEFAULT_PROBE_SECS, MAX_GATEWAY_NAME_LEN, MAX_PREFIX_LEN, MAX_ROUTE_GATEWAYS,
};
pub use settings::{
    check_target, encode_no_answer, encode_patterns, parse_findme_arg, parse_findme_entry,
    prune_settings, screen_setting, target_aor, FindMe, Forwarding, ScreenDirection, ScreenPattern,
    ScreenRule, UserSettings, CALLER_ID, CLASS, DEFAULT_FINDME_RING_SECS, FINDME, FORWARD_ALWAYS,
    FORWARD_BUSY, FORWARD_NO_ANSWER, FORWARD_UNAVAILABLE, MAX_RING_SECS, SCREEN_INCOMING,
    SCREEN_OUTGOING,
};
pub use store::Store;
pub use subscriber::{Alias, Subscriber};
