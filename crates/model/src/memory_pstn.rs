//! [`PstnStore`] for [`MemoryStore`]: gateways and routes in memory, same rules as the SQL
//! store.

use async_trait::async_trait;

use crate::error::StoreError;
use crate::memory::MemoryStore;
use crate::pstn::{Gateway, PstnStore, Route, TrustedPeer};

#[async_trait]
impl PstnStore for MemoryStore {
    async fn gateways(&self) -> Result<Vec<Gateway>, StoreError> {
        let mut g = self.pstn.lock().gateways.clone();
        g.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(g)
    }

    async fn add_gateway(&self, gateway: &Gateway) -> Result<(), StoreError> {
        gateway.check()?;
        let mut t = self.pstn.lock();
        if t.gateways.iter().any(|g| g.name == gateway.name) {
            return Err(StoreError::Duplicate {
                what: format!("gateway {}", gateway.name),
            });
        }
        t.gateways.push(gateway.clone());
        Ok(())
    }

    async fn update_gateway(&self, gateway: &Gateway) -> Result<(), StoreError> {
        gateway.check()?;
        let mut t = self.pstn.lock();
        match t.gateways.iter_mut().find(|g| g.name == gateway.name) {
            Some(g) => {
                *g = gateway.clone();
                Ok(())
            }
            None => Err(StoreError::NotFound {
                what: format!("gateway {}", gateway.name),
            }),
        }
    }

    async fn delete_gateway(&self, name: &str) -> Result<(), StoreError> {
        let mut t = self.pstn.lock();
        if let Some(r) = t
            .routes
            .iter()
            .find(|r| r.gateways.iter().any(|g| g == name))
        {
            return Err(StoreError::Invalid {
                field: "gateway",
                why: format!("{name} is used by the route {}", r.prefix),
            });
        }
        let before = t.gateways.len();
        t.gateways.retain(|g| g.name != name);
        if t.gateways.len() == before {
            return Err(StoreError::NotFound {
                what: format!("gateway {name}"),
            });
        }
        Ok(())
    }

    async fn routes(&self) -> Result<Vec<Route>, StoreError> {
        let mut r = self.pstn.lock().routes.clone();
        r.sort_by(|a, b| (&a.domain, &a.prefix).cmp(&(&b.domain, &b.prefix)));
        Ok(r)
    }

    async fn add_route(&self, route: &Route) -> Result<(), StoreError> {
        route.check()?;
        let mut t = self.pstn.lock();
        if let Some(g) = route
            .gateways
            .iter()
            .find(|g| !t.gateways.iter().any(|x| &x.name == *g))
        {
            return Err(StoreError::NotFound {
                what: format!("gateway {g}"),
            });
        }
        if t.routes
            .iter()
            .any(|r| r.prefix == route.prefix && r.domain == route.domain)
        {
            return Err(StoreError::Duplicate {
                what: format!("route {}", route.prefix),
            });
        }
        t.routes.push(route.clone());
        Ok(())
    }

    async fn dial_rules(&self) -> Result<Vec<crate::DialRule>, StoreError> {
        let mut r = self.pstn.lock().dial_rules.clone();
        r.sort_by(|a, b| (&a.domain, a.priority).cmp(&(&b.domain, b.priority)));
        Ok(r)
    }

    async fn add_dial_rule(&self, rule: &crate::DialRule) -> Result<(), StoreError> {
        rule.check()?;
        let mut t = self.pstn.lock();
        if t.dial_rules
            .iter()
            .any(|r| r.domain == rule.domain && r.pattern == rule.pattern)
        {
            return Err(StoreError::Duplicate {
                what: format!("dial-plan rule {}", rule.pattern),
            });
        }
        t.dial_rules.push(rule.clone());
        Ok(())
    }

    async fn delete_dial_rule(&self, domain: &str, pattern: &str) -> Result<(), StoreError> {
        let mut t = self.pstn.lock();
        let before = t.dial_rules.len();
        t.dial_rules
            .retain(|r| !(r.domain == domain && r.pattern == pattern));
        if t.dial_rules.len() == before {
            return Err(StoreError::NotFound {
                what: format!("dial-plan rule {pattern}"),
            });
        }
        Ok(())
    }

    async fn trusted(&self) -> Result<Vec<TrustedPeer>, StoreError> {
        let mut t = self.pstn.lock().trusted.clone();
        t.sort_by(|a, b| a.cidr.cmp(&b.cidr));
        Ok(t)
    }

    async fn add_trusted(&self, peer: &TrustedPeer) -> Result<(), StoreError> {
        let mut t = self.pstn.lock();
        if let Some(g) = &peer.gateway {
            if !t.gateways.iter().any(|x| &x.name == g) {
                return Err(StoreError::NotFound {
                    what: format!("gateway {g}"),
                });
            }
        }
        if t.trusted.iter().any(|p| p.cidr == peer.cidr) {
            return Err(StoreError::Duplicate {
                what: format!("trusted peer {}", peer.cidr),
            });
        }
        t.trusted.push(peer.clone());
        Ok(())
    }

    async fn delete_trusted(&self, cidr: &str) -> Result<(), StoreError> {
        let mut t = self.pstn.lock();
        let before = t.trusted.len();
        t.trusted.retain(|p| p.cidr != cidr);
        if t.trusted.len() == before {
            return Err(StoreError::NotFound {
                what: format!("trusted peer {cidr}"),
            });
        }
        Ok(())
    }

    async fn delete_route(&self, prefix: &str, domain: Option<&str>) -> Result<(), StoreError> {
        let mut t = self.pstn.lock();
        let before = t.routes.len();
        t.routes
            .retain(|r| !(r.prefix == prefix && r.domain.as_deref() == domain));
        if t.routes.len() == before {
            return Err(StoreError::NotFound {
                what: format!("route {prefix}"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pstn::{CallClass, GatewayTransport};

    fn gw(name: &str) -> Gateway {
        Gateway {
            name: name.into(),
            addr: "127.0.0.1:5080".parse().unwrap(),
            transport: GatewayTransport::Udp,
            strip: 0,
            prefix: String::new(),
            probe_secs: 30,
            tls_verify: Default::default(),
        }
    }

    #[tokio::test]
    async fn routes_need_their_gateways() {
        let s = MemoryStore::new();
        s.add_gateway(&gw("a")).await.unwrap();
        let r = Route {
            prefix: "49".into(),
            domain: None,
            gateways: vec!["a".into(), "b".into()],
            class: CallClass::National,
        };
        assert!(matches!(
            s.add_route(&r).await,
            Err(StoreError::NotFound { .. })
        ));
        s.add_gateway(&gw("b")).await.unwrap();
        s.add_route(&r).await.unwrap();
        assert!(matches!(
            s.add_route(&r).await,
            Err(StoreError::Duplicate { .. })
        ));
        assert!(matches!(
            s.delete_gateway("a").await,
            Err(StoreError::Invalid { .. })
        ));
        s.delete_route("49", None).await.unwrap();
        s.delete_gateway("a").await.unwrap();
        assert_eq!(s.gateways().await.unwrap().len(), 1);
    }
}
