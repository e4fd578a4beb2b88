//! [`ParkLot`]: the orbits of each domain and who waits in them. Bounded by the orbit
//! range (`[park] orbits`): one entry per orbit and domain at most.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use media::MediaSession;

use crate::conference::DialogId;
use tokio::sync::{oneshot, Notify};

/// What a retrieving call hands the parked call: its media to bridge to, and the two
/// signals by which each side learns that the other hung up.
pub(crate) struct Joined {
    pub media: Arc<MediaSession>,
    pub retriever_over: Arc<Notify>,
    pub parked_over: Arc<Notify>,
}

enum Slot {
    /// Taken by a call being answered.
    Reserved,
    /// A parked call waits for its retriever; its dialog with the host, and who it is.
    Parked(oneshot::Sender<Joined>, Option<DialogId>, String),
}

/// A parked call, as the park server's `Event: dialog` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParkedCall {
    pub orbit: u32,
    pub dialog: DialogId,
    /// The parked party's URI.
    pub party: String,
}

/// The orbits in use, by domain.
pub(crate) struct ParkLot {
    first: u32,
    last: u32,
    slots: Mutex<HashMap<(String, u32), Slot>>,
}

impl ParkLot {
    /// Orbits `first..=last` in every domain.
    pub fn new(first: u32, last: u32) -> ParkLot {
        ParkLot {
            first,
            last,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Takes the lowest free orbit of `domain` (None: all in use).
    pub fn reserve(&self, domain: &str) -> Option<u32> {
        let mut slots = self.slots.lock().ok()?;
        let orbit =
            (self.first..=self.last).find(|o| !slots.contains_key(&(domain.to_string(), *o)))?;
        slots.insert((domain.to_string(), orbit), Slot::Reserved);
        Some(orbit)
    }

    /// The call in a reserved orbit now waits for `retrieve`.
    pub fn occupy(
        &self,
        domain: &str,
        orbit: u32,
        retrieve: oneshot::Sender<Joined>,
        dialog: Option<DialogId>,
        party: &str,
    ) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.insert(
                (domain.to_string(), orbit),
                Slot::Parked(retrieve, dialog, party.to_string()),
            );
        }
    }

    /// The calls parked in `domain` whose dialog is known, by orbit.
    pub fn parked(&self, domain: &str) -> Vec<ParkedCall> {
        let Ok(slots) = self.slots.lock() else {
            return Vec::new();
        };
        let mut v: Vec<ParkedCall> = slots
            .iter()
            .filter(|((d, _), _)| d == domain)
            .filter_map(|((_, orbit), slot)| match slot {
                Slot::Parked(_, Some(dialog), party) => Some(ParkedCall {
                    orbit: *orbit,
                    dialog: dialog.clone(),
                    party: party.clone(),
                }),
                _ => None,
            })
            .collect();
        v.sort_by_key(|p| p.orbit);
        v
    }

    /// The orbit of `domain` whose parked call has this dialog (RFC 3891 `Replaces`:
    /// `to_tag` is the host's tag, `from_tag` the parked party's).
    pub fn orbit_of_dialog(
        &self,
        domain: &str,
        call_id: &str,
        to_tag: &str,
        from_tag: &str,
    ) -> Option<u32> {
        self.parked(domain)
            .into_iter()
            .find(|p| {
                p.dialog.call_id == call_id
                    && p.dialog.local_tag == to_tag
                    && p.dialog.remote_tag == from_tag
            })
            .map(|p| p.orbit)
    }

    /// True when a call waits in the orbit.
    pub fn is_parked(&self, domain: &str, orbit: u32) -> bool {
        self.slots
            .lock()
            .is_ok_and(|s| matches!(s.get(&(domain.to_string(), orbit)), Some(Slot::Parked(..))))
    }

    /// Takes the parked call out of its orbit (the orbit is free again).
    pub fn take(&self, domain: &str, orbit: u32) -> Option<oneshot::Sender<Joined>> {
        let mut slots = self.slots.lock().ok()?;
        let key = (domain.to_string(), orbit);
        match slots.remove(&key) {
            Some(Slot::Parked(tx, ..)) => Some(tx),
            Some(Slot::Reserved) => {
                slots.insert(key, Slot::Reserved);
                None
            }
            None => None,
        }
    }

    /// Orbits in use (reserved or parked), all domains.
    pub fn in_use(&self) -> usize {
        self.slots.lock().map_or(0, |s| s.len())
    }

    /// Frees an orbit (the parked call hung up or timed out).
    pub fn release(&self, domain: &str, orbit: u32) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.remove(&(domain.to_string(), orbit));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orbits_are_taken_lowest_first_per_domain_and_bounded() {
        let lot = ParkLot::new(701, 702);
        assert_eq!(lot.reserve("a.example"), Some(701));
        assert_eq!(lot.reserve("a.example"), Some(702));
        assert_eq!(lot.reserve("a.example"), None);
        assert_eq!(lot.reserve("b.example"), Some(701));
        assert!(!lot.is_parked("a.example", 701));
        assert!(
            lot.take("a.example", 701).is_none(),
            "reserved, not parked yet"
        );
        let (tx, _rx) = oneshot::channel();
        let d = DialogId {
            call_id: "c1".into(),
            local_tag: "host".into(),
            remote_tag: "alice".into(),
        };
        lot.occupy("a.example", 701, tx, Some(d), "sip:alice@a.example");
        assert_eq!(lot.parked("a.example").len(), 1);
        assert_eq!(
            lot.orbit_of_dialog("a.example", "c1", "host", "alice"),
            Some(701)
        );
        assert_eq!(
            lot.orbit_of_dialog("a.example", "c1", "alice", "host"),
            None
        );
        assert_eq!(
            lot.orbit_of_dialog("b.example", "c1", "host", "alice"),
            None
        );
        assert!(lot.is_parked("a.example", 701));
        assert!(lot.take("a.example", 701).is_some());
        assert!(!lot.is_parked("a.example", 701));
        assert_eq!(lot.reserve("a.example"), Some(701));
        lot.release("a.example", 702);
        assert_eq!(lot.in_use(), 2);
        assert_eq!(lot.reserve("a.example"), Some(702));
    }
}
