//! The conference mixer: a [`Mixer`] is one room's sum of audio, run by the engine's clock
//! thread once per 20 ms tick after every session has read what arrived.
//!
//! Each member's received audio is decoded once (in the session's receive step, into a
//! small FIFO that absorbs arrival jitter); the mixer takes one frame from every member,
//! adds them up in 32 bits, and gives each member the sum minus its own frame, saturated
//! to 16 bits (a loud room clips instead of wrapping around into noise). What a member
//! hears is sent on the next tick, added to whatever its play queue holds (join and
//! leave tones, prompts).
//!
//! It owns the room's member list and the per-tick scratch. It does not decide who may
//! join (the conference service does), nor does any SIP.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::clip::Clip;
use crate::engine::EngineInner;
use crate::session::{MediaSession, SessionShared, FRAME};

/// Frames a member's FIFO holds before the oldest are dropped (bounds the delay a bursty
/// sender can build up).
const FIFO_FRAMES: usize = 6;
/// Frames buffered before a member is mixed in (and again after it ran dry): one frame of
/// slack against arrival jitter.
const PRIME_FRAMES: usize = 2;

/// A member's received audio waiting to be mixed (kept in the session's state).
#[derive(Debug, Default)]
pub(crate) struct MixInput {
    fifo: VecDeque<i16>,
    primed: bool,
}

impl MixInput {
    /// Decoded samples received from the member.
    pub(crate) fn push(&mut self, samples: &[i16]) {
        self.fifo.extend(samples.iter().copied());
        if self.fifo.len() > FIFO_FRAMES * FRAME {
            let drop = self.fifo.len() - PRIME_FRAMES * FRAME;
            self.fifo.drain(..drop);
        }
    }

    /// This tick's frame of the member's voice into `out` (silence while priming); false
    /// when it is silence.
    fn take(&mut self, out: &mut [i16; FRAME]) -> bool {
        if !self.primed {
            if self.fifo.len() < PRIME_FRAMES * FRAME {
                *out = [0; FRAME];
                return false;
            }
            self.primed = true;
        }
        let n = self.fifo.len().min(FRAME);
        for (o, s) in out.iter_mut().zip(self.fifo.drain(..n)) {
            *o = s;
        }
        out[n..].fill(0);
        if n < FRAME {
            self.primed = false;
        }
        n > 0
    }
}

/// One room, as the clock thread sees it.
pub(crate) struct RoomShared {
    members: Mutex<Vec<Arc<SessionShared>>>,
    scratch: Mutex<Scratch>,
}

#[derive(Default)]
struct Scratch {
    frames: Vec<[i16; FRAME]>,
}

impl RoomShared {
    /// One tick of the room: every member gets the sum of the others' frames.
    pub(crate) fn mix(&self) {
        let Ok(members) = self.members.lock() else {
            return;
        };
        if members.is_empty() {
            return;
        }
        let Ok(mut scratch) = self.scratch.lock() else {
            return;
        };
        let frames = &mut scratch.frames;
        frames.resize(members.len(), [0; FRAME]);
        let mut sum = [0i32; FRAME];
        for (m, frame) in members.iter().zip(frames.iter_mut()) {
            let Some(mut st) = m.lock() else {
                *frame = [0; FRAME];
                continue;
            };
            let voiced = st.mix_input.as_mut().is_some_and(|i| i.take(frame));
            if !voiced {
                continue;
            }
            for (s, &x) in sum.iter_mut().zip(frame.iter()) {
                *s += i32::from(x);
            }
        }
        for (m, frame) in members.iter().zip(frames.iter()) {
            let Some(mut st) = m.lock() else {
                continue;
            };
            let mut out = [0i16; FRAME];
            for ((o, &s), &own) in out.iter_mut().zip(sum.iter()).zip(frame.iter()) {
                *o = saturate(s - i32::from(own));
            }
            st.mix_output = Some(out);
        }
    }

    fn remove(&self, session: &Arc<SessionShared>) -> bool {
        let Ok(mut members) = self.members.lock() else {
            return false;
        };
        let before = members.len();
        members.retain(|m| !Arc::ptr_eq(m, session));
        let removed = members.len() != before;
        drop(members);
        if removed {
            if let Some(mut st) = session.lock() {
                st.mix_input = None;
                st.mix_output = None;
            }
        }
        removed
    }

    /// Drops a closed session (the engine's `close`).
    pub(crate) fn forget(&self, session: &Arc<SessionShared>) {
        if let Ok(mut members) = self.members.lock() {
            members.retain(|m| !Arc::ptr_eq(m, session));
        }
    }
}

/// A 32-bit sample clamped to 16 bits.
pub(crate) fn saturate(x: i32) -> i16 {
    x.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// A conference room's mixer. Sessions added hear the sum of the other members; dropping
/// the mixer takes the room off the clock.
pub struct Mixer {
    room: Arc<RoomShared>,
    engine: Arc<EngineInner>,
}

impl Mixer {
    pub(crate) fn new(engine: Arc<EngineInner>) -> Mixer {
        let room = Arc::new(RoomShared {
            members: Mutex::new(Vec::new()),
            scratch: Mutex::new(Scratch::default()),
        });
        if let Ok(mut rooms) = engine.rooms.lock() {
            rooms.push(room.clone());
        }
        engine.wake_clock();
        Mixer { room, engine }
    }

    /// Adds a session to the room (its audio is mixed from the next tick on); false when
    /// it is already a member.
    pub fn add(&self, session: &MediaSession) -> bool {
        let Ok(mut members) = self.room.members.lock() else {
            return false;
        };
        if members.iter().any(|m| Arc::ptr_eq(m, &session.shared)) {
            return false;
        }
        if let Some(mut st) = session.shared.lock() {
            st.mix_input = Some(MixInput::default());
            st.mix_output = None;
        }
        members.push(session.shared.clone());
        true
    }

    /// Takes a session out of the room; false when it was not a member.
    pub fn remove(&self, session: &MediaSession) -> bool {
        self.room.remove(&session.shared)
    }

    /// Members now.
    pub fn len(&self) -> usize {
        self.room.members.lock().map_or(0, |m| m.len())
    }

    /// True when nobody is in the room.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues a clip on every member's session (the join and leave tones): each hears it
    /// over the room's audio.
    pub fn play_to_all(&self, clip: &Clip) {
        let Ok(members) = self.room.members.lock() else {
            return;
        };
        for m in members.iter() {
            if let Some(mut st) = m.lock() {
                st.enqueue(clip.clone());
            }
        }
    }
}

impl Drop for Mixer {
    fn drop(&mut self) {
        if let Ok(mut rooms) = self.engine.rooms.lock() {
            rooms.retain(|r| !Arc::ptr_eq(r, &self.room));
        }
        let members = self
            .room
            .members
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default();
        for m in members {
            if let Some(mut st) = m.lock() {
                st.mix_input = None;
                st.mix_output = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturates_instead_of_wrapping() {
        assert_eq!(saturate(40_000), i16::MAX);
        assert_eq!(saturate(-40_000), i16::MIN);
        assert_eq!(saturate(1234), 1234);
    }

    #[test]
    fn fifo_primes_then_takes_one_frame_a_tick() {
        let mut input = MixInput::default();
        let mut out = [0i16; FRAME];
        input.push(&[7; FRAME]);
        assert!(!input.take(&mut out), "one frame is not enough to start");
        input.push(&[9; FRAME]);
        assert!(input.take(&mut out));
        assert_eq!(out[0], 7);
        assert!(input.take(&mut out));
        assert_eq!(out[FRAME - 1], 9);
        assert!(!input.take(&mut out), "dry: silence, primes again");
    }

    #[test]
    fn a_burst_is_cut_back_to_the_priming_depth() {
        let mut input = MixInput::default();
        for i in 0..(FIFO_FRAMES as i16 + 1) {
            input.push(&[i; FRAME]);
        }
        assert_eq!(input.fifo.len(), PRIME_FRAMES * FRAME);
        let mut out = [0i16; FRAME];
        assert!(input.take(&mut out));
        assert_eq!(out[0], FIFO_FRAMES as i16 - 1, "the newest frames are kept");
    }
}
