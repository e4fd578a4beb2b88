//! `name-addr` / `addr-spec` values: From, To, Contact, Route, Record-Route, Refer-To, Path
//! (RFC 3261 §20.10, §25.1).

use crate::message::Span;
use crate::params::Params;
use crate::text::{is_lws, is_token, quoted_end, split_commas, trim_lws, trim_lws_start};
use crate::uri::{Uri, UriSpans};

/// An address with optional display name and header parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name as written (a quoted string keeps its quotes), if any.
    pub display: Option<&'a str>,
    /// The URI.
    pub uri: Uri<'a>,
    /// The header parameters (`;tag=...;expires=...`), starting with `;`, or empty.
    pub params: &'a str,
    /// Whether the URI was written inside `<>`.
    pub bracketed: bool,
}

/// Why a name-addr did not parse.
pub type NameAddrError = &'static str;

impl<'a> NameAddr<'a> {
    /// Parses a single name-addr or addr-spec with its parameters.
    pub fn parse(value: &'a str) -> Result<NameAddr<'a>, NameAddrError> {
        Self::parse_finding(value, "").map(|(na, _)| na)
    }

    /// [`NameAddr::parse`], and the value of the header parameter `name` (as
    /// [`NameAddr::param`] gives it) found while checking the parameters.
    pub(crate) fn parse_finding(
        value: &'a str,
        name: &str,
    ) -> Result<(NameAddr<'a>, Option<Option<&'a str>>), NameAddrError> {
        let s = trim_lws(value);
        if s.is_empty() {
            return Err("empty value");
        }
        let b = s.as_bytes();
        let mut display = None;
        let mut i = 0;
        if b[0] == b'"' {
            let end = quoted_end(b).ok_or("unterminated quoted display name")?;
            display = Some(&s[..end]);
            i = end;
            while i < b.len() && is_lws(b[i]) {
                i += 1;
            }
            if i >= b.len() || b[i] != b'<' {
                return Err("display name not followed by <URI>");
            }
        } else {
            // Display name made of tokens and LWS, if a '<' follows them.
            let mut j = 0;
            while j < b.len() && (is_token(b[j]) || is_lws(b[j])) {
                j += 1;
            }
            if j < b.len() && b[j] == b'<' {
                let d = trim_lws(&s[..j]);
                if !d.is_empty() {
                    display = Some(d);
                }
                i = j;
            }
        }
        if i < b.len() && b[i] == b'<' {
            let close = s[i..].find('>').ok_or("missing '>'")? + i;
            let uri = Uri::parse(&s[i + 1..close])?;
            let params = &s[close + 1..];
            let found = Params::validate_finding(params, name)?;
            let na = NameAddr {
                display,
                uri,
                params,
                bracketed: true,
            };
            return Ok((na, found));
        }
        // addr-spec: the URI ends at the first ';' or whitespace; URIs with '?', ',' or ';'
        // of their own must be enclosed in <> (RFC 3261 §20.10).
        let end = b
            .iter()
            .position(|&c| c == b';' || is_lws(c))
            .unwrap_or(b.len());
        let uri_str = &s[..end];
        if uri_str.contains('?') {
            return Err("URI with headers must be enclosed in <>");
        }
        let uri = Uri::parse(uri_str)?;
        let params = &s[end..];
        let found = Params::validate_finding(params, name)?;
        let na = NameAddr {
            display,
            uri,
            params,
            bracketed: false,
        };
        Ok((na, found))
    }

    /// Looks up a header parameter. `Some(None)` for a flag parameter.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        Params::get(self.params, name)
    }

    /// The `tag` parameter (From/To).
    pub fn tag(&self) -> Option<&'a str> {
        self.param("tag").flatten()
    }
}

/// A parsed name-addr kept as ranges of the text it was parsed from (see `ViaSpans`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameAddrSpans {
    uri: UriSpans,
    display: Option<Span>,
    params: Span,
    bracketed: bool,
}

impl NameAddrSpans {
    /// `na`'s parts as ranges of `base`.
    pub(crate) fn of(base: &str, na: &NameAddr<'_>) -> NameAddrSpans {
        NameAddrSpans {
            uri: UriSpans::of(base, &na.uri),
            display: Span::within_opt(base, na.display),
            params: Span::within(base, na.params),
            bracketed: na.bracketed,
        }
    }

    /// The name-addr again, over the same `base`.
    pub(crate) fn get<'a>(&self, base: &'a str) -> NameAddr<'a> {
        NameAddr {
            display: self.display.map(|s| &base[s.range()]),
            uri: self.uri.get(base),
            params: &base[self.params.range()],
            bracketed: self.bracketed,
        }
    }
}

/// One value of a Contact header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactValue<'a> {
    /// `Contact: *` (only valid in a REGISTER with Expires: 0).
    Star,
    /// An address.
    Addr(NameAddr<'a>),
}

impl<'a> ContactValue<'a> {
    /// Parses one Contact value.
    pub fn parse(value: &'a str) -> Result<ContactValue<'a>, NameAddrError> {
        if trim_lws(value) == "*" {
            Ok(ContactValue::Star)
        } else {
            NameAddr::parse(value).map(ContactValue::Addr)
        }
    }
}

/// Parses a comma-separated list of Contact values (one header line).
pub fn parse_contact_list(
    value: &str,
) -> impl Iterator<Item = Result<ContactValue<'_>, NameAddrError>> {
    split_commas(value).map(|(_, v)| ContactValue::parse(trim_lws_start(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let n = NameAddr::parse(
            "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
        )
        .unwrap();
        assert_eq!(n.display, Some("\"J Rosenberg \\\\\\\"\""));
        assert_eq!(n.uri.host, "example.com");
        assert_eq!(n.tag(), Some("98asjd8"));
        let n = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(n.display, Some("caller"));
        let n = NameAddr::parse("sip:+1972@gw1.example.net;unknownparam").unwrap();
        assert!(!n.bracketed);
        assert_eq!(n.uri.params, "");
        assert_eq!(n.param("unknownparam"), Some(None));
        let n = NameAddr::parse("<sip:+1972@gw1.example.net;unknownparam>").unwrap();
        assert_eq!(n.uri.param("unknownparam"), Some(None));
        assert_eq!(n.params, "");
    }

    #[test]
    fn bad() {
        for v in [
            "\"Mr. J. User <sip:j.user@example.com>",
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "\"Watson, Thomas\" < sip:t.watson@example.org >",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "<sip:a@b>;;",
            "",
        ] {
            assert!(NameAddr::parse(v).is_err(), "{v}");
        }
    }

    #[test]
    fn contact_list() {
        let v: Vec<_> = parse_contact_list("<sip:a@b>;q=0.5, \"x, y\" <sip:c@d>, *")
            .map(|c| c.unwrap())
            .collect();
        assert_eq!(v.len(), 3);
        assert_eq!(v[2], ContactValue::Star);
    }
}
