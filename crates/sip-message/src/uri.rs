//! SIP, SIPS and TEL URIs (RFC 3261 §19.1, RFC 3966), parsed into slices of the input.
//!
//! Any other absolute URI (`http:`, `isbn:`, `nobodyKnowsThisScheme:`) parses as
//! [`Scheme::Other`] with its text kept whole: a header may carry one, and it is up to the
//! element to refuse it where it matters (416 for a Request-URI, RFC 4475 §3.3.2).

use crate::message::Span;
use crate::params::Params;
use crate::text::{class, escapes_valid, is};

/// The URI scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `sip:`
    Sip,
    /// `sips:`
    Sips,
    /// `tel:` (RFC 3966)
    Tel,
    /// Any other scheme.
    Other,
}

/// A parsed URI. All fields borrow from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uri<'a> {
    /// The whole URI as written.
    pub raw: &'a str,
    /// The scheme.
    pub scheme: Scheme,
    /// The user part (SIP/SIPS) or the number (TEL), still %-escaped.
    pub user: Option<&'a str>,
    /// The password of the userinfo, if any (deprecated, but legal).
    pub password: Option<&'a str>,
    /// The host: a name, an IPv4 address, or an IPv6 reference with brackets. Empty for TEL
    /// and other schemes.
    pub host: &'a str,
    /// The port, if written.
    pub port: Option<u16>,
    /// The URI parameters, starting with `;` (or empty).
    pub params: &'a str,
    /// The headers after `?`, without the `?`.
    pub headers: Option<&'a str>,
}

/// Why a URI did not parse.
pub type UriError = &'static str;

fn is_user_char(b: u8) -> bool {
    is(b, class::USER)
}

fn is_password_char(b: u8) -> bool {
    is(b, class::PASSWORD)
}

fn is_param_char(b: u8) -> bool {
    is(b, class::PARAM)
}

fn is_header_char(b: u8) -> bool {
    is(b, class::HEADER)
}

fn is_host_char(b: u8) -> bool {
    is(b, class::HOST)
}

impl<'a> Uri<'a> {
    /// Parses a Request-URI as a Request-Line may carry it (RFC 3261 §25.1): no
    /// whitespace, and no `?headers`. The parser checks received requests with it, and
    /// the proxy the Request-URIs it writes into forwarded ones.
    pub fn parse_request_uri(s: &'a str) -> Result<Uri<'a>, UriError> {
        if s.is_empty() || s.bytes().any(|b| b == b' ' || b == b'\t') {
            return Err("contains whitespace");
        }
        let uri = Uri::parse(s)?;
        if uri.headers.is_some() {
            return Err("headers are not allowed in a Request-URI");
        }
        Ok(uri)
    }

    /// Parses a URI. The input must not contain surrounding whitespace or `<>`.
    pub fn parse(s: &'a str) -> Result<Uri<'a>, UriError> {
        let colon = s.find(':').ok_or("no scheme")?;
        let scheme_str = &s[..colon];
        let sb = scheme_str.as_bytes();
        if sb.is_empty()
            || !sb[0].is_ascii_alphabetic()
            || !sb
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            return Err("bad scheme");
        }
        let rest = &s[colon + 1..];
        let scheme = if scheme_str.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme_str.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if scheme_str.eq_ignore_ascii_case("tel") {
            Scheme::Tel
        } else {
            Scheme::Other
        };
        match scheme {
            Scheme::Sip | Scheme::Sips => parse_sip(s, scheme, rest),
            Scheme::Tel => parse_tel(s, rest),
            Scheme::Other => {
                if rest.is_empty()
                    || rest
                        .bytes()
                        .any(|b| b <= b' ' || matches!(b, b'<' | b'>' | b'"' | 0x7f))
                {
                    return Err("bad absolute URI");
                }
                Ok(Uri {
                    raw: s,
                    scheme,
                    user: None,
                    password: None,
                    host: "",
                    port: None,
                    params: "",
                    headers: None,
                })
            }
        }
    }

    /// True for `sip:` and `sips:` URIs.
    pub fn is_sip(&self) -> bool {
        matches!(self.scheme, Scheme::Sip | Scheme::Sips)
    }

    /// Looks up a URI parameter (case-insensitive name). `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        Params::get(self.params, name)
    }

    /// True when the URI has the `lr` parameter (a loose router, RFC 3261 §16.12).
    pub fn is_loose_router(&self) -> bool {
        self.param("lr").is_some()
    }

    /// The `transport` parameter, lowercased comparison left to the caller.
    pub fn transport_param(&self) -> Option<&'a str> {
        self.param("transport").flatten()
    }

    /// The host without IPv6 brackets.
    pub fn host_unbracketed(&self) -> &'a str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }
}

fn parse_sip<'a>(raw: &'a str, scheme: Scheme, rest: &'a str) -> Result<Uri<'a>, UriError> {
    let (userinfo, hostpart) = match rest.find('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(ui) => {
            let (u, p) = match ui.find(':') {
                Some(c) => (&ui[..c], Some(&ui[c + 1..])),
                None => (ui, None),
            };
            if u.is_empty() || !u.bytes().all(is_user_char) || !escapes_valid(u.as_bytes()) {
                return Err("bad user part");
            }
            if let Some(p) = p {
                if !p.bytes().all(is_password_char) || !escapes_valid(p.as_bytes()) {
                    return Err("bad password");
                }
            }
            (Some(u), p)
        }
    };
    let hb = hostpart.as_bytes();
    let (host, mut i) = if hb.first() == Some(&b'[') {
        let close = hostpart.find(']').ok_or("unterminated IPv6 reference")?;
        let inner = &hostpart[1..close];
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err("bad IPv6 reference");
        }
        (&hostpart[..close + 1], close + 1)
    } else {
        let mut j = 0;
        while j < hb.len() && is_host_char(hb[j]) {
            j += 1;
        }
        (&hostpart[..j], j)
    };
    if host.is_empty() {
        return Err("empty host");
    }
    let mut port = None;
    if i < hb.len() && hb[i] == b':' {
        let start = i + 1;
        let mut j = start;
        while j < hb.len() && hb[j].is_ascii_digit() {
            j += 1;
        }
        if j == start || j - start > 5 {
            return Err("bad port");
        }
        port = Some(hostpart[start..j].parse::<u16>().map_err(|_| "bad port")?);
        i = j;
    }
    let tail = &hostpart[i..];
    let (params, headers) = match tail.find('?') {
        Some(q) => (&tail[..q], Some(&tail[q + 1..])),
        None => (tail, None),
    };
    if !params.is_empty() {
        if !params.starts_with(';') {
            return Err("unexpected character after host");
        }
        if !params.bytes().all(is_param_char) || !escapes_valid(params.as_bytes()) {
            return Err("bad URI parameter");
        }
        Params::validate(params)?;
    }
    if let Some(h) = headers {
        if h.is_empty() || !h.bytes().all(is_header_char) || !escapes_valid(h.as_bytes()) {
            return Err("bad URI header");
        }
    }
    Ok(Uri {
        raw,
        scheme,
        user,
        password,
        host,
        port,
        params,
        headers,
    })
}

fn parse_tel<'a>(raw: &'a str, rest: &'a str) -> Result<Uri<'a>, UriError> {
    let end = rest.find(';').unwrap_or(rest.len());
    let number = &rest[..end];
    if number.is_empty()
        || !number.bytes().all(|b| {
            b.is_ascii_hexdigit() || matches!(b, b'+' | b'-' | b'.' | b'(' | b')' | b'*' | b'#')
        })
    {
        return Err("bad telephone number");
    }
    let params = &rest[end..];
    if !params.bytes().all(is_param_char) {
        return Err("bad URI parameter");
    }
    Params::validate(params)?;
    Ok(Uri {
        raw,
        scheme: Scheme::Tel,
        user: Some(number),
        password: None,
        host: "",
        port: None,
        params,
        headers: None,
    })
}

/// A parsed URI kept as ranges of the text it was parsed from (see `ViaSpans`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UriSpans {
    raw: Span,
    host: Span,
    params: Span,
    user: Option<Span>,
    password: Option<Span>,
    headers: Option<Span>,
    port: Option<u16>,
    scheme: Scheme,
}

impl UriSpans {
    /// `uri`'s parts as ranges of `base`.
    pub(crate) fn of(base: &str, uri: &Uri<'_>) -> UriSpans {
        UriSpans {
            raw: Span::within(base, uri.raw),
            host: Span::within(base, uri.host),
            params: Span::within(base, uri.params),
            user: Span::within_opt(base, uri.user),
            password: Span::within_opt(base, uri.password),
            headers: Span::within_opt(base, uri.headers),
            port: uri.port,
            scheme: uri.scheme,
        }
    }

    /// The URI again, over the same `base`.
    pub(crate) fn get<'a>(&self, base: &'a str) -> Uri<'a> {
        let at = |s: Span| &base[s.range()];
        Uri {
            raw: at(self.raw),
            scheme: self.scheme,
            user: self.user.map(at),
            password: self.password.map(at),
            host: at(self.host),
            port: self.port,
            params: at(self.params),
            headers: self.headers.map(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_uris_refuse_whitespace_and_headers() {
        assert_eq!(
            Uri::parse_request_uri("sip:bob@example.com;transport=tcp").map(|u| u.host),
            Ok("example.com")
        );
        assert_eq!(Uri::parse_request_uri(""), Err("contains whitespace"));
        assert_eq!(
            Uri::parse_request_uri("sip:bob @example.com"),
            Err("contains whitespace")
        );
        assert_eq!(
            Uri::parse_request_uri("sip:bob@example.com?Subject=hi"),
            Err("headers are not allowed in a Request-URI")
        );
        assert!(Uri::parse("sip:bob@example.com?Subject=hi").is_ok());
        assert_eq!(
            Uri::parse_request_uri("bob@example.com").err(),
            Uri::parse("bob@example.com").err()
        );
    }

    #[test]
    fn sip_uri_parts() {
        let u =
            Uri::parse("sip:alice:secret@[2001:db8::1]:5070;transport=tcp;lr?Subject=hi").unwrap();
        assert_eq!(u.scheme, Scheme::Sip);
        assert_eq!(u.user, Some("alice"));
        assert_eq!(u.password, Some("secret"));
        assert_eq!(u.host, "[2001:db8::1]");
        assert_eq!(u.host_unbracketed(), "2001:db8::1");
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.transport_param(), Some("tcp"));
        assert!(u.is_loose_router());
        assert_eq!(u.headers, Some("Subject=hi"));
    }

    #[test]
    fn odd_but_valid() {
        let u = Uri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user, Some("user;par=u%40example.net"));
        assert_eq!(u.host, "example.com");
        let u = Uri::parse("SIPS:example.com").unwrap();
        assert_eq!(u.scheme, Scheme::Sips);
        let u = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(u.user, Some("+1-201-555-0123"));
        let u = Uri::parse("nobodyKnowsThisScheme:totallyopaquecontent").unwrap();
        assert_eq!(u.scheme, Scheme::Other);
    }

    #[test]
    fn rejects() {
        for bad in [
            "<sip:a@b>",
            "sip:",
            "sip:a@",
            "sip:user@example.com; lr",
            "sip:a@b:99999",
            "sip:a%2@b",
            "sip:a@b;;",
            "sip:a b@c",
            "sip:a@b?",
            "1sip:a@b",
            "tel:",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad}");
        }
    }
}
