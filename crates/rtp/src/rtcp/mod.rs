//! RTCP (RFC 3550 §6): sender and receiver reports, source descriptions and BYE, parsed
//! from and written to compound packets.
//!
//! Each packet is owned (RTCP is a few packets a second per stream, so a small allocation
//! costs nothing and keeps the types simple). Packet types this crate does not interpret
//! (APP, feedback) are kept as [`RtcpPacket::Other`] so a compound prints back whole.

mod bye;
mod report;
mod sdes;

use thiserror::Error;

pub use bye::Goodbye;
pub use report::{ReceiverReport, ReportBlock, SenderReport};
pub use sdes::{SdesChunk, SdesItem, SourceDescription};

/// Why bytes are not compound RTCP, or a packet cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtcpError {
    /// Shorter than a header, or than the length a header announces.
    #[error("packet too short")]
    TooShort,
    /// The version field is not 2.
    #[error("RTCP version {0}, expected 2")]
    BadVersion(u8),
    /// Padding on a packet that is not the last of the compound, or a bad padding count.
    #[error("bad padding")]
    BadPadding,
    /// A packet's body does not match its count or type.
    #[error("malformed {0} packet")]
    Malformed(&'static str),
    /// More than 31 report blocks, chunks or sources, or a packet over 256 KiB.
    #[error("too many items for one packet")]
    TooMany,
    /// An SDES item or BYE reason over 255 octets.
    #[error("text longer than 255 octets")]
    TooLong,
}

/// One RTCP packet of a compound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    /// SR, type 200.
    SenderReport(SenderReport),
    /// RR, type 201.
    ReceiverReport(ReceiverReport),
    /// SDES, type 202.
    SourceDescription(SourceDescription),
    /// BYE, type 203.
    Goodbye(Goodbye),
    /// Any other type, kept as its count field and body.
    Other {
        /// The packet type.
        packet_type: u8,
        /// The 5-bit count/subtype field.
        count: u8,
        /// The body after the 4-byte header (without padding).
        body: Vec<u8>,
    },
}

pub(crate) fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// Parses a compound RTCP packet (RFC 3550 §6.1). Only the last packet may be padded.
pub fn parse_compound(buf: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    let mut packets = Vec::new();
    let mut rest = buf;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(RtcpError::TooShort);
        }
        let version = rest[0] >> 6;
        if version != 2 {
            return Err(RtcpError::BadVersion(version));
        }
        let len = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
        let packet = rest.get(..len).ok_or(RtcpError::TooShort)?;
        rest = &rest[len..];
        let mut body = &packet[4..];
        if packet[0] & 0x20 != 0 {
            let pad = usize::from(packet[len - 1]);
            if !rest.is_empty() || pad == 0 || pad > body.len() {
                return Err(RtcpError::BadPadding);
            }
            body = &body[..body.len() - pad];
        }
        let count = packet[0] & 0x1f;
        packets.push(match packet[1] {
            200 => RtcpPacket::SenderReport(SenderReport::parse(count, body)?),
            201 => RtcpPacket::ReceiverReport(ReceiverReport::parse(count, body)?),
            202 => RtcpPacket::SourceDescription(SourceDescription::parse(count, body)?),
            203 => RtcpPacket::Goodbye(Goodbye::parse(count, body)?),
            packet_type => RtcpPacket::Other {
                packet_type,
                count,
                body: body.to_vec(),
            },
        });
    }
    Ok(packets)
}

/// Appends the packets as one compound to `out`, each padded to 32 bits as its own body
/// requires (no padding bit is used).
pub fn write_compound(packets: &[RtcpPacket], out: &mut Vec<u8>) -> Result<(), RtcpError> {
    for p in packets {
        let start = out.len();
        out.extend_from_slice(&[0x80, 0, 0, 0]);
        let (packet_type, count) = match p {
            RtcpPacket::SenderReport(sr) => (200, sr.write(out)?),
            RtcpPacket::ReceiverReport(rr) => (201, rr.write(out)?),
            RtcpPacket::SourceDescription(sd) => (202, sd.write(out)?),
            RtcpPacket::Goodbye(bye) => (203, bye.write(out)?),
            RtcpPacket::Other {
                packet_type,
                count,
                body,
            } => {
                if !body.len().is_multiple_of(4) || *count > 31 {
                    return Err(RtcpError::Malformed("other"));
                }
                out.extend_from_slice(body);
                (*packet_type, *count)
            }
        };
        let words = (out.len() - start) / 4 - 1;
        let words = u16::try_from(words).map_err(|_| RtcpError::TooMany)?;
        out[start] |= count;
        out[start + 1] = packet_type;
        out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
    }
    Ok(())
}

/// Pads `out` with null octets until what was written since `start` ends on a 32-bit
/// boundary (RFC 3550 section 6.5 and 6.6: SDES chunks and the BYE reason end that way).
pub(crate) fn pad_to_word(out: &mut Vec<u8>, start: usize) {
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
}

/// A count field: at most 31.
pub(crate) fn count_of(n: usize) -> Result<u8, RtcpError> {
    u8::try_from(n)
        .ok()
        .filter(|&c| c <= 31)
        .ok_or(RtcpError::TooMany)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compound() -> Vec<RtcpPacket> {
        vec![
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: 1,
                reports: vec![ReportBlock {
                    ssrc: 2,
                    fraction_lost: 25,
                    cumulative_lost: -3,
                    extended_highest_sequence: 70000,
                    jitter: 12,
                    last_sender_report: 0xaabbccdd,
                    delay_since_last_sender_report: 65536,
                }],
                extension: Vec::new(),
            }),
            RtcpPacket::SourceDescription(SourceDescription {
                chunks: vec![SdesChunk {
                    ssrc: 1,
                    items: vec![SdesItem {
                        kind: SdesItem::CNAME,
                        text: b"switchboard@127.0.0.1".to_vec(),
                    }],
                }],
            }),
            RtcpPacket::Goodbye(Goodbye {
                sources: vec![1],
                reason: Some(b"hangup".to_vec()),
            }),
        ]
    }

    #[test]
    fn compound_round_trips_and_is_word_aligned() {
        let mut out = Vec::new();
        write_compound(&compound(), &mut out).unwrap();
        assert_eq!(out.len() % 4, 0);
        assert_eq!(
            &out[..4],
            &[0x81, 201, 0, 7],
            "RR header: one block, 8 words"
        );
        assert_eq!(parse_compound(&out).unwrap(), compound());
    }

    #[test]
    fn padding_is_allowed_on_the_last_packet_only() {
        let mut out = Vec::new();
        write_compound(&compound()[2..], &mut out).unwrap();
        // Pad the BYE by 4 octets.
        out[0] |= 0x20;
        out[3] += 1;
        out.extend_from_slice(&[0, 0, 0, 4]);
        assert_eq!(parse_compound(&out).unwrap(), compound()[2..]);
        let mut twice = out.clone();
        twice.extend_from_slice(&out);
        assert_eq!(parse_compound(&twice), Err(RtcpError::BadPadding));
    }

    #[test]
    fn refuses_truncated_and_wrong_version() {
        let mut out = Vec::new();
        write_compound(&compound(), &mut out).unwrap();
        assert_eq!(
            parse_compound(&out[..out.len() - 4]),
            Err(RtcpError::TooShort)
        );
        assert_eq!(parse_compound(&out[..3]), Err(RtcpError::TooShort));
        out[0] = 0x41;
        assert_eq!(parse_compound(&out), Err(RtcpError::BadVersion(1)));
        let app = [0x80, 204, 0, 1, 1, 2, 3, 4];
        assert_eq!(
            parse_compound(&app).unwrap(),
            [RtcpPacket::Other {
                packet_type: 204,
                count: 0,
                body: vec![1, 2, 3, 4]
            }]
        );
    }
}
