//! The RTP fixed header, CSRC list, header extension and padding (RFC 3550 §5.1, §5.3.1):
//! zero-copy parsing over `&[u8]` and writing into a reusable buffer.

use thiserror::Error;

/// Why bytes are not an RTP packet, or a header cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Shorter than the fixed header, CSRC list or extension it announces.
    #[error("packet too short")]
    TooShort,
    /// The version field is not 2.
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    /// The padding count is zero or larger than the payload.
    #[error("bad padding")]
    BadPadding,
    /// More than 15 CSRCs to write.
    #[error("more than 15 CSRCs")]
    TooManyCsrcs,
    /// Extension data to write is not a whole number of 32-bit words, or too long.
    #[error("bad header extension length")]
    BadExtension,
}

/// The header extension (RFC 3550 §5.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The profile-defined 16 bits.
    pub profile: u16,
    /// The extension data, a multiple of 4 bytes.
    pub data: &'a [u8],
}

/// A parsed RTP packet borrowing the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    payload_start: usize,
    payload_end: usize,
    extension: Option<Extension<'a>>,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

impl<'a> RtpPacket<'a> {
    /// The fixed header's length.
    pub const FIXED_HEADER_LEN: usize = 12;

    /// Parses a datagram; checks the version, lengths and padding, copies nothing.
    pub fn parse(buf: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        if buf.len() < Self::FIXED_HEADER_LEN {
            return Err(RtpError::TooShort);
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let csrc_count = usize::from(buf[0] & 0x0f);
        let mut start = Self::FIXED_HEADER_LEN + 4 * csrc_count;
        if buf.len() < start {
            return Err(RtpError::TooShort);
        }
        let mut extension = None;
        if buf[0] & 0x10 != 0 {
            if buf.len() < start + 4 {
                return Err(RtpError::TooShort);
            }
            let profile = u16_at(buf, start);
            let words = usize::from(u16_at(buf, start + 2));
            let data_start = start + 4;
            let data_end = data_start + 4 * words;
            let data = buf.get(data_start..data_end).ok_or(RtpError::TooShort)?;
            extension = Some(Extension { profile, data });
            start = data_end;
        }
        let mut end = buf.len();
        if buf[0] & 0x20 != 0 {
            let pad = usize::from(buf[end - 1]);
            if pad == 0 || pad > end - start {
                return Err(RtpError::BadPadding);
            }
            end -= pad;
        }
        Ok(RtpPacket {
            buf,
            payload_start: start,
            payload_end: end,
            extension,
        })
    }

    /// The padding bit.
    pub fn has_padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }

    /// Padding octets at the end (0 without the padding bit).
    pub fn padding_len(&self) -> usize {
        self.buf.len() - self.payload_end
    }

    /// The marker bit (first packet of a talkspurt for audio, RFC 3551 §4.1).
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// The payload type.
    pub fn payload_type(&self) -> u8 {
        self.buf[1] & 0x7f
    }

    /// The sequence number.
    pub fn sequence_number(&self) -> u16 {
        u16_at(self.buf, 2)
    }

    /// The timestamp.
    pub fn timestamp(&self) -> u32 {
        u32_at(self.buf, 4)
    }

    /// The synchronization source.
    pub fn ssrc(&self) -> u32 {
        u32_at(self.buf, 8)
    }

    /// The contributing sources.
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = u32> + 'a {
        let buf = self.buf;
        (0..usize::from(buf[0] & 0x0f)).map(move |i| u32_at(buf, 12 + 4 * i))
    }

    /// The header extension.
    pub fn extension(&self) -> Option<Extension<'a>> {
        self.extension
    }

    /// The payload, without padding.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.payload_start..self.payload_end]
    }

    /// The whole datagram.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// The header fields to write before a payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RtpHeader {
    /// The marker bit.
    pub marker: bool,
    /// Payload type (7 bits; higher bits are dropped).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
    /// Contributing sources (at most 15).
    pub csrcs: Vec<u32>,
    /// Header extension: profile bits and data (a multiple of 4 bytes).
    pub extension: Option<(u16, Vec<u8>)>,
}

impl RtpHeader {
    /// The header of a parsed packet.
    pub fn of(packet: &RtpPacket<'_>) -> RtpHeader {
        RtpHeader {
            marker: packet.marker(),
            payload_type: packet.payload_type(),
            sequence_number: packet.sequence_number(),
            timestamp: packet.timestamp(),
            ssrc: packet.ssrc(),
            csrcs: packet.csrcs().collect(),
            extension: packet.extension().map(|e| (e.profile, e.data.to_vec())),
        }
    }

    /// Appends the packet (header, payload, then `padding` octets with the padding bit
    /// set when `padding > 0`) to `out`.
    pub fn write(&self, payload: &[u8], padding: u8, out: &mut Vec<u8>) -> Result<(), RtpError> {
        if self.csrcs.len() > 15 {
            return Err(RtpError::TooManyCsrcs);
        }
        let words = match &self.extension {
            Some((_, data)) if !data.len().is_multiple_of(4) => return Err(RtpError::BadExtension),
            Some((_, data)) => {
                Some(u16::try_from(data.len() / 4).map_err(|_| RtpError::BadExtension)?)
            }
            None => None,
        };
        let mut b0 = 0x80 | self.csrcs.len() as u8;
        if padding > 0 {
            b0 |= 0x20;
        }
        if words.is_some() {
            b0 |= 0x10;
        }
        out.push(b0);
        out.push(u8::from(self.marker) << 7 | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for c in &self.csrcs {
            out.extend_from_slice(&c.to_be_bytes());
        }
        if let (Some((profile, data)), Some(words)) = (&self.extension, words) {
            out.extend_from_slice(&profile.to_be_bytes());
            out.extend_from_slice(&words.to_be_bytes());
            out.extend_from_slice(data);
        }
        out.extend_from_slice(payload);
        if padding > 0 {
            out.extend(std::iter::repeat_n(0, usize::from(padding) - 1));
            out.push(padding);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PCMU packet as a phone sends it: marker set, no CSRC, no extension.
    const PCMU: [u8; 16] = [
        0x80, 0x80, 0x12, 0x34, 0x00, 0x00, 0x0f, 0xa0, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xfe, 0x7f,
        0x00,
    ];

    #[test]
    fn parses_the_fixed_header() {
        let p = RtpPacket::parse(&PCMU).unwrap();
        assert!(p.marker());
        assert_eq!(p.payload_type(), 0);
        assert_eq!(p.sequence_number(), 0x1234);
        assert_eq!(p.timestamp(), 4000);
        assert_eq!(p.ssrc(), 0xdeadbeef);
        assert_eq!(p.csrcs().len(), 0);
        assert_eq!(p.extension(), None);
        assert_eq!(p.payload(), &[0xff, 0xfe, 0x7f, 0x00]);
        let mut out = Vec::new();
        RtpHeader::of(&p).write(p.payload(), 0, &mut out).unwrap();
        assert_eq!(out, PCMU);
    }

    #[test]
    fn csrcs_extension_and_padding_round_trip() {
        let h = RtpHeader {
            marker: false,
            payload_type: 101,
            sequence_number: 65535,
            timestamp: u32::MAX,
            ssrc: 7,
            csrcs: vec![1, 2, 3],
            extension: Some((0xbede, vec![1, 2, 3, 4, 5, 6, 7, 8])),
        };
        let mut out = Vec::new();
        h.write(b"abc", 5, &mut out).unwrap();
        assert_eq!(out.len(), 12 + 12 + 4 + 8 + 3 + 5);
        let p = RtpPacket::parse(&out).unwrap();
        assert_eq!(p.csrcs().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(p.extension().unwrap().profile, 0xbede);
        assert_eq!(p.extension().unwrap().data.len(), 8);
        assert!(p.has_padding());
        assert_eq!((p.padding_len(), p.payload()), (5, &b"abc"[..]));
        assert_eq!(RtpHeader::of(&p), h);
    }

    #[test]
    fn refuses_what_is_not_rtp() {
        assert_eq!(RtpPacket::parse(&PCMU[..11]), Err(RtpError::TooShort));
        let mut v1 = PCMU;
        v1[0] = 0x40;
        assert_eq!(RtpPacket::parse(&v1), Err(RtpError::BadVersion(1)));
        let mut csrc = PCMU;
        csrc[0] = 0x82; // two CSRCs need 20 bytes
        assert_eq!(RtpPacket::parse(&csrc), Err(RtpError::TooShort));
        let mut ext = PCMU;
        ext[0] = 0x90; // extension header of 0xfffe words
        assert_eq!(RtpPacket::parse(&ext), Err(RtpError::TooShort));
        let mut pad = PCMU;
        pad[0] = 0xa0;
        pad[15] = 5; // more padding than payload
        assert_eq!(RtpPacket::parse(&pad), Err(RtpError::BadPadding));
        pad[15] = 0;
        assert_eq!(RtpPacket::parse(&pad), Err(RtpError::BadPadding));
        pad[15] = 4;
        assert_eq!(RtpPacket::parse(&pad).unwrap().payload(), b"");
        let many = RtpHeader {
            csrcs: vec![0; 16],
            ..RtpHeader::default()
        };
        assert_eq!(
            many.write(b"", 0, &mut Vec::new()),
            Err(RtpError::TooManyCsrcs)
        );
        let odd = RtpHeader {
            extension: Some((0, vec![0; 3])),
            ..RtpHeader::default()
        };
        assert_eq!(
            odd.write(b"", 0, &mut Vec::new()),
            Err(RtpError::BadExtension)
        );
    }
}
