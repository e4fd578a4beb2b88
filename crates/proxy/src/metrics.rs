//! Counters and histograms the proxy keeps for operators, rendered in the Prometheus text
//! format (version 0.0.4). The core owns them; no atomics on the message path.

use std::fmt::Write as _;
use std::time::Duration;

use sip_message::Method;

const METHODS: [&str; 15] = [
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "REGISTER",
    "OPTIONS",
    "INFO",
    "UPDATE",
    "PRACK",
    "SUBSCRIBE",
    "NOTIFY",
    "REFER",
    "MESSAGE",
    "PUBLISH",
    "other",
];

fn method_index(m: Method) -> usize {
    match m {
        Method::Invite => 0,
        Method::Ack => 1,
        Method::Bye => 2,
        Method::Cancel => 3,
        Method::Register => 4,
        Method::Options => 5,
        Method::Info => 6,
        Method::Update => 7,
        Method::Prack => 8,
        Method::Subscribe => 9,
        Method::Notify => 10,
        Method::Refer => 11,
        Method::Message => 12,
        Method::Publish => 13,
        Method::Extension => 14,
    }
}

/// Upper bounds (seconds) of the call-setup histogram buckets.
const SETUP_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Upper bounds (seconds) of the call-duration histogram buckets.
const DURATION_BUCKETS: &[f64] = &[
    1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// A Prometheus histogram with fixed bucket bounds.
#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            count: 0,
            sum: 0.0,
        }
    }

    fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        for (c, b) in self.counts.iter_mut().zip(self.bounds) {
            if s <= *b {
                *c += 1;
            }
        }
        self.count += 1;
        self.sum += s;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (c, b) in self.counts.iter().zip(self.bounds) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}", self.sum);
        let _ = writeln!(out, "{name}_count {}", self.count);
    }
}

/// Counters and histograms.
#[derive(Debug, Clone)]
pub struct Metrics {
    requests_received: [u64; 15],
    requests_sent: [u64; 15],
    responses_received: [u64; 7],
    responses_sent: Vec<u64>,
    /// Digest challenges sent (401/407).
    pub auth_challenges: u64,
    /// Credentials that did not verify.
    pub auth_failures: u64,
    /// Requests refused by the auth stage with 403.
    pub auth_refused: u64,
    /// Messages that did not parse.
    pub parse_errors: u64,
    /// Requests refused because a table was full.
    pub overloaded: u64,
    setup: Histogram,
    duration: Histogram,
    /// Dialogs established through the proxy (2xx to INVITE sent upstream).
    pub dialogs_started: u64,
    /// Dialogs forgotten without a BYE seen (12 h old, or the table full).
    pub dialogs_expired: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests_received: [0; 15],
            requests_sent: [0; 15],
            responses_received: [0; 7],
            responses_sent: vec![0; 600],
            auth_challenges: 0,
            auth_failures: 0,
            auth_refused: 0,
            parse_errors: 0,
            overloaded: 0,
            setup: Histogram::new(SETUP_BUCKETS),
            duration: Histogram::new(DURATION_BUCKETS),
            dialogs_started: 0,
            dialogs_expired: 0,
        }
    }
}

impl Metrics {
    pub(crate) fn request_received(&mut self, m: Method) {
        self.requests_received[method_index(m)] += 1;
    }

    pub(crate) fn response_received(&mut self, status: u16) {
        self.responses_received[usize::from(status / 100).min(6)] += 1;
    }

    /// Counts an outgoing message by peeking at its start line.
    pub(crate) fn sent(&mut self, bytes: &[u8]) {
        if let Some(rest) = bytes.strip_prefix(b"SIP/2.0 ") {
            let code = rest
                .get(..3)
                .and_then(|c| std::str::from_utf8(c).ok())
                .and_then(|c| c.parse::<u16>().ok());
            if let Some(c) = code.filter(|c| (100..700).contains(c)) {
                self.responses_sent[usize::from(c - 100)] += 1;
            }
        } else {
            let end = bytes.iter().position(|&b| b == b' ').unwrap_or(0);
            let m = std::str::from_utf8(&bytes[..end])
                .map(Method::from_token)
                .unwrap_or(Method::Extension);
            self.requests_sent[method_index(m)] += 1;
        }
    }

    /// Records the time from an INVITE to its final response.
    pub(crate) fn call_setup(&mut self, d: Duration) {
        self.setup.observe(d);
    }

    /// Records how long an answered call lasted (2xx to BYE).
    pub(crate) fn call_duration(&mut self, d: Duration) {
        self.duration.observe(d);
    }

    /// Responses sent with this status code.
    pub fn responses_sent(&self, status: u16) -> u64 {
        if (100..700).contains(&status) {
            self.responses_sent[usize::from(status - 100)]
        } else {
            0
        }
    }

    /// Appends the Prometheus text for these metrics to `out`.
    pub fn render(&self, out: &mut String) {
        let counter = |out: &mut String, name: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        };
        counter(
            out,
            "switchboard_sip_requests_received_total",
            "SIP requests received, by method.",
        );
        for (i, n) in self.requests_received.iter().enumerate() {
            let _ = writeln!(
                out,
                "switchboard_sip_requests_received_total{{method=\"{}\"}} {n}",
                METHODS[i]
            );
        }
        counter(
            out,
            "switchboard_sip_requests_sent_total",
            "SIP requests sent (forwarded or generated), by method.",
        );
        for (i, n) in self.requests_sent.iter().enumerate() {
            let _ = writeln!(
                out,
                "switchboard_sip_requests_sent_total{{method=\"{}\"}} {n}",
                METHODS[i]
            );
        }
        counter(
            out,
            "switchboard_sip_responses_received_total",
            "SIP responses received, by class.",
        );
        for (c, n) in self.responses_received.iter().enumerate().skip(1) {
            let _ = writeln!(
                out,
                "switchboard_sip_responses_received_total{{class=\"{c}xx\"}} {n}"
            );
        }
        counter(
            out,
            "switchboard_sip_responses_sent_total",
            "SIP responses sent, by status code.",
        );
        for (i, n) in self
            .responses_sent
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
        {
            let _ = writeln!(
                out,
                "switchboard_sip_responses_sent_total{{code=\"{}\"}} {n}",
                i + 100
            );
        }
        counter(
            out,
            "switchboard_auth_challenges_total",
            "Digest challenges sent.",
        );
        let _ = writeln!(
            out,
            "switchboard_auth_challenges_total {}",
            self.auth_challenges
        );
        counter(
            out,
            "switchboard_auth_failures_total",
            "Credentials that did not verify.",
        );
        let _ = writeln!(
            out,
            "switchboard_auth_failures_total {}",
            self.auth_failures
        );
        counter(
            out,
            "switchboard_auth_refused_total",
            "Requests refused by authentication (403).",
        );
        let _ = writeln!(out, "switchboard_auth_refused_total {}", self.auth_refused);
        counter(
            out,
            "switchboard_dropped_total",
            "Messages dropped or refused, by reason.",
        );
        let _ = writeln!(
            out,
            "switchboard_dropped_total{{reason=\"parse_error\"}} {}",
            self.parse_errors
        );
        let _ = writeln!(
            out,
            "switchboard_dropped_total{{reason=\"overload\"}} {}",
            self.overloaded
        );
        self.setup.render(
            out,
            "switchboard_call_setup_seconds",
            "Time from INVITE to its final response.",
        );
        self.duration.render(
            out,
            "switchboard_call_duration_seconds",
            "Answered calls, from the 2xx to the BYE.",
        );
        let _ = writeln!(
            out,
            "# HELP switchboard_dialogs_started_total Dialogs established through the proxy.\n# TYPE switchboard_dialogs_started_total counter\nswitchboard_dialogs_started_total {}",
            self.dialogs_started
        );
        let _ = writeln!(
            out,
            "# HELP switchboard_dialogs_expired_total Dialogs forgotten without a BYE (12 h old, or the table full).\n# TYPE switchboard_dialogs_expired_total counter\nswitchboard_dialogs_expired_total {}",
            self.dialogs_expired
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renders() {
        let mut m = Metrics::default();
        m.request_received(Method::Invite);
        m.sent(b"SIP/2.0 486 Busy Here\r\n");
        m.sent(b"INVITE sip:a@b SIP/2.0\r\n");
        m.call_setup(Duration::from_millis(300));
        assert_eq!(m.responses_sent(486), 1);
        let mut s = String::new();
        m.render(&mut s);
        assert!(s.contains("switchboard_sip_requests_received_total{method=\"INVITE\"} 1\n"));
        assert!(s.contains("switchboard_sip_requests_sent_total{method=\"INVITE\"} 1\n"));
        assert!(s.contains("switchboard_sip_responses_sent_total{code=\"486\"} 1\n"));
        assert!(s.contains("switchboard_call_setup_seconds_bucket{le=\"0.25\"} 0\n"));
        assert!(s.contains("switchboard_call_setup_seconds_bucket{le=\"0.5\"} 1\n"));
        assert!(s.contains("switchboard_call_setup_seconds_count 1\n"));
    }
}
