//! Route handling (RFC 3261 §16.4, §16.12): recognising ourselves, loose and strict routing,
//! and turning a URI into a next hop.

use std::net::{IpAddr, SocketAddr};

use sip_message::{HeaderName, NameAddr, Scheme, SipMessage, Uri};

use crate::config::ProxyConfig;
use crate::destination::{Destination, Transport};

/// True when `host[:port]` names this proxy. A URI without a port whose host is ours
/// names us too (a phone whose domain is the server's address, on a port other than
/// 5060, puts no port in its Request-URI and To).
pub(crate) fn host_port_is_me(host: &str, port: Option<u16>, cfg: &ProxyConfig) -> bool {
    port.is_none_or(|p| crate::interfaces::port_is_mine(p, cfg))
        && crate::interfaces::host_is_mine(host, cfg)
}

/// True when a URI names this proxy (host and port).
pub(crate) fn uri_is_me(uri: &Uri<'_>, cfg: &ProxyConfig) -> bool {
    uri.is_sip() && host_port_is_me(uri.host, uri.port, cfg)
}

/// What route pre-processing decided for a request.
#[derive(Debug, Default, Clone)]
pub(crate) struct RoutePlan {
    /// Route fields to remove (ours).
    pub remove: Vec<usize>,
    /// A new Request-URI (the previous hop was a strict router, §16.4).
    pub new_request_uri: Option<String>,
    /// The first Route left after removal: the next hop, when present.
    pub next_route: Option<usize>,
    /// The outbound flow a dialog-creating request came over: its Record-Route carries a
    /// flow token naming it (RFC 5626 §5.3, `core/flow_route.rs`).
    pub caller_flow: Option<Destination>,
    /// The request goes over the flow a token of ours named: a failed send is
    /// `430 Flow Failed`.
    pub to_flow: bool,
}

/// RFC 3261 §16.4: undo a strict router's rewrite, then drop our own Route entry.
pub(crate) fn plan(req: &SipMessage, cfg: &ProxyConfig) -> RoutePlan {
    let mut plan = RoutePlan::default();
    let routes: Vec<usize> = req
        .header_values(HeaderName::Route)
        .map(|(i, _)| i)
        .collect();
    let mut remaining: &[usize] = &routes;
    if let Some(ruri) = req.request_uri() {
        // A Request-URI that is our own Record-Route URI (no user part): the last Route is
        // the real target.
        if uri_is_me(&ruri, cfg) && ruri.user.is_none() && ruri.is_loose_router() {
            if let Some((&last, rest)) = remaining.split_last() {
                if let Ok(na) = NameAddr::parse(req.value(last)) {
                    plan.new_request_uri = Some(na.uri.raw.to_string());
                    plan.remove.push(last);
                    remaining = rest;
                }
            }
        }
    }
    while let Some((&first, rest)) = remaining.split_first() {
        match NameAddr::parse(req.value(first)) {
            Ok(na) if uri_is_me(&na.uri, cfg) => {
                plan.remove.push(first);
                remaining = rest;
            }
            _ => break,
        }
    }
    plan.next_route = remaining.first().copied();
    plan
}

/// Why a URI gives no next hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HopError {
    /// The scheme or transport is not one this server speaks.
    Unsupported,
    /// The host is a name and no resolver is configured.
    Unresolvable,
    /// DNS says the name has no SIP server (no NAPTR, SRV or address record).
    NoSipServer,
    /// The DNS lookup of the name failed (no answer, a server failure).
    LookupFailed,
}

impl HopError {
    /// The answer to the caller. None is worth a failover to another target: each is
    /// about the URI itself (the caller's, a Route's, or the forwarding target's).
    pub(crate) fn answer(self) -> crate::answer::Answer {
        match self {
            HopError::Unsupported => {
                crate::answer::Answer::new(416, "Unsupported URI Scheme or Transport")
            }
            HopError::Unresolvable => {
                crate::answer::Answer::new(503, "DNS Resolution Not Supported")
            }
            HopError::NoSipServer => crate::answer::Answer::new(404, "Domain Has No SIP Server"),
            HopError::LookupFailed => crate::answer::Answer::new(503, "DNS Lookup Failed"),
        }
    }
}

/// The next hop for a SIP URI: maddr or host, port (default 5060, 5061 over TLS),
/// transport parameter. A `sips:` URI goes only over TLS (RFC 5630 §3.1.3): with no
/// transport parameter or `transport=tls` it is TLS, with another it is unsupported.
/// Host names other than `localhost` need DNS (RFC 3263): they give `Unresolvable`, and
/// the stage asks the server (`Query::Resolve`, `core/resolved.rs`) when `[dns]` is on.
pub(crate) fn uri_destination(uri: &Uri<'_>) -> Result<Destination, HopError> {
    let secure = match uri.scheme {
        Scheme::Sip => false,
        Scheme::Sips => true,
        _ => return Err(HopError::Unsupported),
    };
    let transport = match uri.transport_param() {
        Some(t) => Transport::parse(t).ok_or(HopError::Unsupported)?,
        None if secure => Transport::Tls,
        None => Transport::Udp,
    };
    if secure && transport != Transport::Tls {
        return Err(HopError::Unsupported);
    }
    let host = uri
        .param("maddr")
        .flatten()
        .unwrap_or_else(|| uri.host_unbracketed());
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| HopError::Unresolvable)?
    };
    Ok(Destination {
        transport,
        addr: SocketAddr::new(ip, uri.port.unwrap_or(transport.default_port())),
        conn: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(uri: &str) -> Result<Destination, HopError> {
        uri_destination(&Uri::parse(uri).unwrap())
    }

    #[test]
    fn sips_routes_only_over_tls() {
        let d = hop("sips:bob@192.0.2.1").unwrap();
        assert_eq!((d.transport, d.addr.port()), (Transport::Tls, 5061));
        let d = hop("sips:bob@192.0.2.1:5071;transport=tls").unwrap();
        assert_eq!((d.transport, d.addr.port()), (Transport::Tls, 5071));
        assert_eq!(
            hop("sips:bob@192.0.2.1;transport=udp"),
            Err(HopError::Unsupported)
        );
        assert_eq!(
            hop("sips:bob@192.0.2.1;transport=tcp"),
            Err(HopError::Unsupported)
        );
    }

    #[test]
    fn transport_parameter_and_default_ports() {
        let d = hop("sip:bob@192.0.2.1;transport=tls").unwrap();
        assert_eq!((d.transport, d.addr.port()), (Transport::Tls, 5061));
        let d = hop("sip:bob@192.0.2.1;transport=tcp").unwrap();
        assert_eq!((d.transport, d.addr.port()), (Transport::Tcp, 5060));
        let d = hop("sip:bob@192.0.2.1").unwrap();
        assert_eq!((d.transport, d.addr.port()), (Transport::Udp, 5060));
        assert_eq!(hop("tel:+4930123"), Err(HopError::Unsupported));
    }
}
