//! Instant messages for offline users (RFC 3428, issue 17; docs/messages.md): the pure
//! parts. [`MessagesConfig`] (`[messages]`), the bounded table of deliveries in progress
//! and of users known to have messages waiting ([`Deliveries`]), the work handed to the
//! server ([`ImWork`]), the sender as stored ([`sender_of`]) and the `Date` header of a
//! delivered message ([`http_date`]).
//!
//! Not here: the stage that accepts a MESSAGE with 202 and the delivery on REGISTER
//! (`core/messages.rs`), or the store itself (the server's `instant_messages.rs` task, in
//! order, on `storage`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

use model::{AddressOfRecord, InstantMessage};
use sip_message::NameAddr;

use crate::destination::Destination;

/// `[messages]`: instant messages kept for offline users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagesConfig {
    /// A MESSAGE to a user with no phone online is stored (202) and delivered when the user
    /// registers; false: 480 as before.
    pub enabled: bool,
    /// Most messages kept for one user; more are answered 486.
    pub max_per_user: u32,
    /// Largest body stored, in bytes; larger ones are answered 413.
    pub max_bytes: usize,
}

impl Default for MessagesConfig {
    fn default() -> Self {
        MessagesConfig {
            enabled: true,
            max_per_user: 100,
            max_bytes: 4096,
        }
    }
}

/// Work on the message store the proxy hands the server ([`crate::Output::Messages`]),
/// to be done in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImWork {
    /// Read the messages waiting for this user and pass them to
    /// [`crate::Proxy::deliver_messages`] (an empty list too).
    Fetch(AddressOfRecord),
    /// This message was answered 2xx: delete it.
    Delivered(i64),
    /// This message's delivery failed: count the attempt (and give up past the bound).
    Failed(i64),
}

/// How a parked MESSAGE's store went ([`crate::QueryAnswer::Stored`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Stored, with this id.
    Stored(i64),
    /// The user has `max_per_user` messages waiting.
    Full,
    /// The store failed.
    Failed,
}

/// Most users whose messages are being delivered at once (more wait for their next
/// REGISTER).
pub(crate) const MAX_DELIVERIES: usize = 10_000;
/// Most users remembered as having messages waiting (past it, only a REGISTER that adds a
/// binding fetches).
pub(crate) const MAX_WAITING: usize = 100_000;

/// One user's delivery in progress: the phone it goes to and the messages left, in order;
/// the first is in flight.
#[derive(Debug)]
pub(crate) struct Delivery {
    /// Where the phone is.
    pub dest: Destination,
    /// The phone's Contact (the Request-URI).
    pub contact: String,
    /// Messages not yet answered 2xx, oldest first.
    pub queue: VecDeque<InstantMessage>,
}

/// Deliveries in progress, users being fetched, users with messages waiting; and the
/// counters for metrics.
#[derive(Debug, Default)]
pub(crate) struct Deliveries {
    pub active: HashMap<AddressOfRecord, Delivery>,
    /// Users whose messages the server is reading.
    pub fetching: HashSet<AddressOfRecord>,
    /// Users known to have messages stored (stored here, or found at start).
    pub waiting: HashSet<AddressOfRecord>,
    /// `waiting` names every user with messages stored: no other node shares the store
    /// and the set never overflowed. Then a new binding of a user not in it asks the store
    /// nothing (a registration flood of users without messages costs no query each);
    /// otherwise every new binding fetches.
    pub complete: bool,
    /// Messages stored now (the server's count, after each change).
    pub stored_gauge: u64,
    /// Messages stored since start.
    pub stored_total: u64,
    /// Messages delivered (2xx) since start.
    pub delivered_total: u64,
    /// Delivery attempts that failed since start.
    pub failed_total: u64,
}

impl Deliveries {
    /// Remembers that `aor` has messages waiting (false when the table is full).
    pub fn note_waiting(&mut self, aor: &AddressOfRecord) -> bool {
        if self.waiting.contains(aor) {
            return true;
        }
        if self.waiting.len() >= MAX_WAITING {
            self.complete = false;
            return false;
        }
        self.waiting.insert(aor.clone());
        true
    }

    /// True when a REGISTER of `aor` should fetch its messages: it added a binding (of a
    /// user known to have messages, when that knowledge is `complete`), or it refreshed
    /// one and messages are known to wait; and none is being delivered or fetched.
    pub fn should_fetch(&self, aor: &AddressOfRecord, added: bool, refreshed: bool) -> bool {
        let known = self.waiting.contains(aor);
        ((added && (known || !self.complete)) || (refreshed && known))
            && !self.active.contains_key(aor)
            && !self.fetching.contains(aor)
            && self.fetching.len() + self.active.len() < MAX_DELIVERIES
    }

    /// Appends the metrics text.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP switchboard_messages_stored Instant messages stored for offline users.\n\
             # TYPE switchboard_messages_stored gauge\n\
             switchboard_messages_stored {}\n\
             # HELP switchboard_messages_stored_total Instant messages stored since start.\n\
             # TYPE switchboard_messages_stored_total counter\n\
             switchboard_messages_stored_total {}\n\
             # HELP switchboard_messages_delivered_total Stored messages delivered (2xx).\n\
             # TYPE switchboard_messages_delivered_total counter\n\
             switchboard_messages_delivered_total {}\n\
             # HELP switchboard_messages_delivery_failures_total Deliveries of stored messages that failed.\n\
             # TYPE switchboard_messages_delivery_failures_total counter\n\
             switchboard_messages_delivery_failures_total {}",
            self.stored_gauge, self.stored_total, self.delivered_total, self.failed_total
        );
    }
}

/// The sender as stored: a `From` value without its tag or other parameters
/// (`"Alice" <sip:alice@example.com>`).
pub(crate) fn sender_of(from: &NameAddr<'_>) -> String {
    match from.display {
        Some(d) if !d.is_empty() => format!("{d} <{}>", from.uri.raw),
        _ => format!("<{}>", from.uri.raw),
    }
}

/// Unix time as an RFC 1123 date (`Fri, 04 Dec 2026 03:46:00 GMT`), as SIP's `Date`
/// header writes it (RFC 3261 §20.17).
pub(crate) fn http_date(unix: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Howard Hinnant's civil-from-days, for days since 1970-01-01 (never negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let month_name = MONTHS[usize::try_from(month - 1).unwrap_or(0) % 12];
    let day_name = DAYS[usize::try_from(days % 7).unwrap_or(0)];
    format!(
        "{day_name}, {day:02} {month_name} {year} {:02}:{:02}:{:02} GMT",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc_1123() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(1_796_355_960), "Fri, 04 Dec 2026 03:46:00 GMT");
    }

    #[test]
    fn the_sender_loses_its_tag() {
        let na = NameAddr::parse("\"Alice A\" <sip:alice@example.com>;tag=abc").unwrap();
        assert_eq!(sender_of(&na), "\"Alice A\" <sip:alice@example.com>");
        let na = NameAddr::parse("sip:alice@example.com;tag=abc").unwrap();
        assert_eq!(sender_of(&na), "<sip:alice@example.com>");
    }

    #[test]
    fn a_register_fetches_once() {
        let mut d = Deliveries::default();
        let bob = AddressOfRecord::new("bob", "example.com");
        assert!(d.should_fetch(&bob, true, false));
        assert!(!d.should_fetch(&bob, false, true));
        assert!(d.note_waiting(&bob));
        assert!(d.should_fetch(&bob, false, true));
        d.fetching.insert(bob.clone());
        assert!(!d.should_fetch(&bob, true, false));
    }

    #[test]
    fn with_complete_knowledge_only_users_with_messages_fetch() {
        let mut d = Deliveries {
            complete: true,
            ..Deliveries::default()
        };
        let bob = AddressOfRecord::new("bob", "example.com");
        assert!(!d.should_fetch(&bob, true, false));
        assert!(!d.should_fetch(&bob, false, true));
        assert!(d.note_waiting(&bob));
        assert!(d.should_fetch(&bob, true, false));
        assert!(d.should_fetch(&bob, false, true));
        // An overflowing table is no longer complete: every new binding fetches again.
        for i in 0..MAX_WAITING {
            d.note_waiting(&AddressOfRecord::new(&format!("u{i}"), "example.com"));
        }
        assert!(!d.complete);
        let carol = AddressOfRecord::new("carol", "example.com");
        assert!(d.should_fetch(&carol, true, false));
    }
}
