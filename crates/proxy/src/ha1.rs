//! A subscriber's two digest hashes (HA1 for MD5 and for SHA-256) as the directory keeps
//! them: 48 raw bytes in place when both are lowercase hex of their length (what this
//! program writes), the text otherwise. Two hex `String`s were 96 bytes of heap per
//! subscriber besides their headers: 4.8 MB of start-up memory with 50,000 users
//! (issue 13). The directory hands them out as hex text, as before.

/// The HA1 pair of one subscriber.
#[derive(Clone)]
pub(crate) enum Ha1Pair {
    /// MD5 (16 bytes) then SHA-256 (32 bytes), decoded from lowercase hex.
    Packed([u8; 48]),
    /// Anything else, kept as given.
    Text(Box<(String, String)>),
}

impl Ha1Pair {
    /// The pair for these hex texts.
    pub(crate) fn new(md5: String, sha256: String) -> Ha1Pair {
        let mut raw = [0u8; 48];
        let (a, b) = raw.split_at_mut(16);
        if decode(&md5, a) && decode(&sha256, b) {
            Ha1Pair::Packed(raw)
        } else {
            Ha1Pair::Text(Box::new((md5, sha256)))
        }
    }

    /// Both, as lowercase hex text.
    pub(crate) fn to_hex(&self) -> (String, String) {
        match self {
            Ha1Pair::Packed(raw) => (encode(&raw[..16]), encode(&raw[16..])),
            Ha1Pair::Text(t) => (t.0.clone(), t.1.clone()),
        }
    }
}

/// Decodes lowercase hex of exactly `out.len()` bytes; false for anything else.
fn decode(hex: &str, out: &mut [u8]) -> bool {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    if hex.len() != out.len() * 2 {
        return false;
    }
    for (o, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(h), Some(l)) => *o = h << 4 | l,
            _ => return false,
        }
    }
    true
}

fn encode(raw: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(raw.len() * 2);
    for b in raw {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_come_back_as_they_went_in() {
        let md5 = "0123456789abcdef0123456789abcdef".to_string();
        let sha = "00ff".repeat(16);
        let p = Ha1Pair::new(md5.clone(), sha.clone());
        assert!(matches!(p, Ha1Pair::Packed(_)));
        assert_eq!(p.to_hex(), (md5.clone(), sha.clone()));
        // not lowercase hex of the right length: kept as text, unchanged
        for (a, b) in [
            (md5.to_uppercase(), sha.clone()),
            (md5.clone(), String::new()),
            ("xyz".to_string(), sha.clone()),
        ] {
            let p = Ha1Pair::new(a.clone(), b.clone());
            assert!(matches!(p, Ha1Pair::Text(_)));
            assert_eq!(p.to_hex(), (a, b));
        }
    }
}
