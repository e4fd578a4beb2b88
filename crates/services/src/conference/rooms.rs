//! [`ConferenceRooms`]: the rooms open now, each with its [`Mixer`] and participants,
//! bounded by `max_rooms` and `max_participants`. A seat is reserved when the INVITE is
//! accepted (so a PIN prompt cannot let an eleventh caller in) and the room closes when
//! its last seat is given back. A participant is also found by its dialog with the
//! bridge, for RFC 3911 `Join`.
//!
//! It does not talk SIP or play prompts (the host and `conference/mod.rs` do).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use media::{MediaEngine, MediaSession, Mixer};
use thiserror::Error;

/// Why a caller cannot have a seat; each knows its SIP answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SeatError {
    /// The room has `max_participants` already.
    #[error("room {room} is full ({max} participants)")]
    RoomFull {
        /// The room.
        room: String,
        /// Its bound.
        max: usize,
    },
    /// `max_rooms` rooms are open.
    #[error("too many conference rooms open ({0})")]
    TooManyRooms(usize),
}

impl SeatError {
    /// The status to answer the INVITE with.
    pub fn status(&self) -> u16 {
        match self {
            SeatError::RoomFull { .. } => 486,
            SeatError::TooManyRooms(_) => 503,
        }
    }
}

/// The dialog a participant has with the bridge, as the bridge sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogId {
    /// Call-ID.
    pub call_id: String,
    /// The bridge's tag.
    pub local_tag: String,
    /// The participant's tag.
    pub remote_tag: String,
}

/// One participant, as `switchboard conference list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantInfo {
    /// The call's id in logs.
    pub call: u64,
    /// The caller's URI.
    pub caller: String,
    /// When the call was accepted.
    pub joined: SystemTime,
    /// False while the PIN is being asked (a seat is held, the audio is not mixed yet).
    pub in_room: bool,
}

/// One room, as `switchboard conference list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomInfo {
    /// `ROOM@DOMAIN`.
    pub name: String,
    /// Its participants, in the order they came.
    pub participants: Vec<ParticipantInfo>,
}

struct Seat {
    info: ParticipantInfo,
    dialog: DialogId,
}

struct Room {
    mixer: Mixer,
    seats: Vec<Seat>,
}

/// The open rooms. Cheap to clone.
#[derive(Clone)]
pub struct ConferenceRooms {
    inner: Arc<Inner>,
}

struct Inner {
    engine: MediaEngine,
    max_participants: usize,
    max_rooms: usize,
    rooms: Mutex<HashMap<String, Room>>,
}

impl ConferenceRooms {
    /// No room open yet; rooms get their mixers from `engine`.
    pub fn new(engine: MediaEngine, max_participants: usize, max_rooms: usize) -> Self {
        ConferenceRooms {
            inner: Arc::new(Inner {
                engine,
                max_participants,
                max_rooms,
                rooms: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Holds a seat in `room` (opening it) for a call being accepted.
    pub(crate) fn reserve(
        &self,
        room: &str,
        call: u64,
        caller: &str,
        dialog: DialogId,
    ) -> Result<(), SeatError> {
        let mut rooms = self
            .inner
            .rooms
            .lock()
            .map_err(|_| SeatError::TooManyRooms(0))?;
        if !rooms.contains_key(room) {
            if rooms.len() >= self.inner.max_rooms {
                return Err(SeatError::TooManyRooms(self.inner.max_rooms));
            }
            rooms.insert(
                room.to_string(),
                Room {
                    mixer: self.inner.engine.mixer(),
                    seats: Vec::new(),
                },
            );
        }
        let Some(r) = rooms.get_mut(room) else {
            return Err(SeatError::TooManyRooms(self.inner.max_rooms));
        };
        if r.seats.len() >= self.inner.max_participants {
            return Err(SeatError::RoomFull {
                room: room.to_string(),
                max: self.inner.max_participants,
            });
        }
        r.seats.push(Seat {
            info: ParticipantInfo {
                call,
                caller: caller.to_string(),
                joined: SystemTime::now(),
                in_room: false,
            },
            dialog,
        });
        Ok(())
    }

    /// The held seat's audio goes into the mix; returns how many are in the room now.
    pub(crate) fn enter(&self, room: &str, call: u64, media: &MediaSession) -> usize {
        let Ok(mut rooms) = self.inner.rooms.lock() else {
            return 0;
        };
        let Some(r) = rooms.get_mut(room) else {
            return 0;
        };
        if let Some(s) = r.seats.iter_mut().find(|s| s.info.call == call) {
            s.info.in_room = true;
            r.mixer.add(media);
        }
        r.seats.iter().filter(|s| s.info.in_room).count()
    }

    /// Plays a clip to everyone in `room` (join and leave tones).
    pub(crate) fn play_to_all(&self, room: &str, clip: &media::Clip) {
        if let Ok(rooms) = self.inner.rooms.lock() {
            if let Some(r) = rooms.get(room) {
                r.mixer.play_to_all(clip);
            }
        }
    }

    /// Gives a seat back (out of the mix); the room closes when it was the last.
    pub(crate) fn leave(&self, room: &str, call: u64, media: &MediaSession) -> usize {
        let Ok(mut rooms) = self.inner.rooms.lock() else {
            return 0;
        };
        let Some(r) = rooms.get_mut(room) else {
            return 0;
        };
        r.mixer.remove(media);
        r.seats.retain(|s| s.info.call != call);
        let left = r.seats.iter().filter(|s| s.info.in_room).count();
        if r.seats.is_empty() {
            rooms.remove(room);
        }
        left
    }

    /// The room whose participant has this dialog with the bridge (RFC 3911 `Join`).
    pub(crate) fn room_of_dialog(
        &self,
        call_id: &str,
        local_tag: &str,
        remote_tag: &str,
    ) -> Option<String> {
        let rooms = self.inner.rooms.lock().ok()?;
        rooms.iter().find_map(|(name, r)| {
            r.seats
                .iter()
                .any(|s| {
                    s.dialog.call_id == call_id
                        && s.dialog.local_tag == local_tag
                        && s.dialog.remote_tag == remote_tag
                })
                .then(|| name.clone())
        })
    }

    /// The rooms and their participants, by name.
    pub fn list(&self) -> Vec<RoomInfo> {
        let Ok(rooms) = self.inner.rooms.lock() else {
            return Vec::new();
        };
        let mut out: Vec<RoomInfo> = rooms
            .iter()
            .map(|(name, r)| RoomInfo {
                name: name.clone(),
                participants: r.seats.iter().map(|s| s.info.clone()).collect(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Rooms open now.
    pub fn len(&self) -> usize {
        self.inner.rooms.lock().map_or(0, |r| r.len())
    }

    /// True when no room is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use media::MediaConfig;
    use std::net::IpAddr;

    fn dialog(n: u64) -> DialogId {
        DialogId {
            call_id: format!("call-{n}"),
            local_tag: format!("bridge-{n}"),
            remote_tag: format!("phone-{n}"),
        }
    }

    #[test]
    fn seats_are_bounded_found_by_dialog_and_given_back() {
        let base = 46000 + (std::process::id() % 400) as u16 * 10;
        let engine = MediaEngine::start(MediaConfig {
            bind_address: IpAddr::from([127, 0, 0, 1]),
            first_port: base,
            last_port: base + 9,
            ..MediaConfig::default()
        })
        .unwrap();
        let rooms = ConferenceRooms::new(engine.clone(), 2, 1);
        rooms.reserve("a@x", 1, "sip:1@x", dialog(1)).unwrap();
        rooms.reserve("a@x", 2, "sip:2@x", dialog(2)).unwrap();
        let full = rooms.reserve("a@x", 3, "sip:3@x", dialog(3)).unwrap_err();
        assert_eq!(full.status(), 486);
        let too_many = rooms.reserve("b@x", 4, "sip:4@x", dialog(4)).unwrap_err();
        assert_eq!(too_many.status(), 503);
        assert_eq!(
            rooms.room_of_dialog("call-2", "bridge-2", "phone-2"),
            Some("a@x".into())
        );
        assert_eq!(rooms.room_of_dialog("call-2", "phone-2", "bridge-2"), None);

        let (tx, _rx) = tokio::sync::mpsc::channel(4);
        let media = engine.open(tx).unwrap();
        assert_eq!(rooms.enter("a@x", 1, &media), 1);
        let list = rooms.list();
        assert_eq!(list.len(), 1);
        assert!(list[0].participants[0].in_room);
        assert!(
            !list[0].participants[1].in_room,
            "seat 2 is at the PIN prompt"
        );
        assert_eq!(rooms.leave("a@x", 1, &media), 0);
        assert_eq!(rooms.len(), 1, "seat 2 still holds the room");
        rooms.leave("a@x", 2, &media);
        assert!(rooms.is_empty(), "the last seat closes the room");
        engine.shutdown();
    }
}
