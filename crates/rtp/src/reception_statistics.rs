//! What a receiver knows about one source (RFC 3550 Appendix A.1, A.3, A.8): sequence
//! number validation and extension to 32 bits, packets expected and lost (cumulative and
//! since the last report), interarrival jitter, and the report block that carries them.
//!
//! Time is a parameter: arrivals are given as [`Instant`]s and converted to RTP timestamp
//! units with the stream's clock rate.

use std::time::{Duration, Instant};

use crate::rtcp::ReportBlock;

const SEQ_MOD: u32 = 1 << 16;
const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;
const MIN_SEQUENTIAL: u32 = 2;

/// Extends a 16-bit sequence number to the 64-bit value nearest `reference` (a previously
/// extended number), so that numbers keep increasing across wraps.
pub fn extend_sequence(reference: u64, seq: u16) -> u64 {
    let delta = seq.wrapping_sub(reference as u16) as i16;
    reference.saturating_add_signed(i64::from(delta))
}

/// Reception statistics of one synchronization source.
#[derive(Debug, Clone)]
pub struct ReceptionStatistics {
    clock_rate: u32,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    epoch: Option<Instant>,
    transit: Option<u32>,
    /// Jitter in timestamp units, scaled by 16 (A.8's integer form).
    jitter_scaled: u32,
    last_sender_report: Option<(u32, Instant)>,
}

impl ReceptionStatistics {
    /// Statistics for a source whose first packet has this sequence number. The source is
    /// on probation until two packets in sequence arrive (A.1).
    pub fn new(first_seq: u16, clock_rate: u32) -> ReceptionStatistics {
        let mut s = ReceptionStatistics {
            clock_rate,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: 0,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            epoch: None,
            transit: None,
            jitter_scaled: 0,
            last_sender_report: None,
        };
        s.init_seq(first_seq);
        s.max_seq = first_seq.wrapping_sub(1);
        s
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// Records a packet's arrival. Returns whether the packet is valid for the source:
    /// `false` while on probation, and for a large jump until it is confirmed by the
    /// next packet in sequence (the sender restarted).
    pub fn received(&mut self, seq: u16, rtp_timestamp: u32, now: Instant) -> bool {
        if !self.update_seq(seq) {
            return false;
        }
        self.update_jitter(rtp_timestamp, now);
        true
    }

    /// A.1's `update_seq`.
    fn update_seq(&mut self, seq: u16) -> bool {
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return true;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return false;
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(SEQ_MOD);
            }
            self.max_seq = seq;
        } else if u32::from(udelta) <= SEQ_MOD - u32::from(MAX_MISORDER) {
            if u32::from(seq) == self.bad_seq {
                // Two packets in sequence after a jump: the sender restarted.
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (SEQ_MOD - 1);
                return false;
            }
        }
        // else: a duplicate or a reordered packet, counted as received.
        self.received = self.received.wrapping_add(1);
        true
    }

    /// A.8: `J += (|D| - J) / 16`, in integer form scaled by 16.
    fn update_jitter(&mut self, rtp_timestamp: u32, now: Instant) {
        let epoch = *self.epoch.get_or_insert(now);
        let arrival = to_units(now.saturating_duration_since(epoch), self.clock_rate);
        let transit = arrival.wrapping_sub(rtp_timestamp);
        if let Some(last) = self.transit {
            let d = (transit.wrapping_sub(last) as i32).unsigned_abs();
            let j = i64::from(self.jitter_scaled) + i64::from(d)
                - ((i64::from(self.jitter_scaled) + 8) >> 4);
            self.jitter_scaled = j.clamp(0, i64::from(u32::MAX)) as u32;
        }
        self.transit = Some(transit);
    }

    /// The extended highest sequence number received (cycles in the high 16 bits).
    pub fn extended_highest_sequence(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected since the base sequence number (A.3).
    pub fn expected(&self) -> u32 {
        self.extended_highest_sequence()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    /// Valid packets received (duplicates count, A.3).
    pub fn packets_received(&self) -> u32 {
        self.received
    }

    /// Cumulative packets lost, clamped to RTCP's signed 24 bits (duplicates can make it
    /// negative).
    pub fn cumulative_lost(&self) -> i32 {
        let lost = i64::from(self.expected()) - i64::from(self.received);
        lost.clamp(-0x80_0000, 0x7f_ffff) as i32
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        self.jitter_scaled >> 4
    }

    /// Records a sender report's arrival: its NTP timestamp, for the LSR and DLSR fields of
    /// our next report block.
    pub fn sender_report_received(&mut self, ntp_timestamp: u64, now: Instant) {
        let middle = (ntp_timestamp >> 16) as u32;
        self.last_sender_report = Some((middle, now));
    }

    /// The report block for this source, with the fraction lost since the previous call
    /// (A.3); `ssrc` is the source's.
    pub fn report_block(&mut self, ssrc: u32, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        let (last_sr, delay) = match self.last_sender_report {
            Some((lsr, at)) => {
                // DLSR is in units of 1/65536 seconds.
                let d = now.saturating_duration_since(at);
                let units = d.as_secs().saturating_mul(65536)
                    + u64::from(d.subsec_nanos()) * 65536 / 1_000_000_000;
                (lsr, units.min(u64::from(u32::MAX)) as u32)
            }
            None => (0, 0),
        };
        ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: self.cumulative_lost(),
            extended_highest_sequence: self.extended_highest_sequence(),
            jitter: self.jitter(),
            last_sender_report: last_sr,
            delay_since_last_sender_report: delay,
        }
    }
}

fn to_units(d: Duration, clock_rate: u32) -> u32 {
    (d.as_nanos() * u128::from(clock_rate) / 1_000_000_000) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS20: Duration = Duration::from_millis(20);

    /// Feeds packets `seqs` at 20 ms intervals with timestamps 160 apart per sequence step.
    fn feed(s: &mut ReceptionStatistics, t0: Instant, seqs: &[u16]) -> Vec<bool> {
        seqs.iter()
            .enumerate()
            .map(|(i, &q)| {
                let ts = u32::from(q.wrapping_sub(seqs[0])) * 160;
                s.received(q, ts, t0 + MS20 * i as u32)
            })
            .collect()
    }

    #[test]
    fn probation_then_counting_across_the_wrap() {
        let t0 = Instant::now();
        let mut s = ReceptionStatistics::new(65534, 8000);
        let valid = feed(&mut s, t0, &[65534, 65535, 0, 1, 2]);
        assert_eq!(valid, [false, true, true, true, true]);
        assert_eq!(s.extended_highest_sequence(), 65536 + 2);
        assert_eq!(
            (s.expected(), s.packets_received(), s.cumulative_lost()),
            (4, 4, 0)
        );
        assert_eq!(s.jitter(), 0, "perfect pacing has no jitter");
    }

    #[test]
    fn loss_and_fraction_lost_per_report() {
        let t0 = Instant::now();
        let mut s = ReceptionStatistics::new(100, 8000);
        // 101..=110 expected, 103 and 107 lost.
        feed(&mut s, t0, &[100, 101, 102, 104, 105, 106, 108, 109, 110]);
        assert_eq!(s.cumulative_lost(), 2);
        let block = s.report_block(0x1234, t0);
        assert_eq!(block.fraction_lost, (2 * 256 / 10) as u8);
        assert_eq!(block.extended_highest_sequence, 110);
        // No loss since: fraction back to zero, cumulative stays.
        feed(&mut s, t0, &[111, 112]);
        let block = s.report_block(0x1234, t0);
        assert_eq!((block.fraction_lost, block.cumulative_lost), (0, 2));
    }

    #[test]
    fn duplicates_and_reordering_are_counted_not_rejected() {
        let t0 = Instant::now();
        let mut s = ReceptionStatistics::new(10, 8000);
        assert_eq!(
            feed(&mut s, t0, &[10, 11, 13, 12, 12]),
            [false, true, true, true, true]
        );
        assert_eq!(s.extended_highest_sequence(), 13);
        assert_eq!(s.cumulative_lost(), -1);
    }

    #[test]
    fn a_jump_is_accepted_only_when_the_next_packet_confirms_it() {
        let t0 = Instant::now();
        let mut s = ReceptionStatistics::new(1, 8000);
        feed(&mut s, t0, &[1, 2, 3]);
        assert!(!s.received(40000, 0, t0));
        assert!(s.received(40001, 160, t0));
        assert_eq!((s.extended_highest_sequence(), s.expected()), (40001, 1));
    }

    #[test]
    fn jitter_follows_a8() {
        let t0 = Instant::now();
        let mut s = ReceptionStatistics::new(0, 8000);
        s.received(0, 0, t0);
        s.received(1, 160, t0 + MS20);
        // Packet 2 arrives 10 ms (80 units) late: J = 80/16 = 5.
        s.received(2, 320, t0 + MS20 * 2 + Duration::from_millis(10));
        assert_eq!(s.jitter(), 5);
        // Packet 3 on time: |D| = 80 again, J = 5 + (80 - 5)/16 = 9.
        s.received(3, 480, t0 + MS20 * 3);
        assert_eq!(s.jitter(), 9);
    }

    #[test]
    fn lsr_and_dlsr_come_from_the_last_sender_report() {
        let t0 = Instant::now();
        let mut s = ReceptionStatistics::new(0, 8000);
        s.sender_report_received(0x1122_3344_5566_7788, t0);
        let b = s.report_block(1, t0 + Duration::from_millis(500));
        assert_eq!(b.last_sender_report, 0x3344_5566);
        assert_eq!(b.delay_since_last_sender_report, 32768);
    }

    #[test]
    fn sequence_extension_is_nearest() {
        assert_eq!(extend_sequence(65535, 0), 65536);
        assert_eq!(extend_sequence(65536, 65535), 65535);
        assert_eq!(extend_sequence(70000, (70000 % 65536 + 5) as u16), 70005);
        assert_eq!(extend_sequence(3, 65535), 0, "never below zero");
    }
}
