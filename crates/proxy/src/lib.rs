//! The stateful proxy (RFC 3261 §16): the stage pipeline every request runs through, the
//! fork manager that rings every contact of a callee, and best-response selection.
//!
//! [`Proxy`] is sans-IO like the transaction layer it drives: messages and time go in
//! through `handle_*`, bytes to send come out of [`Proxy::poll_transmit`] with a
//! [`Destination`] the server maps to a socket. It never touches the network, the clock or
//! the database: users, aliases and domains come from a [`Directory`] (an in-memory cache
//! the server refreshes), bindings from the registrar's location table (or, with a shared
//! database, from [`Query`]s the server runs: [`Proxy::poll_query`] out,
//! [`Proxy::handle_query`] back), and binding changes leave through
//! [`Proxy::drain_changes`] for the server to persist.
//!
//! Inside, a request walks a list of typed stages written once (`core/request_route.rs`),
//! and a call whose leg ended walks the response-side list (`core/final_route.rs`); see
//! docs/architecture.md.
//!
//! What happens to each call leaves through [`Proxy::poll_call_event`] ([`events`]).

mod answer;
mod auth;
mod bans;
mod bounded;
mod branch;
mod config;
mod core;
mod destination;
mod dialogs;
mod directory;
mod error;
pub mod events;
mod flood;
mod fork;
mod ha1;
mod interfaces;
mod metrics;
pub mod oplog;
mod pstn;
mod route;
mod sanity;
mod services;
mod throttle;

pub use auth::AuthConfig;
pub use bans::{BanEntry, Target as BanTarget};
pub use config::{BanAction, ProxyConfig, ProxyMode};
pub use core::{PendingQuery, Proxy, ProxyStats, Query, QueryAnswer, ReferRefused};
pub use destination::{Destination, Transport};
pub use directory::{Directory, StaticDirectory};
pub use flood::{Cidr, FloodConfig};
pub use interfaces::RouteProbe;
pub use metrics::Metrics;
pub use pstn::{PstnTable, RouteMatch, DEFAULT_GATEWAY_TIMEOUT};
pub use services::voicemail::{VoicemailConfig, VoicemailRoute};
pub use services::ServicesConfig;
