//! Caller ID on calls to gateways (issue 14, RFC 3325): the caller's DID (an alias set with
//! `switchboard alias add ... --caller-id`) goes in From and P-Asserted-Identity;
//! `Privacy: id` from the phone turns From anonymous (RFC 3323) while the gateway, a
//! trusted network element, still gets the asserted identity; a P-Asserted-Identity from
//! an untrusted source is removed (only a trusted peer may assert one).
//!
//! Not here: which calls go to gateways (`gateways.rs`).

use bytes::Bytes;
use sip_message::{Editor, HeaderName, SipMessage};

/// The request as it goes to the gateways, or None when it goes as it is. `did`: the
/// caller's DID; `domain`: its domain; `trusted`: the request came from a trusted peer.
pub(super) fn caller_id_request(
    req: &SipMessage,
    did: Option<&str>,
    domain: &str,
    trusted: bool,
) -> Option<SipMessage> {
    let pais: Vec<usize> = req
        .header_values(HeaderName::PAssertedIdentity)
        .map(|(i, _)| i)
        .collect();
    if did.is_none() && (trusted || pais.is_empty()) {
        return None;
    }
    let mut ed = Editor::new(req);
    if did.is_some() || !trusted {
        for &i in pais.iter().rev() {
            ed.remove(i);
        }
    }
    if let Some(did) = did {
        let privacy = req.header_by_name("Privacy").is_some_and(|v| {
            v.split([';', ','])
                .any(|t| t.trim().eq_ignore_ascii_case("id"))
        });
        let from = req
            .fields()
            .iter()
            .position(|f| f.name == HeaderName::From)?;
        let tag = req.from_tag().unwrap_or_default();
        if privacy {
            ed.replace_value(
                from,
                format_args!("\"Anonymous\" <sip:anonymous@anonymous.invalid>;tag={tag}"),
            );
        } else {
            ed.replace_value(from, format_args!("<sip:{did}@{domain}>;tag={tag}"));
        }
        ed.append_header("P-Asserted-Identity", format_args!("<sip:{did}@{domain}>"));
    }
    match SipMessage::parse(Bytes::from(ed.to_vec())) {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::warn!(%e, "request with caller ID does not parse: sent as it came");
            None
        }
    }
}
