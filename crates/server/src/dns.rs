//! Locating SIP servers (RFC 3263 §4): a SIP URI whose host is a name becomes an ordered
//! list of next hops (transport, address, port) through NAPTR, SRV (RFC 2782 priorities
//! and weights) and A/AAAA lookups, with hickory's resolver (its cache honours TTLs and is
//! bounded by `[dns] cache_size`). The proxy asks through its `Query::Resolve`; this
//! module answers off the core task, and tells the TLS client which domain each TLS next
//! hop must prove (RFC 5922).
//!
//! Not here: which URIs are resolved (the proxy asks for Request-URIs, forwarding and
//! find-me targets, and Route URIs) or trying the hops in turn (the proxy's fork: one
//! serial group per hop).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, Protocol, ResolverConfig, ResolverOpts};
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioAsyncResolver;
use proxy::{Destination, Transport};
use sip_message::{Scheme, Uri};
use transport::TlsContext;

use crate::config::DnsSection;

/// Most next hops one URI gives (the rest are dropped).
const MAX_TARGETS: usize = 16;

/// One SRV record: where, and how it ranks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    /// Lower is tried first.
    pub priority: u16,
    /// Share of the traffic among records of one priority.
    pub weight: u16,
    /// Port.
    pub port: u16,
    /// Host name to look up.
    pub target: String,
}

/// One usable NAPTR record (RFC 3263 §4.1): its rank, transport and SRV name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naptr {
    /// Lower first.
    pub order: u16,
    /// Lower first among the same order.
    pub preference: u16,
    /// The transport its service field names.
    pub transport: Transport,
    /// The SRV name to look up.
    pub replacement: String,
}

/// The transport a NAPTR service field names, for the services this server speaks.
pub fn naptr_transport(services: &str) -> Option<Transport> {
    match services.to_ascii_uppercase().as_str() {
        "SIP+D2U" => Some(Transport::Udp),
        "SIP+D2T" => Some(Transport::Tcp),
        "SIPS+D2T" => Some(Transport::Tls),
        _ => None,
    }
}

/// The SRV name prefix of a transport (RFC 3263 §4.1).
fn srv_prefix(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "_sip._udp",
        Transport::Tcp => "_sip._tcp",
        Transport::Tls => "_sips._tcp",
        // RFC 7118 defines no SRV name; a ws URI is never forwarded by DNS.
        Transport::Ws => "_sip._ws",
        Transport::Wss => "_sips._ws",
    }
}

/// RFC 2782 order: by priority; within one priority, a weighted random order (a record
/// of weight 0 rarely first). `rand` gives numbers in 0..n.
pub fn order_srv(mut records: Vec<Srv>, mut rand: impl FnMut(u32) -> u32) -> Vec<Srv> {
    records.sort_by_key(|r| r.priority);
    let mut out = Vec::with_capacity(records.len());
    let mut rest = records;
    while !rest.is_empty() {
        let p = rest[0].priority;
        let n = rest.iter().take_while(|r| r.priority == p).count();
        let mut group: Vec<Srv> = rest.drain(..n).collect();
        // Zero weights first, as RFC 2782 asks, so they get a small chance.
        group.sort_by_key(|r| r.weight != 0);
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            let pick = if total == 0 { 0 } else { rand(total + 1) };
            let mut running = 0;
            let i = group
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= pick
                })
                .unwrap_or(0);
            out.push(group.remove(i));
        }
    }
    out
}

/// A number in 0..n from the process's hash keys (random per call).
fn random_below(n: u32) -> u32 {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(n);
    (h.finish() % u64::from(n.max(1))) as u32
}

/// The resolver.
pub struct SipResolver {
    inner: TokioAsyncResolver,
    /// Told the domain each TLS next hop must prove (RFC 5922).
    tls: Option<Arc<TlsContext>>,
}

impl SipResolver {
    /// Built from `[dns]`: its servers, or the system's.
    pub fn new(cfg: &DnsSection) -> anyhow::Result<SipResolver> {
        let (config, mut opts) = if cfg.servers.is_empty() {
            hickory_resolver::system_conf::read_system_conf().map_err(|e| {
                anyhow::anyhow!("dns: reading the system's resolver configuration: {e}")
            })?
        } else {
            let mut c = ResolverConfig::new();
            for s in &cfg.servers {
                c.add_name_server(NameServerConfig::new(*s, Protocol::Udp));
                c.add_name_server(NameServerConfig::new(*s, Protocol::Tcp));
            }
            (c, ResolverOpts::default())
        };
        opts.cache_size = cfg.cache_size;
        opts.positive_max_ttl = Some(Duration::from_secs(cfg.max_ttl_secs));
        opts.negative_max_ttl = Some(Duration::from_secs(cfg.max_ttl_secs.min(300)));
        opts.timeout = Duration::from_secs(cfg.timeout_secs);
        opts.attempts = 2;
        Ok(SipResolver {
            inner: TokioAsyncResolver::tokio(config, opts),
            tls: None,
        })
    }

    /// TLS next hops this resolver finds are verified by the URI's domain (RFC 5922 §4:
    /// the certificate and SNI name the domain of the URI, not the SRV target or the
    /// address).
    pub fn with_tls(mut self, tls: Option<Arc<TlsContext>>) -> SipResolver {
        self.tls = tls;
        self
    }

    /// The next hops of `uri`, best first (RFC 3263 §4): with a port, the host's
    /// addresses; with a transport parameter, its SRV records; else NAPTR, then SRV for
    /// each transport, then the host's addresses on the default port. `sips:` keeps TLS
    /// only. Err: the URI is not a SIP URI.
    pub async fn locate(&self, uri: &str) -> Result<Vec<Destination>, String> {
        let (hops, domain) = self.next_hops(uri).await?;
        if let Some(tls) = &self.tls {
            if domain.parse::<IpAddr>().is_err() {
                for hop in hops.iter().filter(|h| h.transport == Transport::Tls) {
                    tls.expect_name(hop.addr, &domain);
                }
            }
        }
        Ok(hops)
    }

    /// [`SipResolver::locate`]'s lookups: the next hops and the URI's domain.
    async fn next_hops(&self, uri: &str) -> Result<(Vec<Destination>, String), String> {
        let u = Uri::parse(uri).map_err(|e| format!("{uri}: {e:?}"))?;
        let secure = match u.scheme {
            Scheme::Sip => false,
            Scheme::Sips => true,
            _ => return Err(format!("{uri}: not a SIP URI")),
        };
        let host = u.host_unbracketed().to_string();
        let param = match u.transport_param() {
            Some(t) => Some(Transport::parse(t).ok_or_else(|| format!("{uri}: transport {t}"))?),
            None => None,
        };
        let default = if secure {
            Transport::Tls
        } else {
            Transport::Udp
        };
        let mut out = Vec::new();
        if let Some(port) = u.port {
            self.addresses(&host, port, param.unwrap_or(default), &mut out)
                .await;
            return Ok((out, host));
        }
        let plan: Vec<(Transport, String)> = match param {
            Some(t) => vec![(t, format!("{}.{host}", srv_prefix(t)))],
            None => {
                let naptr = self.naptr(&host, secure).await;
                if naptr.is_empty() {
                    let mut kinds = vec![Transport::Tls];
                    if !secure {
                        kinds = vec![Transport::Udp, Transport::Tcp, Transport::Tls];
                    }
                    kinds
                        .into_iter()
                        .map(|t| (t, format!("{}.{host}", srv_prefix(t))))
                        .collect()
                } else {
                    naptr
                        .into_iter()
                        .map(|n| (n.transport, n.replacement))
                        .collect()
                }
            }
        };
        for (transport, name) in plan {
            for srv in order_srv(self.srv(&name).await, random_below) {
                self.addresses(&srv.target, srv.port, transport, &mut out)
                    .await;
            }
        }
        if out.is_empty() {
            let t = param.unwrap_or(default);
            self.addresses(&host, t.default_port(), t, &mut out).await;
        }
        out.truncate(MAX_TARGETS);
        Ok((out, host))
    }

    /// The usable NAPTR records of `host`, best first.
    async fn naptr(&self, host: &str, secure: bool) -> Vec<Naptr> {
        let Ok(lookup) = self.inner.lookup(host, RecordType::NAPTR).await else {
            return Vec::new();
        };
        let mut v: Vec<Naptr> = lookup
            .iter()
            .filter_map(|r| match r {
                RData::NAPTR(n) => {
                    let services = String::from_utf8_lossy(n.services()).to_string();
                    let transport = naptr_transport(&services)?;
                    let flags = String::from_utf8_lossy(n.flags()).to_ascii_lowercase();
                    if flags != "s" || (secure && transport != Transport::Tls) {
                        return None;
                    }
                    Some(Naptr {
                        order: n.order(),
                        preference: n.preference(),
                        transport,
                        replacement: n.replacement().to_utf8(),
                    })
                }
                _ => None,
            })
            .collect();
        v.sort_by_key(|n| (n.order, n.preference));
        v
    }

    async fn srv(&self, name: &str) -> Vec<Srv> {
        match self.inner.srv_lookup(name).await {
            Ok(l) => l
                .iter()
                .map(|s| Srv {
                    priority: s.priority(),
                    weight: s.weight(),
                    port: s.port(),
                    target: s.target().to_utf8(),
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    async fn addresses(&self, host: &str, port: u16, t: Transport, out: &mut Vec<Destination>) {
        let ips: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => match self.inner.lookup_ip(host).await {
                Ok(l) => l.iter().collect(),
                Err(e) => {
                    tracing::debug!(%host, error = %e, "dns: no address");
                    Vec::new()
                }
            },
        };
        for ip in ips {
            let d = Destination {
                transport: t,
                addr: SocketAddr::new(ip, port),
                conn: None,
            };
            if out.len() < MAX_TARGETS && !out.contains(&d) {
                out.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srv(priority: u16, weight: u16, target: &str) -> Srv {
        Srv {
            priority,
            weight,
            port: 5060,
            target: target.into(),
        }
    }

    #[test]
    fn srv_priorities_come_first_and_weights_share_within_one() {
        let records = vec![srv(20, 0, "c"), srv(10, 10, "a"), srv(10, 90, "b")];
        // A draw of 0 takes the first of the running sums: a (10).
        let first = order_srv(records.clone(), |_| 0);
        assert_eq!(
            first.iter().map(|r| r.target.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        // A draw of 50 of 101 falls in b's share (11..=100).
        let ordered = order_srv(records, |n| if n == 101 { 50 } else { 0 });
        assert_eq!(
            ordered
                .iter()
                .map(|r| r.target.as_str())
                .collect::<Vec<_>>(),
            ["b", "a", "c"]
        );
    }

    #[test]
    fn naptr_services() {
        assert_eq!(naptr_transport("SIP+D2U"), Some(Transport::Udp));
        assert_eq!(naptr_transport("sip+d2t"), Some(Transport::Tcp));
        assert_eq!(naptr_transport("SIPS+D2T"), Some(Transport::Tls));
        assert_eq!(naptr_transport("SIP+D2S"), None);
    }
}
