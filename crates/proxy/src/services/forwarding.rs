//! Call forwarding (RFC 5359 §2.7-§2.9): where a forwarding target leads, and the fork
//! targets of a user's registered contacts.

use model::AddressOfRecord;
use sip_message::Uri;

use crate::fork::Target;
use crate::route::{uri_destination, HopError};

/// Where a forwarding target leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hop {
    /// A user (or alias) of a domain served here: ring their phones, apply their services.
    Local(AddressOfRecord),
    /// Anywhere else: send the request there (the URI is the new Request-URI).
    Remote(String),
    /// This user's mailbox on the voicemail service.
    Voicemail(AddressOfRecord),
}

/// Resolves a target (SIP URI, `user@domain`, or a number of `callee_domain`). `local`
/// gives the local domain a URI belongs to (its host, or the default domain when it names
/// this server), None for other hosts.
pub(crate) fn hop(
    target: &str,
    callee_domain: &str,
    local: &dyn Fn(&Uri<'_>) -> Option<String>,
) -> Option<Hop> {
    if target.starts_with("sip:") || target.starts_with("sips:") {
        let uri = Uri::parse(target).ok()?;
        return Some(match (uri.user, local(&uri)) {
            (Some(user), Some(domain)) => Hop::Local(AddressOfRecord::new(user, &domain)),
            _ => Hop::Remote(target.to_string()),
        });
    }
    if target.contains('@') {
        let uri_text = format!("sip:{target}");
        let uri = Uri::parse(&uri_text).ok()?;
        return Some(match (uri.user, local(&uri)) {
            (Some(user), Some(domain)) => Hop::Local(AddressOfRecord::new(user, &domain)),
            _ => Hop::Remote(uri_text.clone()),
        });
    }
    Some(Hop::Local(AddressOfRecord::new(target, callee_domain)))
}

/// The fork target for an outside URI.
pub(crate) fn remote_target(uri: &str) -> Result<Target, HopError> {
    let parsed = Uri::parse(uri).map_err(|_| HopError::Unsupported)?;
    Ok(Target {
        request_uri: Some(uri.to_string()),
        dest: uri_destination(&parsed)?,
        routes: Vec::new(),
        q: 1000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(uri: &Uri<'_>) -> Option<String> {
        let h = uri.host_unbracketed().to_ascii_lowercase();
        (h == "example.com").then_some(h)
    }

    #[test]
    fn targets_resolve() {
        let alice = AddressOfRecord::new("alice", "example.com");
        assert_eq!(
            hop("alice@Example.com", "example.com", &local),
            Some(Hop::Local(alice.clone()))
        );
        assert_eq!(
            hop("sip:alice@example.com", "example.com", &local),
            Some(Hop::Local(alice))
        );
        assert_eq!(
            hop("+15551234", "example.com", &local),
            Some(Hop::Local(AddressOfRecord::new("+15551234", "example.com")))
        );
        assert_eq!(
            hop("carol@192.0.2.1", "example.com", &local),
            Some(Hop::Remote("sip:carol@192.0.2.1".into()))
        );
        let t = remote_target("sip:carol@192.0.2.1:5070").unwrap();
        assert_eq!(t.dest.addr.to_string(), "192.0.2.1:5070");
        assert_eq!(
            remote_target("sip:carol@example.net").unwrap_err(),
            HopError::Unresolvable
        );
    }
}
