//! Gateway probing (issue 14): every gateway with a probe interval gets an OPTIONS every
//! interval, sent by the proxy itself as a client transaction. A gateway is marked down
//! after [`DOWN_AFTER`] probes in a row get no answer (no response within the gateway
//! timeout, a transaction timeout or a transport error) and up again at its first answer
//! of any status. `gateways.rs` skips gateways that are down.
//!
//! This module owns the probe schedule and the probes' transactions. Not here: the
//! request a server originates (`originate.rs`), gateway health itself
//! (`crate::pstn::PstnTable`).

use std::collections::HashMap;
use std::time::Duration;

use sip_transaction::TransactionId;

use super::Proxy;
use crate::destination::{Destination, Transport};

/// Failed probes in a row that mark a gateway down.
pub(crate) const DOWN_AFTER: u32 = 3;
/// How often the schedule is compared with the gateway table.
const RECONCILE: Duration = Duration::from_secs(1);

/// One probed gateway.
#[derive(Debug, Default)]
pub(crate) struct ProbeState {
    /// When the next probe is due.
    due: Duration,
    /// Failed probes in a row.
    failures: u32,
    /// The probe in flight and when it is given up.
    in_flight: Option<(TransactionId, Duration)>,
    /// The status of the last probe answered, and when.
    last_answer: Option<(u16, Duration)>,
}

/// The probe schedule of every probed gateway (bounded by the gateway table).
#[derive(Debug, Default)]
pub(crate) struct Prober {
    states: HashMap<String, ProbeState>,
    /// Probe transactions in flight -> gateway.
    by_tx: HashMap<TransactionId, String>,
    /// When the schedule is next compared with the gateway table.
    next_run: Duration,
}

impl Prober {
    /// When [`Proxy::run_probes`] is next due.
    pub fn next_due(&self) -> Duration {
        self.states
            .values()
            .flat_map(|s| [Some(s.due), s.in_flight.map(|(_, d)| d)])
            .flatten()
            .fold(self.next_run, Duration::min)
    }

    /// What the probes of gateway `name` found: (failed probes in a row, the last answer's
    /// status and when); None for a gateway not probed.
    pub fn state(&self, name: &str) -> Option<(u32, Option<(u16, Duration)>)> {
        self.states.get(name).map(|s| (s.failures, s.last_answer))
    }
}

impl Proxy {
    /// Sends the probes that are due and gives up those unanswered in time.
    pub(super) fn run_probes(&mut self, now: Duration) {
        if now >= self.pstn.probes.next_run {
            self.pstn.probes.next_run = now + RECONCILE;
            self.reconcile_probes(now);
        }
        let timeout = self.pstn.timeout;
        let names: Vec<String> = self.pstn.probes.states.keys().cloned().collect();
        for name in names {
            let (late, due) = match self.pstn.probes.states.get(&name) {
                Some(s) => (
                    s.in_flight.filter(|&(_, until)| until <= now),
                    s.in_flight.is_none() && s.due <= now,
                ),
                None => continue,
            };
            if let Some((tx, _)) = late {
                self.pstn.probes.by_tx.remove(&tx);
                self.probe_result(&name, false);
            }
            if !due {
                continue;
            }
            let Some(gw) = self.pstn.table.gateway(&name) else {
                continue;
            };
            let dest = Destination {
                transport: match gw.transport {
                    model::GatewayTransport::Udp => Transport::Udp,
                    model::GatewayTransport::Tcp => Transport::Tcp,
                    model::GatewayTransport::Tls => Transport::Tls,
                },
                addr: gw.addr,
                conn: None,
            };
            let interval = Duration::from_secs(u64::from(gw.probe_secs));
            let tx = self.originate_options(now, dest, &format!("sip:{}", gw.addr));
            let Some(s) = self.pstn.probes.states.get_mut(&name) else {
                continue;
            };
            s.due = now + interval;
            match tx {
                Some(tx) => {
                    s.in_flight = Some((tx, now + timeout.min(interval)));
                    self.pstn.probes.by_tx.insert(tx, name);
                }
                None => self.probe_result(&name, false),
            }
        }
    }

    /// A response to a client transaction: true when it answered a probe (the gateway is
    /// up, whatever the status).
    pub(super) fn probe_answered(&mut self, now: Duration, id: TransactionId, status: u16) -> bool {
        let Some(name) = self.pstn.probes.by_tx.remove(&id) else {
            return false;
        };
        if let Some(s) = self.pstn.probes.states.get_mut(&name) {
            s.last_answer = Some((status, now));
        }
        self.probe_result(&name, true);
        true
    }

    /// A client transaction timed out or could not be sent: true when it was a probe.
    pub(super) fn probe_lost(&mut self, id: TransactionId) -> bool {
        let Some(name) = self.pstn.probes.by_tx.remove(&id) else {
            return false;
        };
        self.probe_result(&name, false);
        true
    }

    fn probe_result(&mut self, name: &str, answered: bool) {
        let Some(s) = self.pstn.probes.states.get_mut(name) else {
            return;
        };
        s.in_flight = None;
        if answered {
            s.failures = 0;
            if self.pstn.table.set_up(name, true) {
                tracing::warn!(gateway = name, "gateway up: it answered a probe");
            }
        } else {
            s.failures = s.failures.saturating_add(1);
            if s.failures >= DOWN_AFTER && self.pstn.table.set_up(name, false) {
                tracing::warn!(
                    gateway = name,
                    failures = s.failures,
                    "gateway down: probes unanswered"
                );
            }
        }
    }

    /// Probes every gateway with an interval, and only those.
    fn reconcile_probes(&mut self, now: Duration) {
        let probed: Vec<String> = self
            .pstn
            .table
            .gateways()
            .into_iter()
            .filter(|g| g.probe_secs > 0)
            .map(|g| g.name)
            .collect();
        let p = &mut self.pstn.probes;
        p.states.retain(|name, _| probed.contains(name));
        p.by_tx.retain(|_, name| probed.contains(name));
        for name in probed {
            p.states.entry(name).or_insert_with(|| ProbeState {
                due: now,
                ..ProbeState::default()
            });
        }
    }
}
