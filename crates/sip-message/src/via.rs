//! The Via header value (RFC 3261 §20.42, RFC 3581 rport).

use crate::message::Span;
use crate::params::Params;
use crate::text::{is_lws, is_token, trim_lws};

/// One Via value, e.g. `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    /// The transport token (`UDP`, `TCP`, `TLS`, `WS`, ...), as written.
    pub transport: &'a str,
    /// The sent-by host (IPv6 with brackets).
    pub host: &'a str,
    /// The sent-by port, if written.
    pub port: Option<u16>,
    /// Parameters starting with `;`, or empty.
    pub params: &'a str,
}

/// The RFC 3261 magic cookie that starts every compliant branch.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

fn skip(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_lws(b[i]) {
        i += 1;
    }
    i
}

fn token(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_token(b[i]) {
        i += 1;
    }
    i
}

impl<'a> Via<'a> {
    /// Parses one Via value (already split from its neighbours).
    pub fn parse(value: &'a str) -> Result<Via<'a>, &'static str> {
        Self::parse_finding(value, "").map(|(via, _)| via)
    }

    /// [`Via::parse`], and the value of the parameter `name` (as [`Via::param`] gives it)
    /// found while checking the parameters.
    pub(crate) fn parse_finding(
        value: &'a str,
        name: &str,
    ) -> Result<(Via<'a>, Option<Option<&'a str>>), &'static str> {
        let s = trim_lws(value);
        let b = s.as_bytes();
        // sent-protocol = name SLASH version SLASH transport, SLASH allowing LWS around it.
        let e = token(b, 0);
        if e == 0 || !s[..e].eq_ignore_ascii_case("SIP") {
            return Err("bad protocol name");
        }
        let mut i = skip(b, e);
        if b.get(i) != Some(&b'/') {
            return Err("expected '/'");
        }
        i = skip(b, i + 1);
        let v_end = token(b, i);
        if v_end == i {
            return Err("missing protocol version");
        }
        i = skip(b, v_end);
        if b.get(i) != Some(&b'/') {
            return Err("expected '/'");
        }
        i = skip(b, i + 1);
        let t_end = token(b, i);
        if t_end == i {
            return Err("missing transport");
        }
        let transport = &s[i..t_end];
        i = skip(b, t_end);
        if i == t_end {
            return Err("missing sent-by");
        }
        let h_start = i;
        if b.get(i) == Some(&b'[') {
            while i < b.len() && b[i] != b']' {
                i += 1;
            }
            if i == b.len() {
                return Err("unterminated IPv6 reference");
            }
            i += 1;
        } else {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'-' | b'.' | b'_'))
            {
                i += 1;
            }
        }
        if i == h_start {
            return Err("missing host");
        }
        let host = &s[h_start..i];
        let mut j = skip(b, i);
        let mut port = None;
        if b.get(j) == Some(&b':') {
            j = skip(b, j + 1);
            let p_start = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j == p_start || j - p_start > 5 {
                return Err("bad port");
            }
            port = Some(s[p_start..j].parse::<u16>().map_err(|_| "bad port")?);
        } else {
            j = i;
        }
        let params = &s[j..];
        let found = Params::validate_finding(params, name)?;
        let via = Via {
            transport,
            host,
            port,
            params,
        };
        Ok((via, found))
    }

    /// Looks up a parameter.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        Params::get(self.params, name)
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.param("branch").flatten()
    }

    /// The received parameter.
    pub fn received(&self) -> Option<&'a str> {
        self.param("received").flatten()
    }

    /// `Some(None)` for a bare `rport` (the client asks for it), `Some(Some(port))` when set.
    pub fn rport(&self) -> Option<Option<&'a str>> {
        self.param("rport")
    }

    /// The maddr parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.param("maddr").flatten()
    }

    /// True when the branch starts with the RFC 3261 magic cookie.
    pub fn is_rfc3261(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(MAGIC_COOKIE))
    }
}

/// A parsed Via kept as ranges of its message's header section, so that reading the top
/// Via again (a proxy does it several times per message) costs no parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ViaSpans {
    transport: Span,
    host: Span,
    params: Span,
    port: Option<u16>,
}

impl ViaSpans {
    /// `via`'s parts as ranges of `base`, the text it was parsed from.
    pub(crate) fn of(base: &str, via: &Via<'_>) -> ViaSpans {
        let at = |part| Span::within(base, part);
        ViaSpans {
            transport: at(via.transport),
            host: at(via.host),
            params: at(via.params),
            port: via.port,
        }
    }

    /// The Via again, over the same `base`.
    pub(crate) fn get<'a>(&self, base: &'a str) -> Via<'a> {
        Via {
            transport: &base[self.transport.range()],
            host: &base[self.host.range()],
            port: self.port,
            params: &base[self.params.range()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_and_spaced() {
        let v = Via::parse("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, "192.0.2.2");
        assert_eq!(v.branch(), Some("390skdjuw"));
        let v = Via::parse(
            "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ",
        )
        .unwrap();
        assert_eq!(v.host, "spindle.example.com");
        assert!(v.is_rfc3261());
        let v = Via::parse("SIP/2.0/UDP [2001:db8::9]:5070;rport;received=2001:db8::1").unwrap();
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.received(), Some("2001:db8::1"));
    }

    #[test]
    fn bad() {
        for v in [
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/2.0/UDP",
            "SIP/2.0 UDP h",
            "SIP/2.0/UDP h:x",
            "HTTP/1.1/TCP h",
        ] {
            assert!(Via::parse(v).is_err(), "{v}");
        }
    }
}
