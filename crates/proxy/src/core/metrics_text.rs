//! The proxy's Prometheus text: its counters ([`crate::metrics::Metrics`]) and a gauge for
//! every table it holds (transactions, forks, dialogs, parked queries, call events,
//! bindings, subscriptions, originated requests, conference calls), each table's owner
//! adding its own where it has more to say (bans, gateways, presence, messages).
//!
//! Not here: the server's metrics (transports, store, media, relay: `server/metrics_http.rs`).

use std::fmt::Write as _;
use std::time::Duration;

use super::Proxy;

impl Proxy {
    /// Prometheus text for the proxy's metrics and gauges at `now`.
    pub fn render_metrics(&mut self, now: Duration, out: &mut String) {
        let dialogs = self.dialogs.len(now);
        let mut m = self.metrics.clone();
        m.auth_failures = self.auth.failures();
        m.dialogs_started = self.dialogs.started;
        m.dialogs_expired = self.dialogs.expired;
        m.render(out);
        self.render_ban_metrics(now, out);
        self.pstn.render(out);
        self.keepalives.render(out);
        let gauge = |out: &mut String, name: &str, help: &str, v: usize| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(
            out,
            "switchboard_transactions_active",
            "Live SIP transactions.",
            self.layer.len(),
        );
        gauge(
            out,
            "switchboard_calls_in_setup",
            "Proxied requests awaiting a final response.",
            self.forks(),
        );
        gauge(
            out,
            "switchboard_dialogs_active",
            "Calls answered through the proxy and not yet ended by a BYE.",
            dialogs,
        );
        gauge(
            out,
            "switchboard_queries_waiting",
            "Requests and calls waiting for a store lookup (shared-database mode).",
            self.parked.len(),
        );
        gauge(
            out,
            "switchboard_call_events_queued",
            "Call events waiting for the server (call records).",
            self.events_waiting(),
        );
        let _ = writeln!(
            out,
            "# HELP switchboard_call_events_total Call events emitted, and dropped because the queue was full.\n# TYPE switchboard_call_events_total counter\nswitchboard_call_events_total{{outcome=\"emitted\"}} {}\nswitchboard_call_events_total{{outcome=\"dropped\"}} {}",
            self.events.emitted, self.events.dropped
        );
        gauge(
            out,
            "switchboard_registered_contacts",
            "Bindings in the location table.",
            self.registrar.location().len(),
        );
        gauge(
            out,
            "switchboard_mwi_subscriptions",
            "Message-waiting (message-summary) subscriptions held.",
            self.mwi.len(),
        );
        self.render_presence_metrics(out); // dialog_event.rs
        self.render_message_metrics(out); // messages.rs
        gauge(
            out,
            "switchboard_originated_requests_in_flight",
            "Requests the proxy originated (NOTIFY, ...) awaiting their answer.",
            self.originated.len(),
        );
        gauge(
            out,
            "switchboard_conference_calls_remembered",
            "Calls sent to the conference bridge remembered for Join.",
            self.bridge_calls.len(),
        );
    }
}
