//! Per-gateway counters and their Prometheus form.

use std::collections::HashMap;
use std::fmt::Write;

use super::PstnTable;

/// Why a gateway attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// No answer within the gateway timeout.
    Timeout,
    /// A 408 or 5xx (failover).
    ServerError,
    /// Another 4xx or a 6xx (back to the caller).
    Refused,
    /// The request could not be sent.
    Transport,
}

impl Cause {
    pub(super) const ALL: [Cause; 4] = [
        Cause::Timeout,
        Cause::ServerError,
        Cause::Refused,
        Cause::Transport,
    ];

    pub(super) fn label(self) -> &'static str {
        match self {
            Cause::Timeout => "timeout",
            Cause::ServerError => "server_error",
            Cause::Refused => "refused",
            Cause::Transport => "transport",
        }
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

/// What one gateway did.
#[derive(Debug, Clone, Default)]
pub(crate) struct GatewayCounters {
    /// Calls sent to it.
    pub attempts: u64,
    /// 2xx answers.
    pub answers: u64,
    /// Failures, by [`Cause`].
    pub failures: [u64; 4],
}

impl GatewayCounters {
    /// Counts a failure.
    pub fn failed(&mut self, cause: Cause) {
        self.failures[cause.index()] += 1;
    }
}

pub(super) fn render(
    counters: &HashMap<String, GatewayCounters>,
    table: &PstnTable,
    out: &mut String,
) {
    let mut names = table.gateway_names();
    names.sort();
    let zero = GatewayCounters::default();
    let get = |n: &str| counters.get(n).unwrap_or(&zero);
    let family = |out: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    family(
        out,
        "switchboard_gateway_attempts_total",
        "counter",
        "Calls sent to a PSTN gateway.",
    );
    for n in &names {
        let v = get(n).attempts;
        let _ = writeln!(
            out,
            "switchboard_gateway_attempts_total{{gateway=\"{n}\"}} {v}"
        );
    }
    family(
        out,
        "switchboard_gateway_answers_total",
        "counter",
        "Calls a PSTN gateway answered (2xx).",
    );
    for n in &names {
        let v = get(n).answers;
        let _ = writeln!(
            out,
            "switchboard_gateway_answers_total{{gateway=\"{n}\"}} {v}"
        );
    }
    family(
        out,
        "switchboard_gateway_failures_total",
        "counter",
        "Calls a PSTN gateway failed, by cause (timeout, server_error, refused, transport).",
    );
    for n in &names {
        for c in Cause::ALL {
            let v = get(n).failures[c.index()];
            let _ = writeln!(
                out,
                "switchboard_gateway_failures_total{{gateway=\"{n}\",cause=\"{}\"}} {v}",
                c.label()
            );
        }
    }
    family(
        out,
        "switchboard_gateway_up",
        "gauge",
        "1 while a PSTN gateway is up (not marked down by failed probes).",
    );
    for n in &names {
        let v = u8::from(table.is_up(n));
        let _ = writeln!(out, "switchboard_gateway_up{{gateway=\"{n}\"}} {v}");
    }
}
