//! Which local domain a URI belongs to, written once for every stage: a URI whose host
//! is a domain served here belongs to it; a URI naming this server itself (one of its
//! addresses, see `interfaces.rs`) belongs to the default domain.

use sip_message::{SipMessage, Uri};

use super::Proxy;

impl Proxy {
    /// The local domain `uri` belongs to, or None when it is not ours. `req`, when given,
    /// picks the default domain from its To header (several domains served).
    pub(super) fn local_domain_of(
        &self,
        uri: &Uri<'_>,
        req: Option<&SipMessage>,
    ) -> Option<String> {
        let host = uri.host_unbracketed().to_ascii_lowercase();
        if self.directory.is_local_domain(&host) {
            Some(host)
        } else if uri.is_sip() && crate::route::host_port_is_me(uri.host, uri.port, &self.cfg) {
            Some(self.default_domain(req))
        } else {
            None
        }
    }

    /// The domain a request to this server itself is for: the To header's domain when
    /// served here, else the only domain, else our own host.
    pub(super) fn default_domain(&self, req: Option<&SipMessage>) -> String {
        req.and_then(|r| r.to())
            .map(|t| t.uri.host_unbracketed().to_ascii_lowercase())
            .filter(|d| self.directory.is_local_domain(d))
            .or_else(|| self.directory.only_domain())
            .unwrap_or_else(|| self.interfaces.default_host().to_string())
    }
}
