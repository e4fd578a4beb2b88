//! The shared auth-param list grammar: `scheme 1*LWS param *(COMMA param)`.
//!
//! RFC 3261 §25.1 / RFC 7616 §3.3-3.4: tokens, quoted strings with
//! quoted-pair escapes, LWS including folded lines (CRLF followed by SP/HT),
//! and empty list elements (tolerated, as HTTP's `#rule` allows).

use std::borrow::Cow;
use std::fmt;

use crate::AuthParseError;

/// Longest header value the parsers accept, in bytes.
pub const MAX_HEADER_VALUE_LEN: usize = 16 * 1024;

/// One `name=value` auth-param, as kept for parameters this crate does not
/// interpret (and used internally for all of them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param<'a> {
    /// Parameter name as written (matching is case-insensitive).
    pub name: Cow<'a, str>,
    /// Value with quotes removed and escapes resolved.
    pub value: Cow<'a, str>,
    /// Whether the value was (and will be printed as) a quoted string.
    pub quoted: bool,
}

impl Param<'_> {
    /// Copies borrowed data so the param no longer borrows the input.
    pub fn into_owned(self) -> Param<'static> {
        Param {
            name: own(self.name),
            value: own(self.value),
            quoted: self.quoted,
        }
    }

    /// Writes ` name=value` (no separator) with correct quoting.
    pub(crate) fn write<W: fmt::Write>(&self, w: &mut W) -> fmt::Result {
        w.write_str(&self.name)?;
        w.write_char('=')?;
        if !self.quoted && is_unquoted_value(&self.value) {
            w.write_str(&self.value)
        } else {
            write_quoted(w, &self.value)
        }
    }
}

/// RFC 3261 `token` characters.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// Bytes accepted in an unquoted value. Wider than `token` so that common
/// non-conforming values (e.g. an unquoted `uri=sip:a@b`) still parse.
fn is_unquoted_value_byte(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && !matches!(b, b'"' | b',' | b'\\')
}

/// Whether `s` can be printed without quotes and parse back unchanged.
pub(crate) fn is_unquoted_value(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_unquoted_value_byte)
}

/// Writes `s` as a quoted string. `"` and `\` are escaped; CR, LF and other
/// control characters except HT cannot appear in a header and become SP.
pub(crate) fn write_quoted<W: fmt::Write>(w: &mut W, s: &str) -> fmt::Result {
    w.write_char('"')?;
    let mut rest = s;
    while let Some(pos) = rest.find(|c: char| c == '"' || c == '\\' || is_bad_control(c)) {
        w.write_str(&rest[..pos])?;
        let c = rest[pos..].chars().next().unwrap_or(' ');
        if is_bad_control(c) {
            w.write_char(' ')?;
        } else {
            w.write_char('\\')?;
            w.write_char(c)?;
        }
        rest = &rest[pos + c.len_utf8()..];
    }
    w.write_str(rest)?;
    w.write_char('"')
}

fn is_bad_control(c: char) -> bool {
    c.is_ascii_control() && c != '\t'
}

/// Copies a borrowed string so it outlives the input it was parsed from.
pub(crate) fn own(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

/// The value of a required parameter, or [`AuthParseError::MissingParameter`].
pub(crate) fn required<T>(slot: Option<T>, name: &'static str) -> Result<T, AuthParseError> {
    slot.ok_or(AuthParseError::MissingParameter(name))
}

/// Writes `prefix` (e.g. `", nonce="`) and `value` as a quoted string; nothing when `value`
/// is `None` (an absent optional parameter).
pub(crate) fn write_quoted_param<W: fmt::Write>(
    w: &mut W,
    prefix: &str,
    value: Option<&str>,
) -> fmt::Result {
    match value {
        Some(v) => {
            w.write_str(prefix)?;
            write_quoted(w, v)
        }
        None => Ok(()),
    }
}

/// Stores `value` in `slot`, rejecting a second occurrence of `name`.
pub(crate) fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    name: &'static str,
) -> Result<(), AuthParseError> {
    if slot.is_some() {
        return Err(AuthParseError::DuplicateParameter(name));
    }
    *slot = Some(value);
    Ok(())
}

/// Parses a `true` / `false` value (case-insensitive).
pub(crate) fn parse_bool(value: &str, name: &'static str) -> Result<bool, AuthParseError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(AuthParseError::BadBoolean(name))
    }
}

/// Converts byte input to `&str`, as header values may arrive as bytes.
pub(crate) fn as_str(input: &[u8]) -> Result<&str, AuthParseError> {
    std::str::from_utf8(input).map_err(|_| AuthParseError::InvalidUtf8)
}

/// Adapter so the `fmt::Write`-based printers can append to a byte buffer.
pub(crate) struct VecWriter<'v>(pub(crate) &'v mut Vec<u8>);

impl fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Splits a header value into its scheme and auth-params, checking that the
/// scheme is `Digest`.
pub(crate) fn parse_digest(input: &str) -> Result<Vec<Param<'_>>, AuthParseError> {
    if input.len() > MAX_HEADER_VALUE_LEN {
        return Err(AuthParseError::TooLong { len: input.len() });
    }
    let mut sc = Scanner { s: input, pos: 0 };
    sc.skip_lws()?;
    if sc.at_end() {
        return Err(AuthParseError::Empty);
    }
    let scheme = sc.token();
    if scheme.is_empty() {
        return Err(sc.unexpected("authentication scheme"));
    }
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(AuthParseError::UnknownScheme(scheme.to_owned()));
    }
    if !sc.skip_lws()? && !sc.at_end() {
        return Err(sc.unexpected("whitespace after scheme"));
    }
    let mut params = Vec::new();
    loop {
        sc.skip_lws()?;
        match sc.peek() {
            None => break,
            Some(b',') => {
                sc.pos += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = sc.token();
        if name.is_empty() {
            return Err(sc.unexpected("parameter name"));
        }
        sc.skip_lws()?;
        if sc.peek() != Some(b'=') {
            return Err(sc.unexpected("'=' after parameter name"));
        }
        sc.pos += 1;
        sc.skip_lws()?;
        let (value, quoted) = if sc.peek() == Some(b'"') {
            (sc.quoted_string()?, true)
        } else {
            let v = sc.take_while(is_unquoted_value_byte);
            if v.is_empty() {
                return match sc.peek() {
                    None | Some(b',') => Err(AuthParseError::MissingValue {
                        name: name.to_owned(),
                    }),
                    Some(_) => Err(sc.unexpected("parameter value")),
                };
            }
            (Cow::Borrowed(v), false)
        };
        params.push(Param {
            name: Cow::Borrowed(name),
            value,
            quoted,
        });
        sc.skip_lws()?;
        match sc.peek() {
            None => break,
            Some(b',') => sc.pos += 1,
            Some(_) => return Err(sc.unexpected("',' between parameters")),
        }
    }
    Ok(params)
}

struct Scanner<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn byte_at(&self, i: usize) -> Option<u8> {
        self.bytes().get(i).copied()
    }

    fn unexpected(&self, expected: &'static str) -> AuthParseError {
        AuthParseError::UnexpectedCharacter {
            offset: self.pos,
            expected,
        }
    }

    fn take_while(&mut self, pred: fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(pred) {
            self.pos += 1;
        }
        // Predicates only accept ASCII, so both ends are char boundaries.
        self.s.get(start..self.pos).unwrap_or("")
    }

    fn token(&mut self) -> &'a str {
        self.take_while(is_token_byte)
    }

    /// Length of a line fold (CRLF or LF followed by SP/HT) at `i`, if any.
    fn fold_len(&self, i: usize) -> Option<usize> {
        let nl = match (self.byte_at(i), self.byte_at(i + 1)) {
            (Some(b'\r'), Some(b'\n')) => 2,
            (Some(b'\n'), _) => 1,
            _ => return None,
        };
        matches!(self.byte_at(i + nl), Some(b' ' | b'\t')).then_some(nl + 1)
    }

    /// Skips LWS; returns whether anything was skipped. A trailing CRLF at
    /// the very end of the input is tolerated.
    fn skip_lws(&mut self) -> Result<bool, AuthParseError> {
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\r' | b'\n') => {
                    if let Some(n) = self.fold_len(self.pos) {
                        self.pos += n;
                    } else if &self.bytes()[self.pos..] == b"\r\n"
                        || &self.bytes()[self.pos..] == b"\n"
                    {
                        self.pos = self.s.len();
                    } else {
                        return Err(AuthParseError::UnexpectedLineBreak { offset: self.pos });
                    }
                }
                _ => return Ok(self.pos > start),
            }
        }
    }

    /// Parses a quoted string starting at the opening quote. Borrows when the
    /// content has no escapes and no folds.
    fn quoted_string(&mut self) -> Result<Cow<'a, str>, AuthParseError> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        let mut owned: Option<String> = None;
        let mut seg_start = start;
        loop {
            let Some(b) = self.peek() else {
                return Err(AuthParseError::UnterminatedQuote { offset: open });
            };
            match b {
                b'"' => {
                    let tail = &self.s[seg_start..self.pos];
                    self.pos += 1;
                    return Ok(match owned {
                        Some(mut o) => {
                            o.push_str(tail);
                            Cow::Owned(o)
                        }
                        None => Cow::Borrowed(&self.s[start..self.pos - 1]),
                    });
                }
                b'\\' => {
                    let esc = self.byte_at(self.pos + 1);
                    let c = match esc {
                        Some(c) if c == b'\t' || (0x20..0x7f).contains(&c) => c,
                        None => return Err(AuthParseError::UnterminatedQuote { offset: open }),
                        Some(_) => return Err(AuthParseError::InvalidEscape { offset: self.pos }),
                    };
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(&self.s[seg_start..self.pos]);
                    o.push(char::from(c));
                    self.pos += 2;
                    seg_start = self.pos;
                }
                b'\r' | b'\n' => {
                    let Some(n) = self.fold_len(self.pos) else {
                        return Err(AuthParseError::UnexpectedLineBreak { offset: self.pos });
                    };
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(&self.s[seg_start..self.pos]);
                    o.push(' ');
                    self.pos += n;
                    while matches!(self.peek(), Some(b' ' | b'\t')) {
                        self.pos += 1;
                    }
                    seg_start = self.pos;
                }
                b'\t' => self.pos += 1,
                c if c < 0x20 || c == 0x7f => {
                    return Err(self.unexpected("printable character in quoted string"));
                }
                _ => self.pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(input: &str) -> Result<Vec<(String, String, bool)>, AuthParseError> {
        parse_digest(input).map(|v| {
            v.into_iter()
                .map(|p| (p.name.into_owned(), p.value.into_owned(), p.quoted))
                .collect()
        })
    }

    #[test]
    fn basic_params_borrow() {
        let v = parse_digest(r#"Digest realm="a b", nc=00000001"#).unwrap();
        assert!(matches!(v[0].value, Cow::Borrowed("a b")));
        assert!(v[0].quoted);
        assert_eq!(v[1].value, "00000001");
        assert!(!v[1].quoted);
    }

    #[test]
    fn escapes_and_folds() {
        let v = p("digest  a = \"x\\\"y\\\\z\" ,\r\n\tb=\"l1\r\n  l2\",,c=t").unwrap();
        assert_eq!(v[0], ("a".into(), "x\"y\\z".into(), true));
        assert_eq!(v[1], ("b".into(), "l1 l2".into(), true));
        assert_eq!(v[2], ("c".into(), "t".into(), false));
    }

    #[test]
    fn utf8_in_quoted_string() {
        let v = p("Digest realm=\"réalm ☃\"").unwrap();
        assert_eq!(v[0].1, "réalm ☃");
    }

    #[test]
    fn errors() {
        assert_eq!(p(""), Err(AuthParseError::Empty));
        assert_eq!(p(" \r\n "), Err(AuthParseError::Empty));
        assert_eq!(
            p("Basic abc"),
            Err(AuthParseError::UnknownScheme("Basic".into()))
        );
        assert_eq!(
            p("Digest realm=\"abc"),
            Err(AuthParseError::UnterminatedQuote { offset: 13 })
        );
        assert_eq!(
            p("Digest realm=\"abc\\"),
            Err(AuthParseError::UnterminatedQuote { offset: 13 })
        );
        assert_eq!(
            p("Digest realm=\"a\\\r\""),
            Err(AuthParseError::InvalidEscape { offset: 15 })
        );
        assert_eq!(
            p("Digest realm=\"a\r\nb\""),
            Err(AuthParseError::UnexpectedLineBreak { offset: 15 })
        );
        assert_eq!(
            p("Digest realm=a\r\nX: y"),
            Err(AuthParseError::UnexpectedLineBreak { offset: 14 })
        );
        assert_eq!(
            p("Digest realm=,nonce=x"),
            Err(AuthParseError::MissingValue {
                name: "realm".into()
            })
        );
        assert_eq!(
            p("Digest realm"),
            Err(AuthParseError::UnexpectedCharacter {
                offset: 12,
                expected: "'=' after parameter name"
            })
        );
        assert!(matches!(
            p("Digest a=b c=d"),
            Err(AuthParseError::UnexpectedCharacter { .. })
        ));
        assert!(matches!(
            p("Digest a=\"\0\""),
            Err(AuthParseError::UnexpectedCharacter { .. })
        ));
        assert!(matches!(
            p("Digest,a=b"),
            Err(AuthParseError::UnexpectedCharacter { .. })
        ));
        assert!(matches!(
            p("=x"),
            Err(AuthParseError::UnexpectedCharacter { .. })
        ));
        let long = format!("Digest a=\"{}\"", "x".repeat(MAX_HEADER_VALUE_LEN));
        assert!(matches!(p(&long), Err(AuthParseError::TooLong { .. })));
    }

    #[test]
    fn trailing_crlf_tolerated() {
        assert_eq!(p("Digest a=b\r\n").unwrap().len(), 1);
        assert_eq!(p("Digest").unwrap().len(), 0);
    }

    #[test]
    fn quoting_writer() {
        let mut s = String::new();
        write_quoted(&mut s, "a\"b\\c\r\nd\te").unwrap();
        assert_eq!(s, "\"a\\\"b\\\\c  d\te\"");
        assert!(is_unquoted_value("MD5"));
        assert!(!is_unquoted_value("a b"));
        assert!(!is_unquoted_value(""));
    }
}
