//! A call's audio end to end through the crate, as the media engine will use it: a 1 kHz
//! tone is encoded to PCMU, packetised, shuffled, duplicated and thinned by a "network",
//! then reordered by the jitter buffer, decoded, and checked by a Goertzel filter; the
//! receiver's statistics and its RTCP report count what the network did.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use rtp::rtcp::{parse_compound, write_compound, ReceiverReport, RtcpPacket};
use rtp::{
    g711, Frame, JitterBuffer, JitterBufferConfig, ReceptionStatistics, RtpHeader, RtpPacket,
};

const RATE: f64 = 8000.0;
const TICK: Duration = Duration::from_millis(20);

/// Relative power of `freq` in `samples` (Goertzel), normalised by the signal's energy.
fn goertzel(samples: &[f64], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / RATE;
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s = x + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    let energy: f64 = samples.iter().map(|x| x * x).sum();
    power / (energy * samples.len() as f64 / 2.0)
}

#[test]
fn a_one_khz_tone_survives_reordering_duplicates_and_loss() {
    // 2 s of tone, 100 frames of 160 samples.
    let tone: Vec<i16> = (0..16000)
        .map(|n| ((2.0 * std::f64::consts::PI * 1000.0 * n as f64 / RATE).sin() * 12000.0) as i16)
        .collect();
    let mut packets = Vec::new();
    for (i, frame) in tone.chunks(160).enumerate() {
        let mut payload = Vec::new();
        g711::ulaw_encode_frame(frame, &mut payload);
        let header = RtpHeader {
            marker: i == 0,
            payload_type: 0,
            sequence_number: 65500u16.wrapping_add(i as u16),
            timestamp: 1_000_000 + 160 * i as u32,
            ssrc: 0x5157_4954,
            ..RtpHeader::default()
        };
        let mut bytes = Vec::new();
        header.write(&payload, 0, &mut bytes).unwrap();
        packets.push(bytes);
    }
    // The network: frame 10 lost, 20 and 21 swapped, 30 sent twice.
    let mut wire: Vec<Vec<u8>> = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        match i {
            10 => {}
            20 => wire.push(packets[21].clone()),
            21 => wire.push(packets[20].clone()),
            30 => {
                wire.push(p.clone());
                wire.push(p.clone());
            }
            _ => wire.push(p.clone()),
        }
    }

    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(JitterBufferConfig::default());
    let mut stats: Option<ReceptionStatistics> = None;
    let mut heard: Vec<f64> = Vec::new();
    let mut lost_frames = 0;
    // One packet arrives per tick; playout polls once per tick.
    for tick in 0..(wire.len() as u32 + 10) {
        let now = t0 + TICK * tick;
        if let Some(bytes) = wire.get(tick as usize) {
            let p = RtpPacket::parse(bytes).unwrap();
            let s =
                stats.get_or_insert_with(|| ReceptionStatistics::new(p.sequence_number(), 8000));
            s.received(p.sequence_number(), p.timestamp(), now);
            jb.push(&p, now);
        }
        match jb.poll(now) {
            Some(Frame::Audio { payload, .. }) => {
                let mut pcm = Vec::new();
                g711::ulaw_decode_frame(&payload, &mut pcm);
                heard.extend(pcm.iter().map(|&s| f64::from(s)));
            }
            Some(Frame::Lost { .. }) => {
                lost_frames += 1;
                // Conceal with silence.
                heard.extend(std::iter::repeat_n(0.0, 160));
            }
            None => {}
        }
    }

    let s = jb.stats();
    assert_eq!(s.played, 99);
    assert_eq!(s.duplicate, 1);
    assert!(lost_frames >= 1, "frame 10 was reported lost");
    let one_khz = goertzel(&heard, 1000.0);
    let off_tone = goertzel(&heard, 1500.0);
    assert!(one_khz > 0.9, "1 kHz holds {one_khz} of the energy");
    assert!(off_tone < 0.01, "1.5 kHz holds {off_tone}");

    // The receiver's report: RFC 3550 counts the duplicate as received, so one lost and
    // one duplicated packet net to zero cumulative loss (A.3).
    let mut s = stats.unwrap();
    let block = s.report_block(0x5157_4954, t0 + TICK * 120);
    assert_eq!(
        block.extended_highest_sequence,
        65536 + (65500u32 + 99 - 65536)
    );
    assert_eq!(block.cumulative_lost, 0, "1 lost, 1 duplicated");
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 1,
        reports: vec![block],
        extension: Vec::new(),
    });
    let mut bytes = Vec::new();
    write_compound(std::slice::from_ref(&rr), &mut bytes).unwrap();
    assert_eq!(parse_compound(&bytes).unwrap(), [rr]);
}
