//! Typed views of the headers a SIP element acts on beyond routing: token lists
//! (Require, Supported, Unsupported, Allow, Proxy-Require), Content-Type, Event,
//! Replaces/Join, and URI lists (Error-Info, Alert-Info, Call-Info). Each parses a header
//! value on demand into slices of it; malformed input gives an error naming the defect.

use crate::params::Params;
use crate::text::{is_lws, is_token, split_commas, trim_lws};
use crate::NameAddr;

/// Why a typed header value did not parse.
pub type TypedError = &'static str;

/// The tokens of a comma-separated token list (`Require: 100rel, timer`), validated.
pub fn token_list(value: &str) -> Result<Vec<&str>, TypedError> {
    let mut out = Vec::new();
    for (_, piece) in split_commas(value) {
        let t = trim_lws(piece);
        if t.is_empty() {
            continue; // empty elements are tolerated in lists (RFC 3261 §7.3.1)
        }
        if !t.bytes().all(is_token) {
            return Err("list element is not a token");
        }
        out.push(t);
    }
    Ok(out)
}

fn split_token_params(value: &str) -> (&str, &str) {
    let v = trim_lws(value);
    let end = v
        .bytes()
        .position(|b| b == b';' || is_lws(b))
        .unwrap_or(v.len());
    (&v[..end], &v[end..])
}

/// `Content-Type: type/subtype;params` (RFC 3261 §20.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// e.g. `application`
    pub kind: &'a str,
    /// e.g. `sdp`
    pub subtype: &'a str,
    /// Parameters, starting with `;`, or empty.
    pub params: &'a str,
}

impl<'a> MediaType<'a> {
    /// Parses a media type.
    pub fn parse(value: &'a str) -> Result<Self, TypedError> {
        let v = trim_lws(value);
        let slash = v.find('/').ok_or("media type without '/'")?;
        let kind = trim_lws(&v[..slash]);
        let rest = trim_lws(&v[slash + 1..]);
        let end = rest
            .bytes()
            .position(|b| b == b';' || is_lws(b))
            .unwrap_or(rest.len());
        let subtype = &rest[..end];
        let params = &rest[end..];
        if kind.is_empty()
            || subtype.is_empty()
            || !kind.bytes().all(is_token)
            || !subtype.bytes().all(is_token)
        {
            return Err("media type is not token/token");
        }
        Params::validate(params)?;
        Ok(MediaType {
            kind,
            subtype,
            params,
        })
    }

    /// True for `type/subtype`, ignoring case.
    pub fn is(&self, kind: &str, subtype: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind) && self.subtype.eq_ignore_ascii_case(subtype)
    }
}

/// `Event: package[.template];id=...` (RFC 6665 §8.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// The event package, e.g. `dialog`, `presence`, `message-summary`, `refer`.
    pub package: &'a str,
    /// Parameters, starting with `;`, or empty.
    pub params: &'a str,
}

impl<'a> Event<'a> {
    /// Parses an Event value (`o` compact form carries the same).
    pub fn parse(value: &'a str) -> Result<Self, TypedError> {
        let (package, params) = split_token_params(value);
        if package.is_empty() || !package.bytes().all(is_token) {
            return Err("event package is not a token");
        }
        Params::validate(params)?;
        Ok(Event { package, params })
    }

    /// The `id` parameter.
    pub fn id(&self) -> Option<&'a str> {
        Params::get(self.params, "id").flatten()
    }
}

/// `Replaces` (RFC 3891) and `Join` (RFC 3911): a dialog named by Call-ID and tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialogRef<'a> {
    /// Call-ID of the dialog.
    pub call_id: &'a str,
    /// `to-tag`.
    pub to_tag: &'a str,
    /// `from-tag`.
    pub from_tag: &'a str,
    /// `early-only` (Replaces).
    pub early_only: bool,
}

impl<'a> DialogRef<'a> {
    /// Parses a Replaces or Join value; both tags are mandatory.
    pub fn parse(value: &'a str) -> Result<Self, TypedError> {
        let v = trim_lws(value);
        let end = v.find(';').unwrap_or(v.len());
        let call_id = trim_lws(&v[..end]);
        if call_id.is_empty() || call_id.bytes().any(is_lws) {
            return Err("missing Call-ID");
        }
        let params = &v[end..];
        Params::validate(params)?;
        let to_tag = Params::get(params, "to-tag")
            .flatten()
            .ok_or("missing to-tag")?;
        let from_tag = Params::get(params, "from-tag")
            .flatten()
            .ok_or("missing from-tag")?;
        let early_only = Params::get(params, "early-only").is_some();
        Ok(DialogRef {
            call_id,
            to_tag,
            from_tag,
            early_only,
        })
    }
}

/// The URIs of an Error-Info / Alert-Info / Call-Info value (`<uri>;params, ...`).
pub fn uri_list(value: &str) -> Result<Vec<NameAddr<'_>>, TypedError> {
    let mut out = Vec::new();
    for (_, piece) in split_commas(value) {
        let na = NameAddr::parse(piece)?;
        if !na.bracketed {
            return Err("URI must be enclosed in <>");
        }
        out.push(na);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_types() {
        assert_eq!(
            token_list("100rel, timer ,path").unwrap(),
            vec!["100rel", "timer", "path"]
        );
        assert!(token_list("a b").is_err());
        let ct = MediaType::parse("Application/SDP ; charset=utf-8").unwrap();
        assert!(ct.is("application", "sdp"));
        assert_eq!(ct.params.trim_start(), "; charset=utf-8");
        assert_eq!(ct.params.trim_start().len(), 15);
        assert!(MediaType::parse("sdp").is_err());
        let e = Event::parse("dialog;id=42").unwrap();
        assert_eq!((e.package, e.id()), ("dialog", Some("42")));
        let r = DialogRef::parse("425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only")
            .unwrap();
        assert_eq!(
            (r.call_id, r.to_tag, r.from_tag, r.early_only),
            ("425928@bobster.example.org", "7743", "6472", true)
        );
        assert!(DialogRef::parse("abc;to-tag=1").is_err());
        let l = uri_list("<sip:screening@example.com;lr>, <http://example.com/a.wav>").unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].uri.raw, "http://example.com/a.wav");
        assert!(uri_list("sip:x@y").is_err());
    }
}
