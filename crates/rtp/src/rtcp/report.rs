//! Sender reports (SR, RFC 3550 §6.4.1), receiver reports (RR, §6.4.2) and the report
//! block both carry.

use super::{count_of, u32_at, RtcpError};

/// One reception report block: what we received from one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (signed 24 bits).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub extended_highest_sequence: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP timestamp (LSR), 0 when none.
    pub last_sender_report: u32,
    /// Delay since that SR in 1/65536 s (DLSR).
    pub delay_since_last_sender_report: u32,
}

impl ReportBlock {
    const LEN: usize = 24;

    fn parse(b: &[u8]) -> ReportBlock {
        // Sign-extend the 24-bit cumulative loss.
        let lost = (u32_at(b, 4) << 8) as i32 >> 8;
        ReportBlock {
            ssrc: u32_at(b, 0),
            fraction_lost: b[4],
            cumulative_lost: lost,
            extended_highest_sequence: u32_at(b, 8),
            jitter: u32_at(b, 12),
            last_sender_report: u32_at(b, 16),
            delay_since_last_sender_report: u32_at(b, 20),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        let lost = (self.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff;
        out.extend_from_slice(&(u32::from(self.fraction_lost) << 24 | lost).to_be_bytes());
        out.extend_from_slice(&self.extended_highest_sequence.to_be_bytes());
        out.extend_from_slice(&self.jitter.to_be_bytes());
        out.extend_from_slice(&self.last_sender_report.to_be_bytes());
        out.extend_from_slice(&self.delay_since_last_sender_report.to_be_bytes());
    }
}

fn parse_blocks(count: u8, b: &[u8], what: &'static str) -> Result<Vec<ReportBlock>, RtcpError> {
    let n = usize::from(count);
    if b.len() < n * ReportBlock::LEN {
        return Err(RtcpError::Malformed(what));
    }
    Ok(b.chunks_exact(ReportBlock::LEN)
        .take(n)
        .map(ReportBlock::parse)
        .collect())
}

/// An SR: what we sent, and what we received.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SenderReport {
    /// The sender.
    pub ssrc: u32,
    /// NTP timestamp (64-bit fixed point, seconds since 1900).
    pub ntp_timestamp: u64,
    /// The RTP timestamp for the same instant.
    pub rtp_timestamp: u32,
    /// Packets sent.
    pub packet_count: u32,
    /// Payload octets sent.
    pub octet_count: u32,
    /// Reception report blocks (at most 31).
    pub reports: Vec<ReportBlock>,
    /// Profile-specific extension octets after the blocks, kept as received.
    pub extension: Vec<u8>,
}

impl SenderReport {
    pub(crate) fn parse(count: u8, b: &[u8]) -> Result<SenderReport, RtcpError> {
        if b.len() < 24 {
            return Err(RtcpError::Malformed("SR"));
        }
        let reports = parse_blocks(count, &b[24..], "SR")?;
        let ntp = u64::from(u32_at(b, 4)) << 32 | u64::from(u32_at(b, 8));
        Ok(SenderReport {
            ssrc: u32_at(b, 0),
            ntp_timestamp: ntp,
            rtp_timestamp: u32_at(b, 12),
            packet_count: u32_at(b, 16),
            octet_count: u32_at(b, 20),
            extension: b[24 + reports.len() * ReportBlock::LEN..].to_vec(),
            reports,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<u8, RtcpError> {
        let count = count_of(self.reports.len())?;
        if !self.extension.len().is_multiple_of(4) {
            return Err(RtcpError::Malformed("SR"));
        }
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&self.ntp_timestamp.to_be_bytes());
        out.extend_from_slice(&self.rtp_timestamp.to_be_bytes());
        out.extend_from_slice(&self.packet_count.to_be_bytes());
        out.extend_from_slice(&self.octet_count.to_be_bytes());
        for r in &self.reports {
            r.write(out);
        }
        out.extend_from_slice(&self.extension);
        Ok(count)
    }
}

/// An RR: what we received, from a participant that did not send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiverReport {
    /// The reporter.
    pub ssrc: u32,
    /// Reception report blocks (at most 31).
    pub reports: Vec<ReportBlock>,
    /// Profile-specific extension octets after the blocks, kept as received.
    pub extension: Vec<u8>,
}

impl ReceiverReport {
    pub(crate) fn parse(count: u8, b: &[u8]) -> Result<ReceiverReport, RtcpError> {
        if b.len() < 4 {
            return Err(RtcpError::Malformed("RR"));
        }
        let reports = parse_blocks(count, &b[4..], "RR")?;
        Ok(ReceiverReport {
            ssrc: u32_at(b, 0),
            extension: b[4 + reports.len() * ReportBlock::LEN..].to_vec(),
            reports,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<u8, RtcpError> {
        let count = count_of(self.reports.len())?;
        if !self.extension.len().is_multiple_of(4) {
            return Err(RtcpError::Malformed("RR"));
        }
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for r in &self.reports {
            r.write(out);
        }
        out.extend_from_slice(&self.extension);
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_compound, write_compound, RtcpPacket};
    use super::*;

    #[test]
    fn sender_report_with_a_block_round_trips() {
        let sr = SenderReport {
            ssrc: 0x0102_0304,
            ntp_timestamp: 0xe000_0000_8000_0000,
            rtp_timestamp: 160_000,
            packet_count: 1000,
            octet_count: 160_000,
            reports: vec![ReportBlock {
                ssrc: 9,
                cumulative_lost: 0x7f_ffff,
                ..ReportBlock::default()
            }],
            extension: Vec::new(),
        };
        let mut out = Vec::new();
        write_compound(&[RtcpPacket::SenderReport(sr.clone())], &mut out).unwrap();
        assert_eq!(out.len(), 4 + 24 + 24);
        assert_eq!(&out[..4], &[0x81, 200, 0, 12]);
        assert_eq!(
            parse_compound(&out).unwrap(),
            [RtcpPacket::SenderReport(sr)]
        );
    }

    #[test]
    fn cumulative_loss_is_signed_24_bits() {
        let mut out = Vec::new();
        ReportBlock {
            cumulative_lost: -1,
            ..ReportBlock::default()
        }
        .write(&mut out);
        assert_eq!(&out[4..8], &[0, 0xff, 0xff, 0xff]);
        assert_eq!(ReportBlock::parse(&out).cumulative_lost, -1);
    }

    #[test]
    fn a_count_larger_than_the_body_is_malformed() {
        assert_eq!(
            ReceiverReport::parse(2, &[0; 28]),
            Err(RtcpError::Malformed("RR"))
        );
        assert_eq!(
            SenderReport::parse(0, &[0; 20]),
            Err(RtcpError::Malformed("SR"))
        );
        let rr = ReceiverReport {
            reports: vec![ReportBlock::default(); 32],
            ..Default::default()
        };
        assert_eq!(rr.write(&mut Vec::new()), Err(RtcpError::TooMany));
    }
}
