//! Source descriptions (SDES, RFC 3550 §6.5): chunks of items (CNAME, NAME, ...) per
//! source, each chunk ended by null octets to a 32-bit boundary.

use super::{count_of, u32_at, RtcpError};

/// One SDES item: its type and its octets (UTF-8 for the standard items).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesItem {
    /// The item type (1 CNAME, 2 NAME, ... 8 PRIV); never 0, which ends a chunk.
    pub kind: u8,
    /// The value, at most 255 octets.
    pub text: Vec<u8>,
}

impl SdesItem {
    /// Canonical name (§6.5.1), the one item every compound carries.
    pub const CNAME: u8 = 1;
    /// User name (§6.5.2).
    pub const NAME: u8 = 2;
    /// Application or tool name (§6.5.6).
    pub const TOOL: u8 = 6;
}

/// The items of one source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdesChunk {
    /// The source (SSRC or CSRC).
    pub ssrc: u32,
    /// Its items.
    pub items: Vec<SdesItem>,
}

/// An SDES packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceDescription {
    /// At most 31 chunks.
    pub chunks: Vec<SdesChunk>,
}

impl SourceDescription {
    pub(crate) fn parse(count: u8, b: &[u8]) -> Result<SourceDescription, RtcpError> {
        let bad = RtcpError::Malformed("SDES");
        let mut chunks = Vec::with_capacity(usize::from(count));
        let mut pos = 0;
        for _ in 0..count {
            if b.len() < pos + 4 {
                return Err(bad);
            }
            let mut chunk = SdesChunk {
                ssrc: u32_at(b, pos),
                items: Vec::new(),
            };
            pos += 4;
            loop {
                let kind = *b.get(pos).ok_or(bad)?;
                if kind == 0 {
                    // Null octets up to the next 32-bit boundary.
                    pos = (pos + 4) & !3;
                    break;
                }
                let len = usize::from(*b.get(pos + 1).ok_or(bad)?);
                let text = b.get(pos + 2..pos + 2 + len).ok_or(bad)?;
                chunk.items.push(SdesItem {
                    kind,
                    text: text.to_vec(),
                });
                pos += 2 + len;
            }
            chunks.push(chunk);
        }
        if pos < b.len() {
            return Err(bad);
        }
        Ok(SourceDescription { chunks })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<u8, RtcpError> {
        let count = count_of(self.chunks.len())?;
        let start = out.len();
        for c in &self.chunks {
            out.extend_from_slice(&c.ssrc.to_be_bytes());
            for item in &c.items {
                if item.kind == 0 {
                    return Err(RtcpError::Malformed("SDES"));
                }
                let len = u8::try_from(item.text.len()).map_err(|_| RtcpError::TooLong)?;
                out.push(item.kind);
                out.push(len);
                out.extend_from_slice(&item.text);
            }
            // At least one null octet, then to the boundary.
            out.push(0);
            super::pad_to_word(out, start);
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_on_word_boundaries() {
        let sd = SourceDescription {
            chunks: vec![
                SdesChunk {
                    ssrc: 1,
                    items: vec![SdesItem {
                        kind: SdesItem::CNAME,
                        text: b"ab".to_vec(),
                    }],
                },
                SdesChunk {
                    ssrc: 2,
                    items: Vec::new(),
                },
            ],
        };
        let mut out = Vec::new();
        assert_eq!(sd.write(&mut out).unwrap(), 2);
        // ssrc, item (1, 2, 'a', 'b'), 4 null octets; ssrc, 4 null octets.
        assert_eq!(out.len(), 8 + 4 + 8);
        assert_eq!(SourceDescription::parse(2, &out).unwrap(), sd);
    }

    #[test]
    fn truncated_items_and_trailing_bytes_are_malformed() {
        let bad = Err(RtcpError::Malformed("SDES"));
        assert_eq!(
            SourceDescription::parse(1, &[0, 0, 0, 1, 1, 9, b'x', 0]),
            bad
        );
        assert_eq!(SourceDescription::parse(1, &[0, 0, 0, 1]), bad);
        assert_eq!(SourceDescription::parse(0, &[0, 0, 0, 1]), bad);
        let long = SourceDescription {
            chunks: vec![SdesChunk {
                ssrc: 1,
                items: vec![SdesItem {
                    kind: 1,
                    text: vec![b'x'; 256],
                }],
            }],
        };
        assert_eq!(long.write(&mut Vec::new()), Err(RtcpError::TooLong));
    }
}
