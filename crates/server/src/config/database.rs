//! `[database]`: which database, how many connections, and whether nodes share registrations.
//! Opening it is the `storage` crate's job.

use serde::Deserialize;

/// `[database]`
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSection {
    /// `sqlite://...`, `mysql://...` or `postgres://...`; default: SQLite in the data dir.
    pub url: Option<String>,
    /// Connection pool size.
    pub max_connections: Option<u32>,
    /// Several Switchboard nodes share this database: look registrations up in it on every
    /// call, so a phone registered on one node is reached through any other.
    pub shared_location: bool,
}
