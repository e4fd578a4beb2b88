//! Message-waiting (RFC 3842 over RFC 6665), the pure parts: the bounded table of
//! `message-summary` subscriptions, each mailbox's last known counts, and the NOTIFY body.
//!
//! A phone subscribes to its own address of record; the proxy is the notifier (the
//! glue, answering SUBSCRIBE and sending NOTIFYs, is `core/mwi.rs`). Counts come from the
//! store, read off the core task by the server and handed in with
//! [`crate::Proxy::mailbox_changed`]. Expired subscriptions are dropped when met (a
//! refresh, a change, a full table): no timer is needed.

use std::collections::HashMap;
use std::time::Duration;

use model::{AddressOfRecord, MessageCounts};

use crate::destination::Destination;

/// The event package.
pub const EVENT: &str = "message-summary";
/// The NOTIFY body's content type.
pub const CONTENT_TYPE: &str = "application/simple-message-summary";
/// Subscription length when SUBSCRIBE has no Expires (RFC 3842 §5: 3600 s suggested),
/// and the longest granted.
pub const DEFAULT_EXPIRES: u32 = 3600;
/// Shortest subscription granted (a shorter Expires is raised to it).
pub const MIN_EXPIRES: u32 = 60;

/// A subscription's dialog: (Call-ID, the subscriber's tag, our tag).
pub(crate) type DialogKey = (String, String, String);

/// One phone's subscription.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    /// Whose mailbox.
    pub aor: AddressOfRecord,
    /// The subscriber's From URI (the NOTIFY's To).
    pub remote_uri: String,
    /// The subscriber's Contact (the NOTIFY's Request-URI).
    pub contact: String,
    /// Where the SUBSCRIBE came from (NOTIFYs go there: NAT).
    pub dest: Destination,
    /// When it ends (proxy time).
    pub expires_at: Duration,
    /// The last CSeq we used in this dialog.
    pub cseq: u32,
}

/// Subscriptions and counts, bounded.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    by_dialog: HashMap<DialogKey, Subscription>,
    counts: HashMap<AddressOfRecord, MessageCounts>,
    max: usize,
}

/// Why a subscription was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TableFull;

impl Subscriptions {
    /// An empty table holding at most `max` subscriptions.
    pub fn new(max: usize) -> Self {
        Subscriptions {
            max,
            ..Subscriptions::default()
        }
    }

    /// Stores a new subscription (expired ones are dropped first when the table is full).
    pub fn insert(
        &mut self,
        now: Duration,
        key: DialogKey,
        sub: Subscription,
    ) -> Result<(), TableFull> {
        if self.by_dialog.len() >= self.max {
            self.by_dialog.retain(|_, s| s.expires_at > now);
            if self.by_dialog.len() >= self.max {
                return Err(TableFull);
            }
        }
        self.by_dialog.insert(key, sub);
        Ok(())
    }

    /// The live subscription of a dialog (an expired one is dropped).
    pub fn get_mut(&mut self, now: Duration, key: &DialogKey) -> Option<&mut Subscription> {
        if self.by_dialog.get(key).is_some_and(|s| s.expires_at <= now) {
            self.by_dialog.remove(key);
        }
        self.by_dialog.get_mut(key)
    }

    /// Ends a subscription.
    pub fn remove(&mut self, key: &DialogKey) -> Option<Subscription> {
        self.by_dialog.remove(key)
    }

    /// The live subscriptions of a mailbox (expired ones of it are dropped).
    pub fn of(&mut self, now: Duration, aor: &AddressOfRecord) -> Vec<DialogKey> {
        self.by_dialog
            .retain(|_, s| &s.aor != aor || s.expires_at > now);
        self.by_dialog
            .iter()
            .filter(|(_, s)| &s.aor == aor)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// How many subscriptions are held.
    pub fn len(&self) -> usize {
        self.by_dialog.len()
    }

    /// The mailbox's counts as last told (0/0 when never told).
    pub fn counts(&self, aor: &AddressOfRecord) -> MessageCounts {
        self.counts.get(aor).copied().unwrap_or_default()
    }

    /// Records a mailbox's counts; true when they differ from what was known.
    pub fn set_counts(&mut self, aor: &AddressOfRecord, counts: MessageCounts) -> bool {
        let before = self.counts(aor);
        if counts == MessageCounts::default() {
            // Empty mailboxes are the default: the map holds only mailboxes with messages.
            self.counts.remove(aor);
        } else {
            self.counts.insert(aor.clone(), counts);
        }
        before != counts
    }
}

/// The RFC 3842 body for `aor`'s counts.
pub(crate) fn body(aor: &AddressOfRecord, counts: MessageCounts) -> String {
    format!(
        "Messages-Waiting: {}\r\nMessage-Account: sip:{aor}\r\nVoice-Message: {}/{}\r\n",
        if counts.new > 0 { "yes" } else { "no" },
        counts.new,
        counts.old
    )
}

/// The granted length of a subscription asked for `asked` seconds (None: the default).
pub(crate) fn granted(asked: Option<u32>) -> u32 {
    asked
        .unwrap_or(DEFAULT_EXPIRES)
        .clamp(MIN_EXPIRES, DEFAULT_EXPIRES)
}

/// True when an `Event` header value names the message-summary package.
pub(crate) fn is_message_summary(event: &str) -> bool {
    event
        .split(';')
        .next()
        .is_some_and(|p| p.trim().eq_ignore_ascii_case(EVENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(aor: &AddressOfRecord, expires: u64) -> Subscription {
        Subscription {
            aor: aor.clone(),
            remote_uri: "sip:alice@example.com".into(),
            contact: "sip:alice@192.0.2.1".into(),
            dest: crate::destination::test_phone(),
            expires_at: Duration::from_secs(expires),
            cseq: 0,
        }
    }

    fn key(n: &str) -> DialogKey {
        (n.into(), "a".into(), "b".into())
    }

    #[test]
    fn the_table_is_bounded_and_forgets_expired_subscriptions() {
        let alice = AddressOfRecord::new("alice", "example.com");
        let mut t = Subscriptions::new(2);
        let now = Duration::from_secs(10);
        t.insert(now, key("1"), sub(&alice, 20)).unwrap();
        t.insert(now, key("2"), sub(&alice, 30)).unwrap();
        assert_eq!(t.insert(now, key("3"), sub(&alice, 40)), Err(TableFull));
        let later = Duration::from_secs(25);
        assert_eq!(t.of(later, &alice), [key("2")]);
        t.insert(later, key("3"), sub(&alice, 40)).unwrap();
        assert!(t.get_mut(Duration::from_secs(35), &key("2")).is_none());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn bodies_and_counts() {
        let alice = AddressOfRecord::new("alice", "example.com");
        assert_eq!(
            body(&alice, MessageCounts { new: 1, old: 0 }),
            "Messages-Waiting: yes\r\nMessage-Account: sip:alice@example.com\r\nVoice-Message: 1/0\r\n"
        );
        assert!(body(&alice, MessageCounts { new: 0, old: 2 }).starts_with("Messages-Waiting: no"));
        let mut t = Subscriptions::new(1);
        assert!(!t.set_counts(&alice, MessageCounts::default()));
        assert!(t.set_counts(&alice, MessageCounts { new: 1, old: 0 }));
        assert_eq!(t.counts(&alice).new, 1);
        assert_eq!(granted(None), 3600);
        assert_eq!(granted(Some(10)), 60);
        assert_eq!(granted(Some(7200)), 3600);
        assert!(is_message_summary("Message-Summary;id=1"));
        assert!(!is_message_summary("presence"));
    }
}
