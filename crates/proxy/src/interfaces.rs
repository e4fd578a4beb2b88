//! Which addresses are this server's, and which of them a given peer reaches.
//!
//! A server listening on a wildcard address (`0.0.0.0`, `[::]`) has one address per
//! interface, and a phone on the LAN reaches it at a different one than a phone on
//! loopback. Via, Record-Route and the recognition of our own Route entries must use the
//! address the peer actually talks to, or remote phones send their in-dialog requests to
//! their own loopback (RFC 3261 §16.6 step 4: the Record-Route URI must reach this proxy).
//!
//! Owns: the set of local addresses and listening ports (given by the server at start),
//! the fixed advertised host (behind 1:1 NAT), and a bounded cache of "which local address
//! does the kernel use towards this peer", filled through a probe the server provides (a
//! connected UDP socket's local address: no packet is sent). Does not own: sockets.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::config::ProxyConfig;

/// Asks the operating system which local address it uses to reach a peer.
pub type RouteProbe = Box<dyn Fn(IpAddr) -> Option<IpAddr> + Send>;

/// Peers remembered by the probe cache; the cache is emptied when it is full (a new
/// probe costs a few microseconds).
const MAX_CACHED: usize = 16_384;

/// The host this server puts in Via and Record-Route for one peer.
pub(crate) struct Interfaces {
    probe: Option<RouteProbe>,
    cache: HashMap<IpAddr, Arc<str>>,
    fixed: Option<Arc<str>>,
    fallback_v4: Arc<str>,
    fallback_v6: Arc<str>,
}

/// `[v6]` or `v4`, as a host in a SIP URI or Via.
pub(crate) fn host_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

impl Interfaces {
    pub(crate) fn new(cfg: &ProxyConfig) -> Self {
        let first = |v6: bool| {
            // Prefer an address other phones can reach; loopback only when nothing else.
            let mut of_family = cfg.local_addrs.iter().filter(|ip| ip.is_ipv6() == v6);
            let any = of_family.clone().next();
            of_family
                .find(|ip| !ip.is_loopback())
                .or(any)
                .map(|ip| Arc::from(host_text(*ip)))
        };
        let loopback_v4: Arc<str> = Arc::from("127.0.0.1");
        Interfaces {
            probe: None,
            cache: HashMap::new(),
            fixed: cfg.advertised_host.as_deref().map(Arc::from),
            fallback_v4: first(false)
                .or_else(|| first(true))
                .unwrap_or(loopback_v4.clone()),
            fallback_v6: first(true).or_else(|| first(false)).unwrap_or(loopback_v4),
        }
    }

    pub(crate) fn set_probe(&mut self, probe: RouteProbe) {
        self.probe = Some(probe);
        self.cache.clear();
    }

    /// The host of ours that `peer` reaches: the advertised host when one is configured,
    /// else the local address the kernel routes through towards `peer` when it is one we
    /// listen on, else the first listening address of the peer's family.
    pub(crate) fn host_for(&mut self, cfg: &ProxyConfig, peer: IpAddr) -> Arc<str> {
        if let Some(h) = &self.fixed {
            return h.clone();
        }
        if let Some(h) = self.cache.get(&peer) {
            return h.clone();
        }
        let probed = self
            .probe
            .as_ref()
            .and_then(|p| p(peer))
            .filter(|ip| cfg.local_addrs.contains(ip));
        let host = match probed {
            Some(ip) => Arc::from(host_text(ip)),
            None if peer.is_ipv6() => self.fallback_v6.clone(),
            None => self.fallback_v4.clone(),
        };
        if self.probe.is_some() {
            if self.cache.len() >= MAX_CACHED {
                self.cache.clear();
            }
            self.cache.insert(peer, host.clone());
        }
        host
    }

    /// The host for messages that have no peer yet (a default).
    pub(crate) fn default_host(&self) -> Arc<str> {
        self.fixed
            .clone()
            .unwrap_or_else(|| self.fallback_v4.clone())
    }
}

/// True when `host` (an IP literal, bracketed or not, or a name) is one of ours: the
/// advertised host, a configured alias, or an address we listen on.
pub(crate) fn host_is_mine(host: &str, cfg: &ProxyConfig) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Some(adv) = &cfg.advertised_host {
        if host.eq_ignore_ascii_case(adv.trim_start_matches('[').trim_end_matches(']')) {
            return true;
        }
    }
    if cfg.aliases.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) => cfg.local_addrs.contains(&ip),
        Err(_) => false,
    }
}

/// True when `port` is one we listen on (or advertise).
pub(crate) fn port_is_mine(port: u16, cfg: &ProxyConfig) -> bool {
    port == cfg.advertised_port || cfg.listen_ports.contains(&port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(adv: Option<&str>, addrs: &[&str]) -> ProxyConfig {
        ProxyConfig {
            advertised_host: adv.map(Into::into),
            local_addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            listen_ports: vec![5060],
            ..ProxyConfig::default()
        }
    }

    #[test]
    fn each_peer_gets_the_address_it_reaches() {
        let c = cfg(None, &["127.0.0.1", "10.99.0.1", "::1"]);
        let mut i = Interfaces::new(&c);
        i.set_probe(Box::new(|peer: IpAddr| {
            Some(if peer.is_loopback() {
                peer
            } else {
                "10.99.0.1".parse().unwrap()
            })
        }));
        assert_eq!(&*i.host_for(&c, "10.99.0.2".parse().unwrap()), "10.99.0.1");
        assert_eq!(&*i.host_for(&c, "127.0.0.1".parse().unwrap()), "127.0.0.1");
        assert_eq!(&*i.host_for(&c, "::1".parse().unwrap()), "[::1]");
    }

    #[test]
    fn a_probe_answer_we_do_not_listen_on_falls_back() {
        let c = cfg(None, &["127.0.0.1", "10.99.0.1"]);
        let mut i = Interfaces::new(&c);
        i.set_probe(Box::new(|_| Some("172.16.9.9".parse().unwrap())));
        assert_eq!(&*i.host_for(&c, "10.99.0.2".parse().unwrap()), "10.99.0.1");
    }

    #[test]
    fn the_advertised_host_wins() {
        let c = cfg(Some("203.0.113.10"), &["127.0.0.1", "10.99.0.1"]);
        let mut i = Interfaces::new(&c);
        assert_eq!(
            &*i.host_for(&c, "10.99.0.2".parse().unwrap()),
            "203.0.113.10"
        );
        assert!(host_is_mine("203.0.113.10", &c));
        assert!(host_is_mine("10.99.0.1", &c));
        assert!(host_is_mine("[::1]", &cfg(None, &["::1"])));
        assert!(!host_is_mine("10.99.0.2", &c));
        assert!(!host_is_mine("example.com", &c));
    }
}
