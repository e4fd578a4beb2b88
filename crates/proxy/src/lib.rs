//! The stateful proxy (RFC 3261 §16): the stage pipeline every request runs through, the
//! fork manager that rings every contact of a callee, and best-response selection.
//!
//! [`Proxy`] is sans-IO like the transaction layer it drives: messages and time go in
//! through `handle_*`, and everything it wants done comes out of one queue,
//! [`Proxy::poll`], in order: an [`Output`] is bytes to send (with a [`Destination`] the
//! server maps to a socket), binding changes to persist, a [`Query`] to run (its answer
//! back through [`Proxy::handle_query`]) or a call event. It never touches the network,
//! the clock or the database: users, aliases and domains come from a [`Directory`] (an
//! in-memory cache the server refreshes), bindings from the registrar's location table
//! (or, with a shared database, from the queries the server runs).
//!
//! Inside, a request walks a list of typed stages written once (`core/request_route.rs`),
//! and a call whose leg ended walks the response-side list (`core/final_route.rs`); see
//! docs/architecture.md.
//!
//! What happens to each call leaves as [`Output::CallEvent`] ([`events`]).

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
mod flow_token;
mod fork;
mod ha1;
mod im;
mod interfaces;
mod media_profile;
mod metrics;
mod nat;
pub mod oplog;
mod presence;
mod pstn;
mod route;
mod sanity;
mod services;
mod throttle;

pub use auth::AuthConfig;
pub use bans::{BanEntry, Target as BanTarget};
pub use config::{BanAction, KeepAliveConfig, KeepAliveMode, ProxyConfig, ProxyMode};
pub use core::{
    Output, PendingQuery, Proxy, ProxyStats, Query, QueryAnswer, ReferRefused, RelayDelete,
    RelayOp, RelayQuery, SubscriptionChange, MAX_RELAYED_CALLS, RESTART_GAP,
};
pub use destination::{Destination, Transport};
pub use directory::{Directory, StaticDirectory};
pub use flood::{Cidr, FloodConfig};
pub use im::{ImWork, MessagesConfig, StoreOutcome};
pub use interfaces::RouteProbe;
pub use media_profile::MediaProfile;
pub use metrics::Metrics;
pub use nat::RelayMode;
pub use presence::{PresenceConfig, DEFAULT_EXPIRES as PRESENCE_MAX_EXPIRES};
pub use pstn::{GatewayHealth, PstnTable, RouteMatch, DEFAULT_GATEWAY_TIMEOUT};
pub use services::conference::{parse_numbers as parse_conference_numbers, ConferenceRouting};
pub use services::media::{MediaService, MediaServicesConfig, UserMatch};
pub use services::voicemail::{VoicemailConfig, VoicemailRoute};
pub use services::ServicesConfig;
