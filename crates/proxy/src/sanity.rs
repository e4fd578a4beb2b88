//! The first stage: requests a proxy must refuse before doing anything else.

use sip_message::{HeaderName, Method, Scheme, SipMessage};

/// A refusal: status, reason phrase and an optional extra header field (name, value).
pub(crate) type Refusal = (u16, &'static str, Option<(&'static str, String)>);

/// RFC 3261 §16.3 request validation: Request-URI scheme (416), Max-Forwards (483) and
/// Proxy-Require (420). Loop detection needs the proxy's identity and runs next.
pub(crate) fn check(req: &SipMessage) -> Result<(), Refusal> {
    match req.request_uri() {
        Some(u) if matches!(u.scheme, Scheme::Sip | Scheme::Sips | Scheme::Tel) => {}
        _ => return Err((416, "Unsupported URI Scheme", None)),
    }
    if req.max_forwards() == Some(0) && req.method() != Method::Ack {
        return Err((483, "Too Many Hops", None));
    }
    let unsupported: Vec<&str> = req
        .header_values(HeaderName::ProxyRequire)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if !unsupported.is_empty() {
        return Err((
            420,
            "Bad Extension",
            Some(("Unsupported", unsupported.join(", "))),
        ));
    }
    Ok(())
}

/// The registrar is the endpoint of a REGISTER: it must refuse Require options it does not
/// know (RFC 3261 §8.2.2.3). `path` (RFC 3327) is supported.
pub(crate) fn check_require_for_registrar(req: &SipMessage) -> Result<(), Refusal> {
    let unsupported: Vec<&str> = req
        .header_values(HeaderName::Require)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|t| {
            !t.is_empty() && !t.eq_ignore_ascii_case("path") && !t.eq_ignore_ascii_case("outbound")
        })
        .collect();
    if unsupported.is_empty() {
        Ok(())
    } else {
        Err((
            420,
            "Bad Extension",
            Some(("Unsupported", unsupported.join(", "))),
        ))
    }
}
