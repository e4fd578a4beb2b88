//! The service host's counters, and a handle on them for the metrics endpoint.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::park::ParkLot;

/// The host's counters (for metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostStats {
    /// Calls in progress.
    pub calls: u64,
    /// Calls answered since start.
    pub answered: u64,
    /// INVITEs refused (bad URI, untrusted source, no codec in common, no port).
    pub refused: u64,
    /// Park orbits in use, all domains (bounded by `[park] orbits` per domain).
    pub parked: u64,
}

/// A handle on the host's counters that outlives borrowing the host (for a metrics
/// endpoint).
#[derive(Clone)]
pub struct HostStatsHandle(pub(super) Arc<Counters>, pub(super) Arc<ParkLot>);

impl HostStatsHandle {
    /// The counters now.
    pub fn get(&self) -> HostStats {
        HostStats {
            calls: self.0.calls.load(Ordering::Relaxed),
            answered: self.0.answered.load(Ordering::Relaxed),
            refused: self.0.refused.load(Ordering::Relaxed),
            parked: self.1.in_use() as u64,
        }
    }
}

/// The counters the host's task updates.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) calls: AtomicU64,
    pub(super) answered: AtomicU64,
    pub(super) refused: AtomicU64,
}
