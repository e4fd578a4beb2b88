//! [`PstnTable`]: gateways by name, their health, and the route table with its
//! longest-prefix lookup.
//!
//! Routes are kept per domain (and one table for every domain) in hash maps keyed by
//! prefix; a lookup tries the number's prefixes from the longest that any route has down to
//! one digit, so it costs at most [`model::MAX_PREFIX_LEN`] hash probes whatever the
//! number of routes (`benches/routes.rs`: 100,000 prefixes).

use std::collections::HashMap;

use model::{CallClass, Gateway, Route};
use parking_lot::RwLock;

/// A route that matched a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The route's prefix.
    pub prefix: String,
    /// Its gateways, in order.
    pub gateways: Vec<String>,
    /// The class a caller needs.
    pub class: CallClass,
}

#[derive(Default)]
struct Routes {
    /// By domain ("" : every domain), then by prefix.
    by_domain: HashMap<String, HashMap<String, RouteMatch>>,
    /// Longest prefix of any route (in bytes).
    longest: usize,
}

struct GatewayState {
    gateway: Gateway,
    up: bool,
}

/// Gateways and routes, shared by the server (which refreshes them) and the proxy.
#[derive(Default)]
pub struct PstnTable {
    gateways: RwLock<HashMap<String, GatewayState>>,
    routes: RwLock<Routes>,
    /// Trusted peers' address ranges.
    trusted: RwLock<Vec<crate::flood::Cidr>>,
    /// Dial plans by domain.
    dial_plans: RwLock<HashMap<String, model::DialPlan>>,
}

impl PstnTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces every gateway and route (a gateway kept keeps its health).
    pub fn replace(&self, gateways: Vec<Gateway>, routes: Vec<Route>) {
        let mut built = Routes::default();
        for r in routes {
            built.longest = built.longest.max(r.prefix.len());
            built
                .by_domain
                .entry(r.domain.unwrap_or_default())
                .or_default()
                .insert(
                    r.prefix.clone(),
                    RouteMatch {
                        prefix: r.prefix,
                        gateways: r.gateways,
                        class: r.class,
                    },
                );
        }
        {
            let mut g = self.gateways.write();
            let mut next = HashMap::with_capacity(gateways.len());
            for gw in gateways {
                let up = g.remove(&gw.name).is_none_or(|old| old.up);
                next.insert(gw.name.clone(), GatewayState { gateway: gw, up });
            }
            *g = next;
        }
        *self.routes.write() = built;
    }

    /// The route for `number` dialled by a user of `domain`: the longest matching prefix;
    /// at the same length a route of the domain beats an every-domain route.
    pub fn lookup(&self, domain: &str, number: &str) -> Option<RouteMatch> {
        let routes = self.routes.read();
        let own = routes.by_domain.get(domain);
        let any = routes.by_domain.get("");
        let mut len = routes.longest.min(number.len());
        while len > 0 {
            if let Some(key) = number.get(..len) {
                let hit = own
                    .and_then(|m| m.get(key))
                    .or_else(|| any.and_then(|m| m.get(key)));
                if let Some(r) = hit {
                    return Some(r.clone());
                }
            }
            len -= 1;
        }
        None
    }

    /// Replaces the trusted peers (a stored range that does not parse is skipped and
    /// logged).
    pub fn replace_trusted(&self, peers: &[model::TrustedPeer]) {
        let ranges = peers
            .iter()
            .filter_map(|p| match p.cidr.parse() {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(cidr = p.cidr, error = e, "trusted peer skipped");
                    None
                }
            })
            .collect();
        *self.trusted.write() = ranges;
    }

    /// Replaces every domain's dial plan.
    pub fn replace_dial_rules(&self, rules: Vec<model::DialRule>) {
        let mut by_domain: HashMap<String, Vec<model::DialRule>> = HashMap::new();
        for r in rules {
            by_domain.entry(r.domain.clone()).or_default().push(r);
        }
        *self.dial_plans.write() = by_domain
            .into_iter()
            .map(|(d, rs)| (d, model::DialPlan::new(rs)))
            .collect();
    }

    /// `number` after `domain`'s dial plan (as dialled when the domain has none).
    pub fn translate(&self, domain: &str, number: &str) -> String {
        match self.dial_plans.read().get(domain) {
            Some(plan) => plan.translate(number).0,
            None => number.to_owned(),
        }
    }

    /// Whether requests from `ip` come from a trusted peer.
    pub fn is_trusted(&self, ip: std::net::IpAddr) -> bool {
        self.trusted.read().iter().any(|c| c.contains(ip))
    }

    /// The gateway called `name`, if configured.
    pub fn gateway(&self, name: &str) -> Option<Gateway> {
        self.gateways.read().get(name).map(|s| s.gateway.clone())
    }

    /// Whether a gateway called `name` is configured.
    pub fn has_gateway(&self, name: &str) -> bool {
        self.gateways.read().contains_key(name)
    }

    /// Every gateway.
    pub fn gateways(&self) -> Vec<Gateway> {
        self.gateways
            .read()
            .values()
            .map(|s| s.gateway.clone())
            .collect()
    }

    /// Whether any gateway is configured.
    pub fn has_any_gateway(&self) -> bool {
        !self.gateways.read().is_empty()
    }

    /// Every gateway's name.
    pub fn gateway_names(&self) -> Vec<String> {
        self.gateways.read().keys().cloned().collect()
    }

    /// False once probes marked the gateway down (true for an unknown name).
    pub fn is_up(&self, name: &str) -> bool {
        self.gateways.read().get(name).is_none_or(|s| s.up)
    }

    /// Marks a gateway up or down; returns true when that changed its state.
    pub fn set_up(&self, name: &str, up: bool) -> bool {
        match self.gateways.write().get_mut(name) {
            Some(s) if s.up != up => {
                s.up = up;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::GatewayTransport;

    fn gw(name: &str) -> Gateway {
        Gateway {
            name: name.into(),
            addr: "192.0.2.1:5060".parse().unwrap(),
            transport: GatewayTransport::Udp,
            strip: 0,
            prefix: String::new(),
            probe_secs: 0,
            tls_verify: Default::default(),
        }
    }

    fn route(prefix: &str, domain: Option<&str>, gw: &str) -> Route {
        Route {
            prefix: prefix.into(),
            domain: domain.map(Into::into),
            gateways: vec![gw.into()],
            class: CallClass::National,
        }
    }

    #[test]
    fn longest_prefix_wins_and_domain_routes_first() {
        let t = PstnTable::new();
        t.replace(
            vec![gw("a"), gw("b"), gw("c")],
            vec![
                route("49", None, "a"),
                route("4930", None, "b"),
                route("49", Some("example.com"), "c"),
            ],
        );
        let g = |d: &str, n: &str| t.lookup(d, n).map(|r| r.gateways[0].clone());
        assert_eq!(g("other.org", "4930123").as_deref(), Some("b"));
        assert_eq!(g("other.org", "4940123").as_deref(), Some("a"));
        assert_eq!(g("example.com", "4940123").as_deref(), Some("c"));
        assert_eq!(g("example.com", "4930123").as_deref(), Some("b"));
        assert_eq!(g("example.com", "3312"), None);
    }

    #[test]
    fn health_survives_a_reload() {
        let t = PstnTable::new();
        t.replace(vec![gw("a")], vec![]);
        assert!(t.set_up("a", false));
        assert!(!t.set_up("a", false));
        t.replace(vec![gw("a"), gw("b")], vec![]);
        assert!(!t.is_up("a"));
        assert!(t.is_up("b"));
    }
}
