//! Keep-alives to phones behind NAT (issue 19): a phone that registered over UDP from
//! behind a NAT (`crate::nat::behind_nat`) is reachable only while its router keeps the
//! pinhole its REGISTER opened, and home routers forget an idle UDP mapping after 30 s to
//! a few minutes, long before the phone registers again. So the proxy sends each such
//! binding's source a ping every `[nat] keepalive_secs`: an OPTIONS (the phone answers,
//! which also proves it alive) or a bare double CRLF (no answer; RFC 5626 §4.4.1's STUN
//! keep-alive is the client's to send). Each ping goes through the pinhole both ways, so
//! the router's mapping stays.
//!
//! This module owns the table of kept-alive pinholes (one per source address, bounded by
//! [`MAX_KEPT_ALIVE`]), their schedule (one entry per pinhole in a time-ordered set, no
//! task per binding; first pings spread over the interval) and the pings' counters. A
//! pinhole whose bindings are gone (expired, removed) is dropped at its next turn. A phone
//! that answers none of [`SILENT_AFTER`] OPTIONS in a row is logged (warning); its binding
//! stays until it expires, since a phone may drop OPTIONS and still take calls.
//!
//! Not here: NAT detection (`crate::nat`), the OPTIONS itself (`originate.rs`), flows of
//! connection-oriented transports (RFC 5626 outbound).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;
use model::AddressOfRecord;
use sip_transaction::TransactionId;

use super::Proxy;
use crate::config::KeepAliveMode;
use crate::destination::{Destination, Transport};

/// Most pinholes kept alive; a NATed registration beyond it gets no pings (counted).
pub(crate) const MAX_KEPT_ALIVE: usize = 65_536;
/// Unanswered OPTIONS in a row after which a phone is logged as silent.
pub(crate) const SILENT_AFTER: u32 = 3;
/// A double CRLF: what a SIP parser over UDP skips (RFC 3261 §7.5, RFC 5626 §3.5.1).
const CRLF_PING: &[u8] = b"\r\n\r\n";

/// One pinhole kept open: a NATed binding's source.
#[derive(Debug)]
struct Pinhole {
    dest: Destination,
    /// The binding the pings are for (the last one registered from this source).
    aor: AddressOfRecord,
    contact: String,
    due: Duration,
    /// Unanswered OPTIONS in a row.
    misses: u32,
    in_flight: Option<TransactionId>,
}

/// The kept-alive pinholes, their schedule and counters.
#[derive(Debug, Default)]
pub(crate) struct KeepAlives {
    /// By source (`udp:ip:port`).
    pinholes: HashMap<String, Pinhole>,
    /// (due, source): the schedule, earliest first.
    schedule: BTreeSet<(Duration, String)>,
    /// OPTIONS in flight -> source.
    by_tx: HashMap<TransactionId, String>,
    /// Pings sent.
    sent: u64,
    /// Pings that went unanswered (OPTIONS) or could not be sent.
    failed: u64,
    /// NATed registrations not kept alive because the table was full.
    refused: u64,
}

impl KeepAlives {
    /// When the next ping is due.
    pub(crate) fn next_due(&self) -> Option<Duration> {
        self.schedule.first().map(|(d, _)| *d)
    }

    /// Pinholes kept alive now.
    pub(crate) fn len(&self) -> usize {
        self.pinholes.len()
    }

    fn reschedule(&mut self, source: &str, due: Duration) {
        if let Some(p) = self.pinholes.get_mut(source) {
            self.schedule.remove(&(p.due, source.to_string()));
            p.due = due;
            self.schedule.insert((due, source.to_string()));
        }
    }

    fn remove(&mut self, source: &str) {
        if let Some(p) = self.pinholes.remove(source) {
            self.schedule.remove(&(p.due, source.to_string()));
            if let Some(tx) = p.in_flight {
                self.by_tx.remove(&tx);
            }
        }
    }

    /// Prometheus text: the table's gauge and the pings' counters.
    pub(crate) fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP switchboard_nat_keepalive_pinholes NATed UDP bindings' sources the server pings (bounded by {MAX_KEPT_ALIVE}).\n\
             # TYPE switchboard_nat_keepalive_pinholes gauge\nswitchboard_nat_keepalive_pinholes {}\n\
             # HELP switchboard_nat_keepalives_total Keep-alive pings to phones behind NAT: sent, failed (unanswered or not sent), refused (table full).\n\
             # TYPE switchboard_nat_keepalives_total counter\n\
             switchboard_nat_keepalives_total{{outcome=\"sent\"}} {}\n\
             switchboard_nat_keepalives_total{{outcome=\"failed\"}} {}\n\
             switchboard_nat_keepalives_total{{outcome=\"refused\"}} {}",
            self.pinholes.len(),
            self.sent,
            self.failed,
            self.refused
        );
    }
}

/// Where in the interval a source's first ping falls: spread by a hash of the source over
/// the interval's second half, so phones registering together are not pinged together
/// and every first ping comes before the interval is over.
fn first_offset(source: &str, interval: Duration) -> Duration {
    let h = source.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let half = interval / 2;
    let millis = u64::try_from(half.as_millis()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_millis(h % millis)
}

impl Proxy {
    /// A REGISTER answered 200: keeps the source of every binding it added or refreshed
    /// alive, when the phone is behind NAT over UDP and keep-alives are on.
    pub(super) fn keep_alive_registration(
        &mut self,
        now: Duration,
        req: &sip_message::SipMessage,
        source: &Destination,
        changes: &[registrar::Change],
    ) {
        let interval = self.cfg.keepalive.interval;
        if interval.is_zero()
            || source.transport != Transport::Udp
            || !crate::nat::behind_nat(req, source.addr.ip())
        {
            return;
        }
        let key = source.to_source_string();
        for c in changes {
            let (registrar::Change::Add(b) | registrar::Change::Save(b)) = c else {
                continue;
            };
            let k = &mut self.keepalives;
            if let Some(p) = k.pinholes.get_mut(&key) {
                p.aor = b.aor.clone();
                p.contact = b.contact.clone();
                continue;
            }
            if k.pinholes.len() >= MAX_KEPT_ALIVE {
                k.refused += 1;
                tracing::warn!(source = %key, "keep-alive table full: NATed phone not pinged");
                return;
            }
            let due = now + first_offset(&key, interval);
            k.pinholes.insert(
                key.clone(),
                Pinhole {
                    dest: *source,
                    aor: b.aor.clone(),
                    contact: b.contact.clone(),
                    due,
                    misses: 0,
                    in_flight: None,
                },
            );
            k.schedule.insert((due, key.clone()));
            tracing::debug!(source = %key, aor = %b.aor, "NATed phone kept alive");
        }
    }

    /// Sends the pings that are due.
    pub(super) fn run_keepalives(&mut self, now: Duration) {
        let interval = self.cfg.keepalive.interval;
        while let Some((due, key)) = self.keepalives.schedule.first().cloned() {
            if due > now {
                break;
            }
            let Some(p) = self.keepalives.pinholes.get(&key) else {
                self.keepalives.schedule.remove(&(due, key));
                continue;
            };
            let (dest, aor, contact, late) =
                (p.dest, p.aor.clone(), p.contact.clone(), p.in_flight);
            // Still registered from here? (Expired or removed bindings end their pings.)
            let registered = self
                .registrar
                .location()
                .lookup(&aor, self.wall_now)
                .iter()
                .any(|b| b.source == key);
            if !registered || interval.is_zero() {
                tracing::debug!(source = %key, %aor, "keep-alive ends: binding gone");
                self.keepalives.remove(&key);
                continue;
            }
            if let Some(tx) = late {
                self.keepalives.by_tx.remove(&tx);
                self.keepalive_missed(&key);
            }
            self.keepalives.reschedule(&key, now + interval);
            let in_flight = match self.cfg.keepalive.mode {
                KeepAliveMode::Crlf => {
                    self.outbox.transmit(dest, Bytes::from_static(CRLF_PING));
                    None
                }
                KeepAliveMode::Options => {
                    let uri = contact_uri(&contact);
                    match self.originate_options(now, dest, &uri) {
                        Some(tx) => Some(tx),
                        None => {
                            self.keepalives.failed += 1;
                            tracing::debug!(source = %key, "keep-alive OPTIONS not sent");
                            continue;
                        }
                    }
                }
            };
            self.keepalives.sent += 1;
            tracing::debug!(source = %key, %aor, mode = ?self.cfg.keepalive.mode, "keep-alive sent");
            if let Some(tx) = in_flight {
                self.keepalives.by_tx.insert(tx, key.clone());
                if let Some(p) = self.keepalives.pinholes.get_mut(&key) {
                    p.in_flight = Some(tx);
                }
            }
        }
    }

    /// A response to a client transaction: true when it answered a keep-alive OPTIONS
    /// (any status: the phone is there).
    pub(super) fn keepalive_answered(&mut self, id: TransactionId) -> bool {
        let Some(key) = self.keepalives.by_tx.remove(&id) else {
            return false;
        };
        if let Some(p) = self.keepalives.pinholes.get_mut(&key) {
            p.in_flight = None;
            if p.misses >= SILENT_AFTER {
                tracing::info!(source = %key, aor = %p.aor, "NATed phone answers keep-alives again");
            }
            p.misses = 0;
        }
        true
    }

    /// A client transaction timed out or could not be sent: true when it was a keep-alive.
    pub(super) fn keepalive_lost(&mut self, id: TransactionId) -> bool {
        let Some(key) = self.keepalives.by_tx.remove(&id) else {
            return false;
        };
        if let Some(p) = self.keepalives.pinholes.get_mut(&key) {
            p.in_flight = None;
        }
        self.keepalive_missed(&key);
        true
    }

    fn keepalive_missed(&mut self, key: &str) {
        self.keepalives.failed += 1;
        let Some(p) = self.keepalives.pinholes.get_mut(key) else {
            return;
        };
        p.in_flight = None;
        p.misses = p.misses.saturating_add(1);
        if p.misses == SILENT_AFTER {
            tracing::warn!(
                source = %key,
                aor = %p.aor,
                contact = %p.contact,
                misses = p.misses,
                "NATed phone answers no keep-alive OPTIONS"
            );
        }
    }

    /// Pinholes kept alive, pings sent and pings failed (for tests and status).
    pub fn keepalive_counts(&self) -> (usize, u64, u64) {
        (
            self.keepalives.len(),
            self.keepalives.sent,
            self.keepalives.failed,
        )
    }
}

/// The bare URI of a Contact value (an OPTIONS' Request-URI and To).
fn contact_uri(contact: &str) -> String {
    let c = contact.trim();
    let c = c
        .find('<')
        .and_then(|i| c[i + 1..].find('>').map(|j| &c[i + 1..i + 1 + j]))
        .unwrap_or(c);
    c.to_string()
}
