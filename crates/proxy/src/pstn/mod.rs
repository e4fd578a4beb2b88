//! PSTN routing data the proxy reads on every call to a number: the gateways and the
//! route table ([`PstnTable`], refreshed by the server from the store), each gateway's
//! health (up/down, set by the prober) and its counters (attempts, answers, failures by
//! cause), rendered as metrics.
//!
//! This module owns the data and the longest-prefix lookup. The stage that routes a call
//! to gateways is `core/gateways.rs`; failover between them is `core/failover.rs`.

mod counters;
mod health;
mod table;

pub use health::GatewayHealth;
pub use table::{PstnTable, RouteMatch};

pub(crate) use counters::{Cause, GatewayCounters};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sip_transaction::TransactionId;

/// The gateways a call is routed to, tried in order (one serial group each): the fork's
/// branch `i` is gateway `names[i]`.
#[derive(Debug, Clone)]
pub(crate) struct GatewayLeg {
    /// Gateway names, in the order they are tried.
    pub names: Vec<String>,
    /// The Request-URI sent to each gateway (the same order as `names`).
    pub uris: Vec<String>,
    /// The number dialled, after the domain's dial plan.
    pub number: String,
    /// The current gateway sent a provisional answer (18x): the call rings, the gateway
    /// timeout no longer applies.
    pub ringing: bool,
}

/// The proxy's PSTN state.
pub(crate) struct Pstn {
    /// Gateways and routes.
    pub table: Arc<PstnTable>,
    /// No answer from a gateway within this: the next gateway is tried.
    pub timeout: Duration,
    /// Calls routed to gateways, by their server transaction (bounded by `max_forks`).
    pub legs: sip_transaction::IdMap<TransactionId, GatewayLeg>,
    /// Counters per gateway name (bounded by the gateways configured).
    pub counters: HashMap<String, GatewayCounters>,
    /// OPTIONS probes (`core/probe.rs`).
    pub probes: crate::core::Prober,
}

/// `[pstn] gateway_timeout_ms` when not configured.
pub const DEFAULT_GATEWAY_TIMEOUT: Duration = Duration::from_millis(3000);

impl Default for Pstn {
    fn default() -> Self {
        Pstn {
            table: Arc::new(PstnTable::default()),
            timeout: DEFAULT_GATEWAY_TIMEOUT,
            legs: Default::default(),
            counters: HashMap::new(),
            probes: crate::core::Prober::default(),
        }
    }
}

impl Pstn {
    /// When the probes are next due; None while no gateway is configured.
    pub fn probes_due(&self) -> Option<std::time::Duration> {
        self.table.has_any_gateway().then(|| self.probes.next_due())
    }

    /// Counts an event of gateway `name` (ignored for a gateway no longer configured, so
    /// the map stays bounded by the gateway table).
    pub fn count(&mut self, name: &str, f: impl FnOnce(&mut GatewayCounters)) {
        if let Some(c) = self.counters.get_mut(name) {
            f(c);
        } else if self.table.has_gateway(name) {
            let mut c = GatewayCounters::default();
            f(&mut c);
            self.counters.insert(name.to_owned(), c);
        }
    }

    /// Prometheus lines: per gateway attempts, answers, failures by cause, and up.
    pub fn render(&mut self, out: &mut String) {
        let table = &self.table;
        self.counters.retain(|name, _| table.has_gateway(name));
        counters::render(&self.counters, &self.table, out);
    }
}
