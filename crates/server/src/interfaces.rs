//! The host's own addresses, for a server that listens on a wildcard address: which
//! addresses count as "this server" and which one a peer reaches (the proxy's
//! `RouteProbe`), and the start-up warning for a configuration only local phones can use.

use std::net::{IpAddr, SocketAddr, UdpSocket};

/// Every address the listeners answer on: a listener on a wildcard address answers on
/// every interface address of its family.
pub fn local_addresses(bound: &[SocketAddr]) -> Vec<IpAddr> {
    // Only a wildcard listener needs the interface list.
    let interfaces: Vec<IpAddr> = if !bound.iter().any(|a| a.ip().is_unspecified()) {
        Vec::new()
    } else {
        match if_addrs::get_if_addrs() {
            Ok(list) => list.into_iter().map(|i| i.ip()).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the interface addresses");
                Vec::new()
            }
        }
    };
    let mut out: Vec<IpAddr> = Vec::new();
    for addr in bound {
        let ip = addr.ip();
        if ip.is_unspecified() {
            out.extend(
                interfaces
                    .iter()
                    .filter(|i| i.is_ipv6() == ip.is_ipv6())
                    // Link-local IPv6 needs a scope in every URI: no phone can use it.
                    .filter(|i| !matches!(i, IpAddr::V6(v6) if v6.is_unicast_link_local())),
            );
        } else {
            out.push(ip);
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|ip| seen.insert(*ip));
    out
}

/// The local address the kernel uses to reach `peer`: the local end of a UDP socket
/// connected to it. Connecting a UDP socket sends nothing.
pub fn route_probe(peer: IpAddr) -> Option<IpAddr> {
    let any: SocketAddr = if peer.is_ipv6() {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(any).ok()?;
    socket.connect((peer, 9)).ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}

/// Logs a warning when phones on other hosts cannot use this configuration.
pub fn warn_if_local_only(bound: &[SocketAddr], local: &[IpAddr], advertised: Option<&str>) {
    if let Some(host) = advertised {
        if host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
        {
            tracing::warn!(
                advertised_host = host,
                "[sip] advertised_host is a loopback address: phones on other hosts will send \
                 their requests to themselves; remove it or set the address they reach"
            );
        }
        return;
    }
    if local.iter().all(|ip| ip.is_loopback()) {
        let listens: Vec<String> = bound.iter().map(|a| a.to_string()).collect();
        tracing::warn!(
            listen = %listens.join(","),
            "only loopback addresses are served: phones on other hosts cannot reach this \
             server; listen on 0.0.0.0 or an interface address ([sip] listen)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_listener_answers_on_every_interface_address() {
        let any: SocketAddr = "0.0.0.0:5060".parse().unwrap();
        let local = local_addresses(&[any]);
        assert!(local.contains(&IpAddr::from([127, 0, 0, 1])), "{local:?}");
        assert!(local.iter().all(|ip| ip.is_ipv4()));
        let one: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        assert_eq!(local_addresses(&[one]), vec![IpAddr::from([127, 0, 0, 1])]);
    }

    #[test]
    fn the_probe_finds_loopback_for_loopback() {
        let lo = IpAddr::from([127, 0, 0, 1]);
        assert_eq!(route_probe(lo), Some(lo));
    }
}
