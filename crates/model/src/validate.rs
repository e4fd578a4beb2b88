//! Strict checks of the names and targets that enter the store: domains (RFC 1123 host
//! names or IP literals), SIP user parts, and external SIP URIs (`sip:user@host[:port]`).
//!
//! Every error is a [`StoreError::Invalid`] naming the field and quoting the value, e.g.
//! `invalid domain: "a..b": empty label`. This module knows nothing about what is stored:
//! whether a name is served or exists is the caller's question.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::StoreError;

/// Longest host name (RFC 1123 §2.1, RFC 1035 §2.3.4).
pub const MAX_HOSTNAME_LEN: usize = 253;
/// Longest label of a host name.
pub const MAX_LABEL_LEN: usize = 63;
/// Longest user part accepted.
pub const MAX_USER_LEN: usize = 128;

fn invalid(field: &'static str, value: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid {
        field,
        why: format!("{value:?}: {why}"),
    }
}

/// Checks a host: an RFC 1123 host name, an IPv4 address (four decimal octets, each at most
/// 255) or an IPv6 address, plain or in brackets. No scheme, no port, no trailing dot.
/// Returns it lowercased.
pub fn check_host(field: &'static str, host: &str) -> Result<String, StoreError> {
    let bad = |why: &str| invalid(field, host, why);
    if host.is_empty() {
        return Err(bad("empty"));
    }
    if host.contains("://") || host.starts_with("sip:") || host.starts_with("sips:") {
        return Err(bad("a name or an IP address only, without a scheme"));
    }
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| bad("unclosed '[' (an IPv6 address is written [2001:db8::1])"))?;
        return inner
            .parse::<Ipv6Addr>()
            .map(|_| host.to_ascii_lowercase())
            .map_err(|_| bad("not an IPv6 address"));
    }
    if host.contains(':') {
        // Two or more colons can only be IPv6; one is a port.
        if host.matches(':').count() >= 2 {
            return host
                .parse::<Ipv6Addr>()
                .map(|_| host.to_ascii_lowercase())
                .map_err(|_| bad("not an IPv6 address"));
        }
        return Err(bad("a name or an IP address only, without a port"));
    }
    // All digits and dots: an IPv4 address, which must be a valid one (256.1.1.1 is
    // neither an address nor, with its numeric last label, a host name).
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return host
            .parse::<Ipv4Addr>()
            .map(|_| host.to_string())
            .map_err(|_| bad("not a valid IPv4 address"));
    }
    if host.len() > MAX_HOSTNAME_LEN {
        return Err(bad("longer than 253 characters"));
    }
    if host.ends_with('.') {
        return Err(bad("trailing dot"));
    }
    for label in host.split('.') {
        if label.is_empty() {
            return Err(bad("empty label"));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(invalid(
                field,
                host,
                format!("label {label:?} is longer than 63 characters"),
            ));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(invalid(
                field,
                host,
                format!("label {label:?} has characters other than letters, digits and '-'"),
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(invalid(
                field,
                host,
                format!("label {label:?} starts or ends with '-'"),
            ));
        }
    }
    Ok(host.to_ascii_lowercase())
}

/// Checks a domain served here (see [`check_host`]); returns it lowercased.
pub fn check_domain(domain: &str) -> Result<String, StoreError> {
    check_host("domain", domain.trim())
}

/// Whether a byte may appear unescaped in a SIP user part (RFC 3261 §25.1: unreserved and
/// user-unreserved characters).
fn is_user_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_'
                | b'.'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
                | b'('
                | b')'
                | b'&'
                | b'='
                | b'+'
                | b'$'
                | b','
                | b';'
                | b'?'
                | b'/'
        )
}

/// Checks a SIP user part (`field` names it in the error).
pub fn check_user_part(field: &'static str, user: &str) -> Result<(), StoreError> {
    if user.is_empty() {
        return Err(invalid(field, user, "empty"));
    }
    if user.len() > MAX_USER_LEN {
        return Err(invalid(field, user, "longer than 128 characters"));
    }
    // ';', '?' and ',' are legal escaped-free in RFC 3261 but cut a user out of a URI on
    // the command line and in CSV files; refuse them here.
    if let Some(c) = user
        .chars()
        .find(|&c| !c.is_ascii() || !is_user_byte(c as u8) || matches!(c, ';' | '?' | ','))
    {
        return Err(invalid(
            field,
            user,
            format!("{c:?} is not allowed in a SIP user part"),
        ));
    }
    Ok(())
}

/// An external SIP URI, `sip:user@host[:port]` or `sip:host[:port]`, as checked by
/// [`parse_sip_uri`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// The user part, when present.
    pub user: Option<String>,
    /// The host, lowercased (IPv6 in brackets).
    pub host: String,
    /// The port, when present.
    pub port: Option<u16>,
}

/// Parses and checks `sip:[user@]host[:port][;params]`: the host is checked like a domain
/// and the port must be 1-65535. Parameters (`;transport=tcp`) are kept by the caller as
/// written, but must not contain spaces or angle brackets.
pub fn parse_sip_uri(field: &'static str, uri: &str) -> Result<SipUri, StoreError> {
    let rest = uri
        .strip_prefix("sip:")
        .ok_or_else(|| invalid(field, uri, "an external target is a sip: URI"))?;
    if rest.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')) {
        return Err(invalid(field, uri, "spaces, quotes and <> are not allowed"));
    }
    let rest = rest.split(['?']).next().unwrap_or_default();
    let (userinfo, hostpart) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let hostport = hostpart.split(';').next().unwrap_or_default();
    let user = match userinfo {
        Some(u) => {
            check_user_part(field, u)?;
            Some(u.to_string())
        }
        None => None,
    };
    let (host, port) = if let Some(after) = hostport.strip_prefix('[') {
        match after.split_once(']') {
            Some((h6, tail)) => {
                let port = match tail {
                    "" => None,
                    t => Some(t.strip_prefix(':').ok_or_else(|| {
                        invalid(field, uri, "unexpected text after the IPv6 address")
                    })?),
                };
                (format!("[{h6}]"), port)
            }
            None => return Err(invalid(field, uri, "unclosed '['")),
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hostport.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(invalid(field, uri, "no host in the SIP URI"));
    }
    let host = check_host(field, &host).map_err(|e| match e {
        StoreError::Invalid { why, .. } => invalid(field, uri, format!("host {why}")),
        e => e,
    })?;
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(invalid(field, uri, format!("port {p:?} is not 1-65535"))),
        },
    };
    Ok(SipUri { user, host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(r: Result<String, StoreError>) -> String {
        match r {
            Err(StoreError::Invalid { why, .. }) => why,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn domains_accepted() {
        for ok in [
            "example.com",
            "Example.COM",
            "a",
            "localhost",
            "a-b.c-d.example",
            "1x.example",
            "xn--bcher-kva.example",
            "127.0.0.1",
            "255.255.255.255",
            "::1",
            "[::1]",
            "2001:db8::1",
            "[2001:db8::1]",
            &format!("{}.example", "a".repeat(63)),
        ] {
            assert!(check_domain(ok).is_ok(), "{ok} should be accepted");
        }
        assert_eq!(check_domain("Example.COM").unwrap(), "example.com");
    }

    #[test]
    fn domains_refused_with_the_reason() {
        let long_label = format!("{}.example", "a".repeat(70));
        let too_long = vec!["abcdefghi"; 30].join(".");
        let cases: &[(&str, &str)] = &[
            ("a..b", "empty label"),
            (".com", "empty label"),
            ("foo.", "trailing dot"),
            ("256.1.1.1", "not a valid IPv4 address"),
            ("1.2.3", "not a valid IPv4 address"),
            (&long_label, "longer than 63"),
            ("example.net:5060", "without a port"),
            ("sip:example.net", "without a scheme"),
            ("http://example.net", "without a scheme"),
            ("-a.example", "starts or ends with '-'"),
            ("a-.example", "starts or ends with '-'"),
            ("my host", "characters other than"),
            ("a_b.example", "characters other than"),
            ("", "empty"),
            ("[::1", "unclosed"),
            ("[example.com]", "not an IPv6"),
            ("1:2:3", "not an IPv6"),
            (&too_long, "longer than 253"),
        ];
        for (bad, reason) in cases {
            let w = why(check_domain(bad));
            assert!(w.contains(reason), "{bad:?}: {w:?} should say {reason:?}");
            assert!(w.starts_with(&format!("{bad:?}")), "{w} quotes the value");
        }
        let e = check_domain("a..b").unwrap_err().to_string();
        assert_eq!(e, "invalid domain: \"a..b\": empty label");
    }

    #[test]
    fn user_parts() {
        for ok in ["alice", "15551234", "+15551234", "a.b-c_d", "o'neil"] {
            check_user_part("user", ok).unwrap();
        }
        for bad in ["", "a b", "a@b", "a;b", "é", "a:b", "<a>", &"x".repeat(129)] {
            assert!(check_user_part("user", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sip_uris() {
        let u = parse_sip_uri("target", "sip:desk@192.0.2.4:5060").unwrap();
        assert_eq!(
            u,
            SipUri {
                user: Some("desk".into()),
                host: "192.0.2.4".into(),
                port: Some(5060)
            }
        );
        let e = parse_sip_uri("target", "sip:bob@a..b")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid target: \"sip:bob@a..b\": host \"a..b\": empty label"
        );
        let u = parse_sip_uri("target", "sip:gw.Example.net;transport=tcp").unwrap();
        assert_eq!(
            (u.user, u.host.as_str(), u.port),
            (None, "gw.example.net", None)
        );
        let u = parse_sip_uri("target", "sip:+1555@[2001:db8::1]:5080").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[2001:db8::1]", Some(5080)));
        for bad in [
            "sip:",
            "sip:@example.net",
            "sip:x@a..b",
            "sip:x@256.1.1.1",
            "sip:x@example.net:0",
            "sip:x@example.net:70000",
            "sip:x@example.net:port",
            "tel:+1555",
            "sips:x@example.net",
            "sip:x y@example.net",
        ] {
            assert!(parse_sip_uri("target", bad).is_err(), "{bad:?}");
        }
    }

    /// Generated labels: every string built from valid labels is accepted, and breaking it
    /// (doubling a dot, a trailing dot, a port) is refused.
    #[test]
    fn generated_names() {
        let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789-";
        let mut seed: u32 = 12345;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as usize
        };
        for _ in 0..500 {
            let labels: Vec<String> = (0..1 + next() % 4)
                .map(|_| {
                    let len = 1 + next() % 20;
                    let mut l: String = (0..len)
                        .map(|_| alphabet[next() % alphabet.len()] as char)
                        .collect();
                    // first and last: a letter
                    l.replace_range(0..1, "x");
                    if l.len() > 1 {
                        let n = l.len();
                        l.replace_range(n - 1..n, "y");
                    }
                    l
                })
                .collect();
            let name = labels.join(".");
            assert!(check_domain(&name).is_ok(), "{name}");
            assert!(check_domain(&format!("{name}.")).is_err(), "{name}.");
            assert!(
                check_domain(&format!("{name}:5060")).is_err(),
                "{name}:5060"
            );
            assert!(check_domain(&name.replacen('.', "..", 1)).is_err() || labels.len() == 1);
        }
    }
}
