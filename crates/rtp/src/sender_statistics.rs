//! What a sender counts for its sender reports (RFC 3550 §6.4.1): packets and payload
//! octets sent, and the NTP timestamp of the report's instant.
//!
//! Wall-clock time is a parameter: the caller passes the time since the Unix epoch, and
//! [`ntp_timestamp`] converts it to the 64-bit NTP format.

use std::time::Duration;

use crate::rtcp::{ReportBlock, SenderReport};

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// The 64-bit NTP timestamp (32.32 fixed point, seconds since 1900) of a time given as a
/// duration since the Unix epoch.
pub fn ntp_timestamp(since_unix_epoch: Duration) -> u64 {
    let seconds = since_unix_epoch.as_secs().wrapping_add(NTP_UNIX_OFFSET);
    let fraction = (u64::from(since_unix_epoch.subsec_nanos()) << 32) / 1_000_000_000;
    seconds << 32 | fraction
}

/// A sender's counters for one SSRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderStatistics {
    ssrc: u32,
    packets: u32,
    octets: u32,
}

impl SenderStatistics {
    /// Counters for a new source.
    pub fn new(ssrc: u32) -> SenderStatistics {
        SenderStatistics {
            ssrc,
            packets: 0,
            octets: 0,
        }
    }

    /// Counts one sent packet with this payload length (header and padding excluded,
    /// §6.4.1). The counters wrap as the RFC's 32-bit fields do.
    pub fn sent(&mut self, payload_len: usize) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload_len as u32);
    }

    /// Packets sent.
    pub fn packets(&self) -> u32 {
        self.packets
    }

    /// Payload octets sent.
    pub fn octets(&self) -> u32 {
        self.octets
    }

    /// The SR for this instant: `ntp` from [`ntp_timestamp`], `rtp_timestamp` the media
    /// clock at the same instant, and the report blocks for the sources we receive.
    pub fn sender_report(
        &self,
        ntp: u64,
        rtp_timestamp: u32,
        reports: Vec<ReportBlock>,
    ) -> SenderReport {
        SenderReport {
            ssrc: self.ssrc,
            ntp_timestamp: ntp,
            rtp_timestamp,
            packet_count: self.packets,
            octet_count: self.octets,
            reports,
            extension: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_of_the_unix_epoch_and_a_half_second() {
        assert_eq!(ntp_timestamp(Duration::ZERO), NTP_UNIX_OFFSET << 32);
        let t = ntp_timestamp(Duration::from_millis(1500));
        assert_eq!(t >> 32, NTP_UNIX_OFFSET + 1);
        assert_eq!(t as u32, 0x8000_0000);
    }

    #[test]
    fn counts_payload_octets_into_the_report() {
        let mut s = SenderStatistics::new(42);
        for _ in 0..50 {
            s.sent(160);
        }
        let sr = s.sender_report(7 << 32, 8000, Vec::new());
        assert_eq!((sr.ssrc, sr.packet_count, sr.octet_count), (42, 50, 8000));
        assert_eq!((sr.ntp_timestamp, sr.rtp_timestamp), (7 << 32, 8000));
    }
}
