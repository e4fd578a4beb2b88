//! Conference routing, the pure parts: which dialled users are conference rooms, the
//! Request-URIs the bridge (a SIP endpoint on the service host) receives, and the
//! bounded memory of calls sent to the bridge that lets an RFC 3911 `Join` naming one of
//! them reach the bridge instead of the phone.
//!
//! Names and numbers: `conf-ROOM@DOMAIN` (the prefix is `[conference] prefix`) is room
//! `ROOM`; a number in `[conference] numbers` (e.g. `800-899`) is the room of that
//! number. Request-URIs (the contract with the bridge): `sip:conference@DOMAIN;room=ROOM`,
//! and `sip:conference@DOMAIN` for a `Join` (the bridge finds the room by the dialog).
//! The glue into the request route is `core/conference.rs`.

use std::collections::{HashSet, VecDeque};

/// The user part of the bridge's Request-URIs.
pub const SERVICE_USER: &str = "conference";

/// Conference settings of the proxy (`[conference]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceRouting {
    /// Users `PREFIX` + room name are rooms (default `conf-`; empty: no named rooms).
    pub prefix: String,
    /// Numbers that are rooms, first and last (`numbers = "800-899"`); `None`: none.
    pub numbers: Option<(u64, u64)>,
    /// Calls to the bridge remembered for `Join` (the oldest forgotten first).
    pub max_bridge_calls: usize,
}

impl Default for ConferenceRouting {
    fn default() -> Self {
        ConferenceRouting {
            prefix: "conf-".into(),
            numbers: Some((800, 899)),
            max_bridge_calls: 4096,
        }
    }
}

impl ConferenceRouting {
    /// The room a dialled user names, if any (lower case).
    pub fn room(&self, user: &str) -> Option<String> {
        if !self.prefix.is_empty() {
            if let Some(name) = strip_prefix_ignore_case(user, &self.prefix) {
                return valid_room(name).then(|| name.to_ascii_lowercase());
            }
        }
        let (first, last) = self.numbers?;
        if user.is_empty() || user.len() > 12 || !user.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u64 = user.parse().ok()?;
        // `0800` is not `800`: the number as written in the range.
        (n >= first && n <= last && n.to_string() == user).then(|| user.to_string())
    }

    /// The bridge's Request-URI for `room` in `domain`.
    pub fn request_uri(domain: &str, room: Option<&str>) -> String {
        match room {
            Some(r) => format!("sip:{SERVICE_USER}@{domain};room={r}"),
            None => format!("sip:{SERVICE_USER}@{domain}"),
        }
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// A room name the bridge accepts: 1 to 64 of `[A-Za-z0-9._-]`.
fn valid_room(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Reads `"800-899"`.
pub fn parse_numbers(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() || b.is_empty() || a.len() > 12 || b.len() > 12 {
        return None;
    }
    let (first, last): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
    (first <= last).then_some((first, last))
}

/// The Call-IDs of calls routed to the bridge, the oldest forgotten past the bound.
#[derive(Debug, Default)]
pub(crate) struct BridgeCalls {
    ids: HashSet<Box<str>>,
    order: VecDeque<Box<str>>,
}

impl BridgeCalls {
    /// Remembers a call to the bridge.
    pub fn insert(&mut self, call_id: &str, max: usize) {
        if max == 0 || self.ids.contains(call_id) {
            return;
        }
        while self.order.len() >= max {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        self.ids.insert(call_id.into());
        self.order.push_back(call_id.into());
    }

    /// Was this call sent to the bridge?
    pub fn contains(&self, call_id: &str) -> bool {
        self.ids.contains(call_id)
    }

    /// Calls remembered (the metric).
    pub fn len(&self) -> usize {
        self.order.len()
    }
}

/// The Call-ID of a `Join` header value (`call-id;to-tag=..;from-tag=..`).
pub fn join_call_id(value: &str) -> Option<&str> {
    let id = value.split(';').next()?.trim();
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_are_rooms() {
        let r = ConferenceRouting::default();
        assert_eq!(r.room("conf-Sales"), Some("sales".into()));
        assert_eq!(r.room("CONF-a.b_c-1"), Some("a.b_c-1".into()));
        assert_eq!(r.room("conf-"), None);
        assert_eq!(r.room("conf-a%2f"), None);
        assert_eq!(r.room("800"), Some("800".into()));
        assert_eq!(r.room("899"), Some("899".into()));
        assert_eq!(r.room("900"), None);
        assert_eq!(r.room("0800"), None);
        assert_eq!(r.room("alice"), None);
        let none = ConferenceRouting {
            prefix: String::new(),
            numbers: None,
            ..ConferenceRouting::default()
        };
        assert_eq!(none.room("conf-x"), None);
        assert_eq!(none.room("800"), None);
    }

    #[test]
    fn number_ranges() {
        assert_eq!(parse_numbers("800-899"), Some((800, 899)));
        assert_eq!(parse_numbers(" 1 - 2 "), Some((1, 2)));
        assert_eq!(parse_numbers("899-800"), None);
        assert_eq!(parse_numbers("800"), None);
        assert_eq!(parse_numbers("a-b"), None);
    }

    #[test]
    fn bridge_calls_are_bounded() {
        let mut b = BridgeCalls::default();
        b.insert("a", 2);
        b.insert("b", 2);
        b.insert("a", 2);
        b.insert("c", 2);
        assert!(!b.contains("a"));
        assert!(b.contains("b") && b.contains("c"));
        assert_eq!(b.len(), 2);
        assert_eq!(join_call_id("x@y;to-tag=1;from-tag=2"), Some("x@y"));
        assert_eq!(join_call_id(";to-tag=1"), None);
    }
}
