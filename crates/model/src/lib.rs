//! Switchboard's domain types and the store traits SIP logic talks to.
//!
//! This crate owns the vocabulary (address-of-record, binding, subscriber, alias, call
//! record, mailbox, instant message) and the [`Store`], [`CdrStore`], [`VoicemailStore`]
//! and [`ImStore`] traits that the `storage` crate implements on SQLite, MariaDB and
//! PostgreSQL. It does not own any SQL, any socket or any SIP parsing. [`MemoryStore`] is
//! an in-memory implementation for unit tests (of every trait but [`ImStore`]).

mod aor;
mod binding;
mod cdr;
mod dialplan;
mod error;
mod instant_message;
mod memory;
mod memory_portal;
mod memory_pstn;
mod memory_voicemail;
mod portal;
mod presence_rule;
mod pstn;
mod screening;
mod settings;
mod store;
mod subscriber;
mod subscription;
pub mod validate;
mod voicemail;

pub use aor::AddressOfRecord;
pub use binding::Binding;
pub use cdr::{CallRecord, CdrFilter, CdrStore, MAX_FILTER_ALIASES};
pub use dialplan::{DialPlan, DialRule, DialStep, MAX_DIALPLAN_TEXT};
pub use error::StoreError;
pub use instant_message::{
    check_instant_message, ImStore, InstantMessage, NewInstantMessage, MAX_IM_BODY_LEN,
    MAX_IM_SENDER_LEN, MAX_IM_TYPE_LEN,
};
pub use memory::MemoryStore;
pub use portal::{AuditEntry, PortalAccount, PortalRole, PortalStore, UserQuery};
pub use presence_rule::{PresenceRule, WatcherRule};
pub use pstn::{
    check_cidr, is_number, parse_cidr, CallClass, Gateway, GatewayTransport, PstnStore, Route,
    TlsVerify, TrustedPeer, DEFAULT_PROBE_SECS, MAX_GATEWAY_NAME_LEN, MAX_PREFIX_LEN,
    MAX_ROUTE_GATEWAYS,
};
pub use screening::{encode_patterns, screen_setting, ScreenDirection, ScreenPattern, ScreenRule};
pub use settings::{
    check_target, encode_no_answer, parse_findme_arg, parse_findme_entry, prune_settings,
    target_aor, FindMe, Forwarding, UserSettings, CALLER_ID, CLASS, DEFAULT_FINDME_RING_SECS,
    DISABLED, FINDME, FORWARD_ALWAYS, FORWARD_BUSY, FORWARD_NO_ANSWER, FORWARD_UNAVAILABLE,
    MAX_RING_SECS, PICKUP_GROUP, SCREEN_INCOMING, SCREEN_OUTGOING,
};
pub use store::Store;
pub use subscriber::{Alias, Subscriber};
pub use subscription::{StoredSubscription, SubscriptionStore};
pub use voicemail::{
    check_message, check_path, check_pin, hash_pin, sort_messages, verify_pin, Mailbox,
    MessageCounts, MessageStatus, NewMessage, VoicemailMessage, VoicemailStore, DEFAULT_AFTER_SECS,
    MAX_AFTER_SECS, MAX_CALLER_LEN, MAX_PATH_LEN, MAX_PIN_DIGITS, MIN_PIN_DIGITS, VOICEMAIL_TARGET,
};
