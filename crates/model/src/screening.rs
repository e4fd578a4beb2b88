//! Call screening rules (RFC 5359 §2.13, §2.14): which calls a rule applies to, the
//! patterns it matches (`user@domain`, `@domain`, a number prefix, anonymous), and their
//! stored text. The setting names and the other call services are `settings.rs`'s; the
//! proxy's screening stage applies the rules.

use std::fmt;

use crate::aor::AddressOfRecord;
use crate::error::StoreError;
use crate::settings::{SCREEN_INCOMING, SCREEN_OUTGOING};
use crate::validate;

/// Which calls a screening rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScreenDirection {
    /// Calls to the user, matched on the caller (§2.13).
    Incoming,
    /// Calls by the user, matched on the callee (§2.14).
    Outgoing,
}

/// What a screening rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScreenPattern {
    /// One address, `alice@example.com`.
    User(AddressOfRecord),
    /// A whole domain, `@example.net` (stored lowercase, without the `@`).
    Domain(String),
    /// Numbers starting with a prefix, `+1900*` (stored without the `*`).
    Prefix(String),
    /// Callers who hide their identity: From `anonymous@anonymous.invalid` or
    /// `Privacy: id`.
    Anonymous,
}

impl ScreenPattern {
    /// Parses `user@domain`, `@domain`, `PREFIX*` or `anonymous`.
    pub fn parse(s: &str) -> Result<ScreenPattern, StoreError> {
        let s = s.trim();
        let bad = |why: &str| StoreError::Invalid {
            field: "pattern",
            why: format!("{s:?}: {why}"),
        };
        if s.eq_ignore_ascii_case("anonymous") {
            return Ok(ScreenPattern::Anonymous);
        }
        if let Some(d) = s.strip_prefix('@') {
            if d.is_empty() || d.contains(['@', ' ', ';', '*']) {
                return Err(bad("expected @domain"));
            }
            return validate::check_host("pattern", d).map(ScreenPattern::Domain);
        }
        if let Some(p) = s.strip_suffix('*') {
            let digits = p.strip_prefix('+').unwrap_or(p);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("a prefix is digits, optionally after +, then *"));
            }
            return Ok(ScreenPattern::Prefix(p.to_string()));
        }
        let aor = AddressOfRecord::parse(s).ok_or_else(|| {
            bad("expected user@domain, @domain, a number prefix like +1900*, or anonymous")
        })?;
        validate::check_user_part("pattern", &aor.user)?;
        validate::check_host("pattern", &aor.domain)?;
        Ok(ScreenPattern::User(aor))
    }

    /// Whether the party `user@host` (user may be absent), anonymous or not, matches.
    pub fn matches(&self, user: Option<&str>, host: &str, anonymous: bool) -> bool {
        match self {
            ScreenPattern::Anonymous => anonymous,
            ScreenPattern::User(a) => {
                user == Some(a.user.as_str()) && host.eq_ignore_ascii_case(&a.domain)
            }
            ScreenPattern::Domain(d) => host.eq_ignore_ascii_case(d),
            ScreenPattern::Prefix(p) => user.is_some_and(|u| {
                let number: String = u.chars().filter(|c| !matches!(c, '-' | '.')).collect();
                number.starts_with(p.as_str())
            }),
        }
    }
}

impl fmt::Display for ScreenPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScreenPattern::User(a) => write!(f, "{a}"),
            ScreenPattern::Domain(d) => write!(f, "@{d}"),
            ScreenPattern::Prefix(p) => write!(f, "{p}*"),
            ScreenPattern::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// One screening rule: block calls in `direction` matching `pattern`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScreenRule {
    /// Incoming or outgoing.
    pub direction: ScreenDirection,
    /// What is blocked.
    pub pattern: ScreenPattern,
}

/// The stored value of a screening list.
pub fn encode_patterns(patterns: &[ScreenPattern]) -> String {
    patterns
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The setting name holding the rules of `direction`.
pub fn screen_setting(direction: ScreenDirection) -> &'static str {
    match direction {
        ScreenDirection::Incoming => SCREEN_INCOMING,
        ScreenDirection::Outgoing => SCREEN_OUTGOING,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_parse_and_match() {
        let u = ScreenPattern::parse("alice@Example.com").unwrap();
        assert!(u.matches(Some("alice"), "example.com", false));
        assert!(!u.matches(Some("bob"), "example.com", false));
        let d = ScreenPattern::parse("@Example.NET").unwrap();
        assert_eq!(d.to_string(), "@example.net");
        assert!(d.matches(Some("x"), "example.net", false));
        let p = ScreenPattern::parse("+1900*").unwrap();
        assert!(p.matches(Some("+19005551234"), "gw.example.com", false));
        assert!(!p.matches(Some("+18005551234"), "gw.example.com", false));
        assert!(ScreenPattern::parse("anonymous").unwrap().matches(
            None,
            "anonymous.invalid",
            true
        ));
        for bad in [
            "",
            "@",
            "19x*",
            "*",
            "nobody",
            "@a..b",
            "x@256.1.1.1",
            "@spam.example:5060",
        ] {
            assert!(ScreenPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
