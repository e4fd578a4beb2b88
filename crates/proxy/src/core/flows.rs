//! Reaching a WebSocket phone (RFC 7118 §5): its Contact has an `.invalid` host that no
//! DNS knows; the only way to it is the connection it registered over. An in-dialog
//! request (or an ACK) whose Request-URI is such a contact goes to the source of the
//! binding with that contact, found among the bindings of the request's To and From.
//!
//! The same holds for a phone behind NAT (issue 19): its Contact names a private address
//! (RFC 1918) that only its home network knows, so an in-dialog request to such a contact
//! goes to the source of the binding with that contact when there is one (Kamailio's
//! `fix_nated_contact`, without rewriting the phone's Contact).
//!
//! Not here: flow tokens in Record-Route (RFC 5626 §5.3, `flow_route.rs`), which route a
//! dialog's requests before this matching by contact is tried; without a token a phone
//! whose binding expired mid-dialog is not reached (480).

use model::AddressOfRecord;
use sip_message::{SipMessage, Uri};

use super::Proxy;
use crate::destination::Destination;

/// True for a URI host the phone made up (RFC 7118 §5: `.invalid`).
pub(super) fn is_made_up_host(uri: &Uri<'_>) -> bool {
    uri.host_unbracketed()
        .to_ascii_lowercase()
        .ends_with(".invalid")
}

/// True for a URI host that is a private address (RFC 1918, RFC 6598, IPv6 ULA).
pub(super) fn is_private_host(uri: &Uri<'_>) -> bool {
    uri.host_unbracketed()
        .parse()
        .is_ok_and(crate::nat::is_private)
}

impl Proxy {
    /// The connection of the registered phone whose contact is `ruri`: the binding's
    /// source, among the bindings of the To and From users of `req`.
    pub(super) fn flow_of_contact(
        &self,
        req: &SipMessage,
        ruri: &str,
        wall: u64,
    ) -> Option<Destination> {
        let bare = |c: &str| c.split(';').next().unwrap_or(c).to_ascii_lowercase();
        let wanted = bare(ruri);
        let parties = [req.to().map(|t| t.uri), req.from().map(|f| f.uri)];
        parties.into_iter().flatten().find_map(|uri| {
            let aor = AddressOfRecord::new(uri.user.unwrap_or(""), uri.host_unbracketed());
            self.registrar
                .location()
                .lookup(&aor, wall)
                .into_iter()
                .find(|b| bare(&b.contact) == wanted)
                .and_then(|b| Destination::from_source_string(&b.source))
        })
    }
}
