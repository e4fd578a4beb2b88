//! Character classes and small scanners of the RFC 3261 §25 grammar.
//!
//! Everything here works on bytes and never allocates. "LWS" follows the RFC: spaces and
//! tabs, optionally preceded by one CRLF (a folded line). The message parser keeps folds
//! inside header values, so the scanners here treat CR and LF as whitespace.

/// Character class bits of [`CLASS`].
pub(crate) mod class {
    /// `token`
    pub const TOKEN: u8 = 1;
    /// `unreserved`
    pub const UNRESERVED: u8 = 2;
    /// SIP URI user part: unreserved / escaped / user-unreserved
    pub const USER: u8 = 4;
    /// SIP URI password
    pub const PASSWORD: u8 = 8;
    /// SIP URI parameters (with `;` and `=`)
    pub const PARAM: u8 = 16;
    /// SIP URI headers (with `?`, `=`, `&`)
    pub const HEADER: u8 = 32;
    /// host names
    pub const HOST: u8 = 64;
    /// `word` (Call-ID)
    pub const WORD: u8 = 128;
}

const fn build_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let alnum = b.is_ascii_alphanumeric();
        let mut c = 0u8;
        let mark = matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        );
        let unreserved = alnum || mark;
        if alnum
            || matches!(
                b,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            )
        {
            c |= class::TOKEN | class::WORD;
        }
        if matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        ) {
            c |= class::WORD;
        }
        if unreserved {
            c |= class::UNRESERVED | class::USER | class::PASSWORD | class::PARAM | class::HEADER;
        }
        if matches!(
            b,
            b'%' | b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/'
        ) {
            c |= class::USER;
        }
        if matches!(b, b'%' | b'&' | b'=' | b'+' | b'$' | b',') {
            c |= class::PASSWORD;
        }
        if matches!(
            b,
            b'%' | b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$' | b';' | b'='
        ) {
            c |= class::PARAM;
        }
        if matches!(
            b,
            b'%' | b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$' | b'=' | b'&'
        ) {
            c |= class::HEADER;
        }
        if alnum || matches!(b, b'-' | b'.' | b'_') {
            c |= class::HOST;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// One byte of class bits per octet: a table lookup instead of a chain of comparisons.
pub(crate) static CLASS: [u8; 256] = build_classes();

/// True when `b` is in every class of `bits`.
#[inline]
pub(crate) fn is(b: u8, bits: u8) -> bool {
    CLASS[b as usize] & bits != 0
}

/// `token` characters (RFC 3261 §25.1).
#[inline]
pub fn is_token(b: u8) -> bool {
    is(b, class::TOKEN)
}

/// `word` characters (Call-ID): token plus separators that may appear in a word.
#[inline]
pub fn is_word(b: u8) -> bool {
    is(b, class::WORD)
}

/// `unreserved` characters: alphanum and mark.
#[inline]
pub fn is_unreserved(b: u8) -> bool {
    is(b, class::UNRESERVED)
}

/// Whitespace inside a header value, including the CR LF of a folded line.
#[inline]
pub fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Strips leading and trailing LWS.
#[inline]
pub fn trim_lws(s: &str) -> &str {
    let b = s.as_bytes();
    let mut end = b.len();
    while end > 0 && is_lws(b[end - 1]) {
        end -= 1;
    }
    trim_lws_start(&s[..end])
}

/// Strips leading LWS.
#[inline]
pub fn trim_lws_start(s: &str) -> &str {
    // Byte by byte: LWS is ASCII, so every cut falls on a character boundary.
    let b = s.as_bytes();
    let mut start = 0;
    while start < b.len() && is_lws(b[start]) {
        start += 1;
    }
    &s[start..]
}

/// Checks that every `%` in `s` starts a `%HH` escape.
pub fn escapes_valid(s: &[u8]) -> bool {
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'%', &s[i..]) {
        let p = i + off;
        if p + 2 >= s.len() {
            return false;
        }
        if !(s[p + 1].is_ascii_hexdigit() && s[p + 2].is_ascii_hexdigit()) {
            return false;
        }
        i = p + 3;
    }
    true
}

/// Parses a decimal number made of digits only, at most `u32::MAX`.
pub fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok().and_then(|v| u32::try_from(v).ok())
}

/// Finds the end of a quoted string that starts at `s[0] == '"'`: returns the index just past
/// the closing quote, honouring backslash escapes.
pub fn quoted_end(s: &[u8]) -> Option<usize> {
    debug_assert_eq!(s.first(), Some(&b'"'));
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Splits a header value on the commas that separate values, ignoring commas inside quoted
/// strings and inside `<...>`. Yields each value with its byte offset, untrimmed.
pub fn split_commas(value: &str) -> CommaSplit<'_> {
    CommaSplit {
        s: value,
        pos: 0,
        done: false,
    }
}

/// Iterator returned by [`split_commas`].
#[derive(Debug, Clone)]
pub struct CommaSplit<'a> {
    s: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for CommaSplit<'a> {
    /// (offset of the piece in the value, the piece)
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let b = self.s.as_bytes();
        let start = self.pos;
        // Fast path: no comma left means one last piece (most Via and Contact values).
        if memchr::memchr(b',', &b[start..]).is_none() {
            self.done = true;
            return Some((start, &self.s[start..]));
        }
        let mut i = start;
        let mut in_angle = false;
        while i < b.len() {
            match b[i] {
                b'"' => match quoted_end(&b[i..]) {
                    Some(n) => {
                        i += n;
                        continue;
                    }
                    None => i = b.len(),
                },
                b'<' => in_angle = true,
                b'>' => in_angle = false,
                b',' if !in_angle => {
                    self.pos = i + 1;
                    return Some((start, &self.s[start..i]));
                }
                _ => {}
            }
            i += 1;
        }
        self.done = true;
        Some((start, &self.s[start..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_match_the_grammar() {
        for b in 0..=255u8 {
            let alnum = b.is_ascii_alphanumeric();
            assert_eq!(is_token(b), alnum || b"-.!%*_+`'~".contains(&b), "{b}");
            assert_eq!(is_unreserved(b), alnum || b"-_.!~*'()".contains(&b), "{b}");
        }
        assert!(is(b'?', class::USER) && !is(b'?', class::PARAM) && is(b'?', class::HEADER));
        assert!(!is(
            b' ',
            class::USER | class::PARAM | class::HEADER | class::HOST
        ));
    }

    #[test]
    fn escapes() {
        assert!(escapes_valid(b"a%20b"));
        assert!(escapes_valid(b""));
        assert!(!escapes_valid(b"a%2"));
        assert!(!escapes_valid(b"%"));
        assert!(!escapes_valid(b"%zz"));
    }

    #[test]
    fn commas_respect_quotes_and_angles() {
        let v: Vec<_> = split_commas(r#""a,b" <sip:x,y>;p=1, <sip:z>"#)
            .map(|x| x.1)
            .collect();
        assert_eq!(v, vec![r#""a,b" <sip:x,y>;p=1"#, " <sip:z>"]);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u32("0009"), Some(9));
        assert_eq!(parse_u32("4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32("-1"), None);
        assert_eq!(parse_u32(""), None);
    }
}
