//! `[server]`: process-wide settings (data directory, node name, logging, runtime threads,
//! the core queue) and their defaults. Applying them is `crate::run`'s job.

use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

/// `[server]`: process-wide settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Where the SQLite database and the control socket live.
    pub data_dir: PathBuf,
    /// This node's name (recorded in bindings; must differ between nodes sharing a database).
    pub node_name: String,
    /// Log format: "text" or "json".
    pub log_format: String,
    /// Create the demo domain and users when the database has no domain at all.
    pub demo: bool,
    /// Seconds a SIGTERM waits for pending transactions.
    pub shutdown_grace_secs: u64,
    /// Bound on the queue between the network and the proxy core; beyond it messages are
    /// dropped and counted (UDP senders retransmit).
    pub core_queue: usize,
    /// Threads of the async runtime: 1 (default) runs the transports and the proxy core on
    /// one thread; n > 1 a work-stealing pool of n; 0 one per core.
    pub threads: usize,
    /// Let the kernel back the heap with 2 MB transparent huge pages (when its policy
    /// allows). Off by default: on a heap of small objects they cost ~25 MB with 50,000
    /// contacts and no measurable CPU.
    pub transparent_huge_pages: bool,
    /// A request that would start new work (INVITE, REGISTER, SUBSCRIBE, OPTIONS, MESSAGE,
    /// PUBLISH) and waited longer than this in the core queue is dropped unanswered; its
    /// sender retransmits (0: never drop).
    pub max_queue_delay_ms: u64,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            data_dir: PathBuf::from("data"),
            node_name: "switchboard".into(),
            log_format: "text".into(),
            demo: true,
            shutdown_grace_secs: 32,
            core_queue: 65536,
            threads: 1,
            transparent_huge_pages: false,
            max_queue_delay_ms: 1000,
        }
    }
}

impl ServerSection {
    /// Checks the log format.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!("server.log_format: expected \"text\" or \"json\"");
        }
        Ok(())
    }
}
