//! Jitter buffer ladders: packets in, one poll per 20 ms tick, frames out.

use super::*;
use crate::packet::RtpHeader;

const TICK: Duration = Duration::from_millis(20);

struct Peer {
    ssrc: u32,
    first_seq: u16,
    first_ts: u32,
}

impl Peer {
    /// The packet of frame `n` (sequence and timestamp advance together).
    fn frame(&self, n: u16) -> Vec<u8> {
        let h = RtpHeader {
            payload_type: 0,
            sequence_number: self.first_seq.wrapping_add(n),
            timestamp: self.first_ts.wrapping_add(160 * u32::from(n)),
            ssrc: self.ssrc,
            ..RtpHeader::default()
        };
        let mut out = Vec::new();
        h.write(&[n as u8; 4], 0, &mut out).unwrap();
        out
    }
}

const PEER: Peer = Peer {
    ssrc: 1,
    first_seq: 1000,
    first_ts: 50_000,
};

fn push(jb: &mut JitterBuffer, bytes: &[u8], now: Instant) -> PushOutcome {
    jb.push(&RtpPacket::parse(bytes).unwrap(), now)
}

/// Polls `n` ticks from `start`, one frame per tick, as `Some(frame index)` for audio
/// and `None` for a lost frame (relative to PEER's first timestamp).
fn play(jb: &mut JitterBuffer, start: Instant, n: u32) -> Vec<Option<u8>> {
    (0..n)
        .filter_map(|i| jb.poll(start + TICK * i))
        .map(|f| match f {
            Frame::Audio { payload, .. } => Some(payload[0]),
            Frame::Lost { .. } => None,
        })
        .collect()
}

#[test]
fn waits_for_the_playout_delay_then_plays_in_order() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(JitterBufferConfig::default());
    assert_eq!(jb.poll(t0), None, "idle");
    for n in 0..3 {
        assert_eq!(push(&mut jb, &PEER.frame(n), t0), PushOutcome::Queued);
    }
    assert_eq!(jb.poll(t0 + TICK), None, "still buffering");
    assert_eq!(
        play(&mut jb, t0 + TICK * 2, 4),
        [Some(0), Some(1), Some(2), None]
    );
    assert_eq!(jb.stats().played, 3);
    assert_eq!(jb.stats().lost, 1);
}

#[test]
fn reorders_by_sequence_and_reports_the_missing_frame() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(JitterBufferConfig::default());
    for n in [0, 2, 1, 4, 5] {
        push(&mut jb, &PEER.frame(n), t0);
    }
    let frames = play(&mut jb, t0 + TICK * 2, 6);
    assert_eq!(frames, [Some(0), Some(1), Some(2), None, Some(4), Some(5)]);
    match jb.poll(t0 + TICK * 8) {
        Some(Frame::Lost { timestamp }) => assert_eq!(timestamp, PEER.first_ts + 6 * 160),
        other => panic!("expected a lost frame, got {other:?}"),
    }
}

#[test]
fn late_and_duplicate_packets_are_dropped_and_counted() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(JitterBufferConfig::default());
    push(&mut jb, &PEER.frame(0), t0);
    assert_eq!(push(&mut jb, &PEER.frame(0), t0), PushOutcome::Duplicate);
    push(&mut jb, &PEER.frame(2), t0);
    assert_eq!(play(&mut jb, t0 + TICK * 2, 2), [Some(0), None]);
    // Frame 1 was already reported lost: too late.
    assert_eq!(push(&mut jb, &PEER.frame(1), t0), PushOutcome::Late);
    assert_eq!(play(&mut jb, t0 + TICK * 4, 1), [Some(2)]);
    let s = jb.stats();
    assert_eq!((s.late, s.duplicate, s.queued), (1, 1, 2));
}

#[test]
fn depth_is_bounded_by_dropping_the_oldest() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(JitterBufferConfig {
        capacity: 3,
        ..Default::default()
    });
    let outcomes: Vec<_> = (0..5).map(|n| push(&mut jb, &PEER.frame(n), t0)).collect();
    assert_eq!(outcomes[2], PushOutcome::Queued);
    assert_eq!(outcomes[4], PushOutcome::QueuedDroppingOldest);
    assert_eq!((jb.len(), jb.stats().overflow), (3, 2));
    assert_eq!(play(&mut jb, t0 + TICK * 2, 3), [Some(2), Some(3), Some(4)]);
}

#[test]
fn sequence_and_timestamp_wrap() {
    let t0 = Instant::now();
    let peer = Peer {
        ssrc: 9,
        first_seq: 65534,
        first_ts: u32::MAX - 200,
    };
    let mut jb = JitterBuffer::new(JitterBufferConfig::default());
    for n in [1, 0, 3, 2] {
        push(&mut jb, &peer.frame(n), t0);
    }
    assert_eq!(
        play(&mut jb, t0 + TICK * 2, 4),
        [Some(0), Some(1), Some(2), Some(3)]
    );
}

#[test]
fn a_silent_sender_makes_it_idle_and_a_new_source_restarts_it() {
    let t0 = Instant::now();
    let config = JitterBufferConfig {
        max_lost_run: 3,
        ..Default::default()
    };
    let mut jb = JitterBuffer::new(config);
    push(&mut jb, &PEER.frame(0), t0);
    assert_eq!(
        play(&mut jb, t0 + TICK * 2, 10),
        [Some(0), None, None, None]
    );
    assert_eq!(jb.stats().restarts, 1);
    // Another source (a transfer, a re-INVITE to a new media server).
    let other = Peer {
        ssrc: 2,
        first_seq: 7,
        first_ts: 3,
    };
    push(&mut jb, &other.frame(0), t0 + TICK * 12);
    push(&mut jb, &PEER.frame(1), t0 + TICK * 12);
    let s = jb.stats().restarts;
    assert_eq!(s, 3, "each source change restarts");
    assert_eq!(play(&mut jb, t0 + TICK * 14, 1), [Some(1)]);
}

#[test]
fn a_timestamp_jump_beyond_the_depth_resynchronises_instead_of_losing_frames() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(JitterBufferConfig::default());
    push(&mut jb, &PEER.frame(0), t0);
    assert_eq!(play(&mut jb, t0 + TICK * 2, 1), [Some(0)]);
    let far = Peer {
        first_ts: PEER.first_ts + 160 * 1000,
        first_seq: PEER.first_seq + 1,
        ..PEER
    };
    push(&mut jb, &far.frame(0), t0 + TICK * 3);
    assert_eq!(play(&mut jb, t0 + TICK * 4, 1), [Some(0)]);
    assert_eq!(jb.stats().lost, 0);
}
