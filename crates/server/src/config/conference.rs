//! `[conference]`: the conference bridge's room names and numbers, its bounds and the
//! rooms' PINs; their defaults, checks, and the proxy's and the bridge's views
//! (docs/services.md, "Conference bridge").

use std::collections::HashMap;

use anyhow::bail;
use serde::Deserialize;

/// `[conference]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConferenceSection {
    /// Users `PREFIX` + room name are rooms (`conf-sales`); empty: no named rooms.
    pub prefix: String,
    /// Numbers that are rooms, `"FIRST-LAST"`; empty: none.
    pub numbers: String,
    /// Participants a room holds; the next caller gets 486.
    pub max_participants: usize,
    /// Rooms open at once; the caller opening one more gets 503.
    pub max_rooms: usize,
    /// Calls to the bridge the proxy remembers for RFC 3911 `Join`.
    pub max_bridge_calls: usize,
    /// PINs by room (`sales = "4321"`, `"800" = "1234"`): those rooms ask it first.
    pub pins: HashMap<String, String>,
}

impl Default for ConferenceSection {
    fn default() -> Self {
        let p = proxy::ConferenceRouting::default();
        let s = services::ConferenceConfig::default();
        ConferenceSection {
            prefix: p.prefix,
            numbers: "800-899".into(),
            max_participants: s.max_participants,
            max_rooms: s.max_rooms,
            max_bridge_calls: p.max_bridge_calls,
            pins: HashMap::new(),
        }
    }
}

impl ConferenceSection {
    /// The proxy's view (checked by `validate`).
    pub fn to_proxy(&self) -> proxy::ConferenceRouting {
        proxy::ConferenceRouting {
            prefix: self.prefix.clone(),
            numbers: proxy::parse_conference_numbers(&self.numbers),
            max_bridge_calls: self.max_bridge_calls,
        }
    }

    /// The bridge's view: PINs keyed by lower-case room name.
    pub fn to_service(&self) -> services::ConferenceConfig {
        services::ConferenceConfig {
            max_participants: self.max_participants,
            max_rooms: self.max_rooms,
            pins: self
                .pins
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
        }
    }

    /// Checks the names, the range, the bounds and the PINs.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.prefix.len() > 32
            || !self
                .prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-*#".contains(&b))
        {
            bail!("conference.prefix: at most 32 letters, digits, '.', '_', '-', '*' or '#'");
        }
        if !self.numbers.is_empty() && proxy::parse_conference_numbers(&self.numbers).is_none() {
            bail!("conference.numbers: must be FIRST-LAST with FIRST <= LAST, e.g. \"800-899\"");
        }
        if self.max_participants < 2 || self.max_participants > 100 {
            bail!("conference.max_participants: must be 2 to 100");
        }
        if self.max_rooms == 0 || self.max_rooms > 10_000 {
            bail!("conference.max_rooms: must be 1 to 10000");
        }
        if self.max_bridge_calls == 0 || self.max_bridge_calls > 1_000_000 {
            bail!("conference.max_bridge_calls: must be 1 to 1000000");
        }
        for (room, pin) in &self.pins {
            if !services::valid_room(room) {
                bail!("conference.pins: room {room:?}: 1 to 64 letters, digits, '.', '_' or '-'");
            }
            if pin.is_empty() || pin.len() > 16 || !pin.bytes().all(|b| b.is_ascii_digit()) {
                bail!("conference.pins.{room}: the PIN must be 1 to 16 digits");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_bad_values_name_their_key() {
        ConferenceSection::default().validate().unwrap();
        let bad = |f: fn(&mut ConferenceSection), key: &str| {
            let mut c = ConferenceSection::default();
            f(&mut c);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(key), "{e}");
        };
        bad(|c| c.numbers = "899-800".into(), "conference.numbers");
        bad(|c| c.max_participants = 1, "conference.max_participants");
        bad(|c| c.prefix = "conf/".into(), "conference.prefix");
        bad(
            |c| {
                c.pins.insert("sales".into(), "12a4".into());
            },
            "conference.pins.sales",
        );
        let mut none = ConferenceSection {
            numbers: String::new(),
            ..ConferenceSection::default()
        };
        none.validate().unwrap();
        none.pins.insert("Sales".into(), "1234".into());
        assert_eq!(none.to_proxy().numbers, None);
        assert_eq!(
            none.to_service().pins.get("sales").map(String::as_str),
            Some("1234")
        );
    }
}
