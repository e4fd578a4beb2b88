//! BYE (RFC 3550 §6.6): the sources leaving, and an optional reason.

use super::{count_of, u32_at, RtcpError};

/// A BYE packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Goodbye {
    /// The sources leaving (at most 31).
    pub sources: Vec<u32>,
    /// Why, at most 255 octets.
    pub reason: Option<Vec<u8>>,
}

impl Goodbye {
    pub(crate) fn parse(count: u8, b: &[u8]) -> Result<Goodbye, RtcpError> {
        let bad = RtcpError::Malformed("BYE");
        let n = usize::from(count) * 4;
        if b.len() < n {
            return Err(bad);
        }
        let sources = (0..usize::from(count)).map(|i| u32_at(b, 4 * i)).collect();
        let reason = match b.get(n) {
            None => None,
            Some(&len) => Some(b.get(n + 1..n + 1 + usize::from(len)).ok_or(bad)?.to_vec()),
        };
        Ok(Goodbye { sources, reason })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<u8, RtcpError> {
        let count = count_of(self.sources.len())?;
        let start = out.len();
        for s in &self.sources {
            out.extend_from_slice(&s.to_be_bytes());
        }
        if let Some(reason) = &self.reason {
            let len = u8::try_from(reason.len()).map_err(|_| RtcpError::TooLong)?;
            out.push(len);
            out.extend_from_slice(reason);
            super::pad_to_word(out, start);
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_is_length_prefixed_and_padded() {
        let bye = Goodbye {
            sources: vec![5, 6],
            reason: Some(b"bye".to_vec()),
        };
        let mut out = Vec::new();
        assert_eq!(bye.write(&mut out).unwrap(), 2);
        assert_eq!(&out[8..], &[3, b'b', b'y', b'e']);
        assert_eq!(Goodbye::parse(2, &out).unwrap(), bye);
        assert_eq!(
            Goodbye::parse(2, &out[..9]),
            Err(RtcpError::Malformed("BYE"))
        );
        assert_eq!(
            Goodbye::parse(3, &out[..8]),
            Err(RtcpError::Malformed("BYE"))
        );
        assert_eq!(Goodbye::parse(2, &out[..8]).unwrap().reason, None);
    }
}
