//! RFC 5626 outbound (§6): whether a REGISTER may register flows here. The flows
//! themselves (bindings keyed by `+sip.instance` and `reg-id`) are `register.rs`'s.

use sip_message::{HeaderName, SipMessage};

/// True when the REGISTER can register RFC 5626 flows: the phone supports outbound and it
/// came straight to us (no Path: over a connection, or over UDP, whose STUN keep-alives
/// the transport answers) or through an edge proxy that does outbound (a Path with `;ob`
/// first).
pub(crate) fn outbound_applies(
    req: &SipMessage,
    source: &str,
) -> Result<bool, (u16, &'static str)> {
    let tagged = |name| {
        req.header_values(name)
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("outbound"))
    };
    if !(tagged(HeaderName::Supported) || tagged(HeaderName::Require)) {
        return Ok(false);
    }
    let known = ["udp:", "tcp:", "tls:", "ws:", "wss:"]
        .iter()
        .any(|t| source.starts_with(t));
    match req.header(HeaderName::Path) {
        None => Ok(known),
        Some(first) => {
            let ob = first.split('>').next().unwrap_or(first).contains(";ob");
            if ob {
                Ok(true)
            } else {
                Err((439, "First Hop Lacks Outbound Support"))
            }
        }
    }
}
