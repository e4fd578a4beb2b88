//! The CSeq header (RFC 3261 §20.16).

use crate::method::Method;
use crate::text::{is_lws, is_token, parse_u32, trim_lws};

/// A parsed CSeq: sequence number and method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The sequence number (at most 2^31 - 1 when generated, up to 2^32 - 1 accepted).
    pub seq: u32,
    /// The method.
    pub method: Method,
    /// The method token as written.
    pub method_str: &'a str,
}

impl<'a> CSeq<'a> {
    /// Parses a CSeq value such as `0009\r\n  INVITE`.
    pub fn parse(value: &'a str) -> Result<CSeq<'a>, &'static str> {
        let s = trim_lws(value);
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let seq = parse_u32(&s[..i]).ok_or("bad sequence number")?;
        let j0 = i;
        let mut j = i;
        while j < b.len() && is_lws(b[j]) {
            j += 1;
        }
        if j == j0 {
            return Err("missing method");
        }
        let m = &s[j..];
        if m.is_empty() || !m.bytes().all(is_token) {
            return Err("bad method");
        }
        Ok(CSeq {
            seq,
            method: Method::from_token(m),
            method_str: m,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let c = CSeq::parse("0009\r\n  INVITE").unwrap();
        assert_eq!(c.seq, 9);
        assert_eq!(c.method, Method::Invite);
        assert!(CSeq::parse("36893488147419103232 REGISTER").is_err());
        assert!(CSeq::parse("1INVITE").is_err());
        assert!(CSeq::parse("1 INVITE x").is_err());
    }
}
