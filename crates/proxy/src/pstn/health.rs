//! [`GatewayHealth`]: what the running server knows of one gateway, for
//! `switchboard gateway list`: up or down, what its probes found, and its counters.
//!
//! This module owns the report only. Health itself is set by the prober
//! (`core/probe.rs`) in the [`super::PstnTable`]; the counters are `counters.rs`'.

use std::time::Duration;

use super::{Cause, Pstn};

/// One gateway as the running server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayHealth {
    /// Its name.
    pub name: String,
    /// False once 3 probes in a row went unanswered (true again at the next answer).
    pub up: bool,
    /// Whether it is probed (`--probe` above 0).
    pub probed: bool,
    /// Probes unanswered in a row (0 when not probed).
    pub failed_probes: u32,
    /// The status of the last probe it answered.
    pub last_answer_status: Option<u16>,
    /// How long ago it answered that probe.
    pub last_answer_ago: Option<Duration>,
    /// Calls sent to it.
    pub attempts: u64,
    /// Calls it answered (2xx).
    pub answers: u64,
    /// Failed calls, by cause label (timeout, server_error, refused, transport).
    pub failures: Vec<(&'static str, u64)>,
}

impl Pstn {
    /// Every configured gateway's health at `now`, by name.
    pub(crate) fn health(&self, now: Duration) -> Vec<GatewayHealth> {
        let mut names = self.table.gateway_names();
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let probe = self.probes.state(&name);
                let counters = self.counters.get(&name).cloned().unwrap_or_default();
                let last = probe.and_then(|(_, last)| last);
                GatewayHealth {
                    up: self.table.is_up(&name),
                    probed: probe.is_some(),
                    failed_probes: probe.map_or(0, |(f, _)| f),
                    last_answer_status: last.map(|(status, _)| status),
                    last_answer_ago: last.map(|(_, at)| now.saturating_sub(at)),
                    attempts: counters.attempts,
                    answers: counters.answers,
                    failures: Cause::ALL
                        .iter()
                        .map(|c| (c.label(), counters.failures[c.index()]))
                        .collect(),
                    name,
                }
            })
            .collect()
    }
}
