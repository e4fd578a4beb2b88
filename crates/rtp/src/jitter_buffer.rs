//! A jitter buffer for one audio stream: holds at most `capacity` packets, orders them by
//! extended sequence number, and hands out one frame per `poll(now)` in timestamp order,
//! a [`Frame::Lost`] where a packet is missing so the caller can conceal it.
//!
//! The caller polls once per frame (every 20 ms) from its own clock; `now` only decides
//! when playout starts (`playout_delay` after the first packet). Late packets (behind the
//! playout point), duplicates and overflow are dropped and counted. A new SSRC, a
//! timestamp jump of more than the buffer's depth, or `max_lost_run` frames without a
//! packet start the stream afresh.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::packet::RtpPacket;
use crate::reception_statistics::extend_sequence;

/// Bounds and timing of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterBufferConfig {
    /// Most packets held; on overflow the oldest is dropped. Default 50 (1 s of 20 ms).
    pub capacity: usize,
    /// Timestamp units per frame: 160 for 20 ms at 8 kHz.
    pub frame_samples: u32,
    /// Delay from the first packet to the first frame played. Default 40 ms.
    pub playout_delay: Duration,
    /// Frames in a row with no packet before the buffer goes idle. Default 25 (0.5 s).
    pub max_lost_run: u32,
}

impl Default for JitterBufferConfig {
    fn default() -> Self {
        JitterBufferConfig {
            capacity: 50,
            frame_samples: 160,
            playout_delay: Duration::from_millis(40),
            max_lost_run: 25,
        }
    }
}

/// What became of a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Held for playout.
    Queued,
    /// Held, and the oldest packet was dropped to make room.
    QueuedDroppingOldest,
    /// Dropped: its frame has already been played (or reported lost).
    Late,
    /// Dropped: the same sequence number is already held.
    Duplicate,
}

/// One frame's worth of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A received packet's payload.
    Audio {
        /// Its RTP timestamp.
        timestamp: u32,
        /// Its payload type.
        payload_type: u8,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// No packet for this frame: conceal it.
    Lost {
        /// The timestamp the frame would have had.
        timestamp: u32,
    },
}

/// Counters since creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JitterBufferStats {
    /// Packets held for playout.
    pub queued: u64,
    /// Frames played from a packet.
    pub played: u64,
    /// Frames reported lost.
    pub lost: u64,
    /// Packets dropped as late.
    pub late: u64,
    /// Packets dropped as duplicates.
    pub duplicate: u64,
    /// Packets dropped because the buffer was full.
    pub overflow: u64,
    /// Times playout restarted (new SSRC, timestamp jump, long silence).
    pub restarts: u64,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Idle,
    Buffering { since: Instant },
    Playing { next_timestamp: u32, lost_run: u32 },
}

#[derive(Debug, Clone)]
struct Held {
    timestamp: u32,
    payload_type: u8,
    payload: Vec<u8>,
}

/// The buffer. See the module documentation.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    config: JitterBufferConfig,
    packets: BTreeMap<u64, Held>,
    highest: Option<u64>,
    ssrc: Option<u32>,
    state: State,
    stats: JitterBufferStats,
}

/// Extended sequence numbers start here so early reordering never goes below zero.
const SEQUENCE_BASE: u64 = 1 << 32;

impl JitterBuffer {
    /// An empty, idle buffer.
    pub fn new(config: JitterBufferConfig) -> JitterBuffer {
        JitterBuffer {
            config: JitterBufferConfig {
                capacity: config.capacity.max(1),
                frame_samples: config.frame_samples.max(1),
                ..config
            },
            packets: BTreeMap::new(),
            highest: None,
            ssrc: None,
            state: State::Idle,
            stats: JitterBufferStats::default(),
        }
    }

    fn restart(&mut self) {
        self.packets.clear();
        self.highest = None;
        self.state = State::Idle;
        self.stats.restarts += 1;
    }

    /// Takes a received packet.
    pub fn push(&mut self, packet: &RtpPacket<'_>, now: Instant) -> PushOutcome {
        if self.ssrc.is_some_and(|s| s != packet.ssrc()) {
            self.restart();
        }
        self.ssrc = Some(packet.ssrc());
        let seq = packet.sequence_number();
        let ext = match self.highest {
            Some(h) => extend_sequence(h, seq),
            None => SEQUENCE_BASE + u64::from(seq),
        };
        if let State::Playing { next_timestamp, .. } = self.state {
            if (packet.timestamp().wrapping_sub(next_timestamp) as i32) < 0 {
                self.stats.late += 1;
                return PushOutcome::Late;
            }
        }
        if self.packets.contains_key(&ext) {
            self.stats.duplicate += 1;
            return PushOutcome::Duplicate;
        }
        let mut outcome = PushOutcome::Queued;
        if self.packets.len() >= self.config.capacity {
            self.packets.pop_first();
            self.stats.overflow += 1;
            outcome = PushOutcome::QueuedDroppingOldest;
        }
        self.packets.insert(
            ext,
            Held {
                timestamp: packet.timestamp(),
                payload_type: packet.payload_type(),
                payload: packet.payload().to_vec(),
            },
        );
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        self.stats.queued += 1;
        if let State::Idle = self.state {
            self.state = State::Buffering { since: now };
        }
        outcome
    }

    /// The next frame, once playout has started; `None` while idle or buffering.
    pub fn poll(&mut self, now: Instant) -> Option<Frame> {
        let (next, lost_run) = match self.state {
            State::Idle => return None,
            State::Buffering { since } => {
                if now.saturating_duration_since(since) < self.config.playout_delay {
                    return None;
                }
                let first = self.packets.first_key_value()?.1.timestamp;
                (first, 0)
            }
            State::Playing {
                next_timestamp,
                lost_run,
            } => (next_timestamp, lost_run),
        };
        let frame = self.config.frame_samples;
        let jump = frame.saturating_mul(self.config.capacity as u32);
        while let Some(entry) = self.packets.first_entry() {
            let diff = entry.get().timestamp.wrapping_sub(next) as i32;
            if diff < 0 {
                entry.remove();
                self.stats.late += 1;
                continue;
            }
            if diff as u32 > jump {
                // A new talkspurt far ahead, or the sender's clock jumped: start there.
                self.stats.restarts += 1;
            } else if diff as u32 >= frame {
                break;
            }
            let held = entry.remove();
            self.stats.played += 1;
            self.state = State::Playing {
                next_timestamp: held.timestamp.wrapping_add(frame),
                lost_run: 0,
            };
            return Some(Frame::Audio {
                timestamp: held.timestamp,
                payload_type: held.payload_type,
                payload: held.payload,
            });
        }
        if self.packets.is_empty() && lost_run >= self.config.max_lost_run {
            // The sender stopped: wait for it to start again.
            self.restart();
            return None;
        }
        self.stats.lost += 1;
        self.state = State::Playing {
            next_timestamp: next.wrapping_add(frame),
            lost_run: lost_run + 1,
        };
        Some(Frame::Lost { timestamp: next })
    }

    /// Packets held.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Whether no packet is held.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Counters since creation.
    pub fn stats(&self) -> JitterBufferStats {
        self.stats
    }
}

#[cfg(test)]
mod tests;
