//! The calls the proxy follows for their dialog state: each call attempt (keyed by its
//! [`crate::events::CallRef`] number) with a local user on either side, its Call-ID and
//! tags, who placed it and who is called, and where it is (trying, early, confirmed).
//! A call leaves the table when it ends (its `Failed` or `Ended` call event).
//!
//! Bounded by `[presence] max_calls`: when full, calls older than [`MAX_AGE`] are
//! forgotten first, and a call that still finds no room is not followed (counted).

use std::time::Duration;

use model::AddressOfRecord;

use super::dialog_info::{DialogState, DialogView, Direction, TerminatedBy};

/// A followed call older than this has ended unseen (as `dialogs.rs` assumes).
pub(crate) const MAX_AGE: Duration = crate::dialogs::MAX_AGE;

/// One followed call.
#[derive(Debug, Clone)]
pub(crate) struct FollowedCall {
    /// The Call-ID.
    pub call_id: Box<str>,
    /// The caller's (From) tag.
    pub caller_tag: Box<str>,
    /// The callee's (To) tag of the last provisional or final answer relayed.
    pub callee_tag: Option<Box<str>>,
    /// The caller, when a local user.
    pub caller: Option<AddressOfRecord>,
    /// The caller's From URI.
    pub caller_uri: Box<str>,
    /// The caller's Contact URI (where a pickup sends the replacing INVITE).
    pub caller_contact: Box<str>,
    /// Where the caller's INVITE came from.
    pub caller_source: crate::destination::Destination,
    /// Picked up by another phone (its end is `replaced`, not `cancelled`).
    pub replaced: bool,
    /// The local user called, when one is.
    pub callee: Option<AddressOfRecord>,
    /// The To URI as dialled.
    pub callee_uri: Box<str>,
    /// Where the call is; a terminated call's `local-bye` / `remote-bye` are the
    /// caller's (the callee's view swaps them).
    pub state: DialogState,
    /// When it started (proxy time).
    pub since: Duration,
}

impl FollowedCall {
    /// The local users of this call and their side.
    pub fn sides(&self) -> impl Iterator<Item = (&AddressOfRecord, Direction)> {
        let a = self.caller.as_ref().map(|u| (u, Direction::Initiator));
        let b = self.callee.as_ref().map(|u| (u, Direction::Recipient));
        a.into_iter().chain(b)
    }

    /// The call as the user on side `direction` sees it; `id` is the call attempt.
    pub fn view(&self, id: u64, direction: Direction) -> DialogView<'_> {
        let (local_tag, remote_tag, local_identity, remote_identity) = match direction {
            Direction::Initiator => (
                Some(&*self.caller_tag),
                self.callee_tag.as_deref(),
                &*self.caller_uri,
                &*self.callee_uri,
            ),
            Direction::Recipient => (
                self.callee_tag.as_deref(),
                Some(&*self.caller_tag),
                &*self.callee_uri,
                &*self.caller_uri,
            ),
        };
        let state = match (self.state, direction) {
            (DialogState::Terminated(TerminatedBy::LocalBye), Direction::Recipient) => {
                DialogState::Terminated(TerminatedBy::RemoteBye)
            }
            (DialogState::Terminated(TerminatedBy::RemoteBye), Direction::Recipient) => {
                DialogState::Terminated(TerminatedBy::LocalBye)
            }
            (s, _) => s,
        };
        DialogView {
            id,
            call_id: &self.call_id,
            local_tag,
            remote_tag,
            direction,
            state,
            local_identity,
            remote_identity,
        }
    }
}

/// The followed calls, bounded.
#[derive(Debug, Default)]
pub(crate) struct FollowedCalls {
    by_call: sip_transaction::IdMap<u64, FollowedCall>,
    /// Pickups under way: the picking call -> the call it picks up.
    picks: sip_transaction::IdMap<u64, u64>,
    max: usize,
    /// Calls not followed because the table was full.
    pub untracked: u64,
}

impl FollowedCalls {
    /// An empty table of at most `max` calls.
    pub fn new(max: usize) -> Self {
        FollowedCalls {
            max,
            ..FollowedCalls::default()
        }
    }

    /// Follows a new call (false: no room).
    pub fn insert(&mut self, now: Duration, call: u64, c: FollowedCall) -> bool {
        if self.by_call.len() >= self.max && !self.by_call.contains_key(&call) {
            self.by_call
                .retain(|_, c| now.saturating_sub(c.since) < MAX_AGE);
            if self.by_call.len() >= self.max {
                self.untracked += 1;
                return false;
            }
        }
        self.by_call.insert(call, c);
        true
    }

    /// A followed call.
    pub fn get(&self, call: u64) -> Option<&FollowedCall> {
        self.by_call.get(&call)
    }

    /// A followed call, to change.
    pub fn get_mut(&mut self, call: u64) -> Option<&mut FollowedCall> {
        self.by_call.get_mut(&call)
    }

    /// Stops following a call.
    pub fn remove(&mut self, call: u64) -> Option<FollowedCall> {
        self.by_call.remove(&call)
    }

    /// The calls `user` takes part in, with their side, oldest first.
    pub fn of<'a>(&'a self, user: &'a AddressOfRecord) -> Vec<(u64, Direction, &'a FollowedCall)> {
        let mut v: Vec<(u64, Direction, &FollowedCall)> = self
            .by_call
            .iter()
            .flat_map(|(id, c)| {
                c.sides()
                    .filter(move |(u, _)| *u == user)
                    .map(move |(_, d)| (*id, d, c))
            })
            .collect();
        v.sort_by_key(|(id, _, c)| (c.since, *id));
        v
    }

    /// The call with this Call-ID and caller's tag.
    pub fn find(&self, call_id: &str, caller_tag: &str) -> Option<(u64, &FollowedCall)> {
        self.by_call
            .iter()
            .find(|(_, c)| &*c.call_id == call_id && &*c.caller_tag == caller_tag)
            .map(|(id, c)| (*id, c))
    }

    /// The oldest call ringing one of `users` (trying or early).
    pub fn ringing_for(&self, users: &[AddressOfRecord]) -> Option<(u64, &FollowedCall)> {
        self.by_call
            .iter()
            .filter(|(_, c)| {
                matches!(c.state, DialogState::Trying | DialogState::Early)
                    && c.callee.as_ref().is_some_and(|u| users.contains(u))
            })
            .min_by_key(|(id, c)| (c.since, **id))
            .map(|(id, c)| (*id, c))
    }

    /// The call `picker` picks up `picked` once answered (false: no room).
    pub fn start_pickup(&mut self, picker: u64, picked: u64) -> bool {
        if self.picks.len() >= self.max {
            return false;
        }
        self.picks.insert(picker, picked);
        true
    }

    /// The call `picker` was picking up (and forgets the pickup).
    pub fn end_pickup(&mut self, picker: u64) -> Option<u64> {
        self.picks.remove(&picker)
    }

    /// Calls followed.
    pub fn len(&self) -> usize {
        self.by_call.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(caller: Option<&str>, callee: Option<&str>, since: u64) -> FollowedCall {
        let aor = |u: &str| AddressOfRecord::new(u, "example.com");
        FollowedCall {
            call_id: "c".into(),
            caller_tag: "ft".into(),
            callee_tag: None,
            caller: caller.map(aor),
            caller_uri: "sip:alice@example.com".into(),
            caller_contact: "sip:alice@192.0.2.1".into(),
            caller_source: crate::destination::Destination {
                transport: crate::destination::Transport::Udp,
                addr: "192.0.2.1:5060".parse().unwrap(),
                conn: None,
            },
            replaced: false,
            callee: callee.map(aor),
            callee_uri: "sip:bob@example.com".into(),
            state: DialogState::Trying,
            since: Duration::from_secs(since),
        }
    }

    #[test]
    fn both_sides_see_the_call_with_their_own_tags() {
        let mut t = FollowedCalls::new(4);
        assert!(t.insert(Duration::ZERO, 1, call(Some("alice"), Some("bob"), 0)));
        t.get_mut(1).unwrap().callee_tag = Some("tt".into());
        let alice = AddressOfRecord::new("alice", "example.com");
        let bob = AddressOfRecord::new("bob", "example.com");
        let a = t.of(&alice);
        assert_eq!(a.len(), 1);
        let v = a[0].2.view(a[0].0, a[0].1);
        assert_eq!((v.local_tag, v.remote_tag), (Some("ft"), Some("tt")));
        assert_eq!(v.direction, Direction::Initiator);
        let b = t.of(&bob);
        let v = b[0].2.view(b[0].0, b[0].1);
        assert_eq!((v.local_tag, v.remote_tag), (Some("tt"), Some("ft")));
        assert_eq!(v.remote_identity, "sip:alice@example.com");
        assert_eq!(t.ringing_for(&[bob]).map(|(id, _)| id), Some(1));
        assert_eq!(t.find("c", "ft").map(|(id, _)| id), Some(1));
        assert!(t.find("c", "other").is_none());
    }

    #[test]
    fn bounded_old_calls_go_first() {
        let mut t = FollowedCalls::new(1);
        assert!(t.insert(Duration::ZERO, 1, call(None, Some("bob"), 0)));
        assert!(!t.insert(Duration::from_secs(5), 2, call(None, Some("bob"), 5)));
        assert_eq!(t.untracked, 1);
        assert!(t.insert(MAX_AGE, 3, call(None, Some("bob"), MAX_AGE.as_secs())));
        assert_eq!(t.len(), 1);
        assert!(t.remove(3).is_some());
    }
}
