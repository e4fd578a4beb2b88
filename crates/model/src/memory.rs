//! An in-memory [`Store`] for tests.

use std::collections::BTreeMap;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::aor::AddressOfRecord;
use crate::binding::Binding;
use crate::error::StoreError;
use crate::memory_voicemail::VoicemailTables;
use crate::settings::prune_settings;
use crate::store::Store;
use crate::subscriber::{Alias, Subscriber};

#[derive(Default)]
pub(crate) struct Inner {
    domains: Vec<String>,
    pub(crate) subscribers: BTreeMap<AddressOfRecord, Subscriber>,
    aliases: BTreeMap<AddressOfRecord, AddressOfRecord>,
    bindings: BTreeMap<(AddressOfRecord, String), Binding>,
    settings: BTreeMap<(AddressOfRecord, String), String>,
    /// Presence watcher rules by (watched, watcher).
    presence_rules: BTreeMap<(AddressOfRecord, AddressOfRecord), crate::WatcherRule>,
    /// Voicemail (`memory_voicemail.rs`).
    pub(crate) voicemail: VoicemailTables,
    /// The portal's tables (`memory_portal.rs`).
    pub(crate) portal: crate::memory_portal::PortalTables,
}

/// A store that lives in memory only; same semantics as the SQL store.
#[derive(Default)]
pub struct MemoryStore {
    pub(crate) inner: Mutex<Inner>,
    /// Gateways and routes (`memory_pstn.rs`).
    pub(crate) pstn: Mutex<PstnTables>,
}

/// The gateways and routes of a [`MemoryStore`].
#[derive(Default)]
pub(crate) struct PstnTables {
    pub gateways: Vec<crate::pstn::Gateway>,
    pub routes: Vec<crate::pstn::Route>,
    pub trusted: Vec<crate::pstn::TrustedPeer>,
    pub dial_rules: Vec<crate::DialRule>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Inner {
    /// Removes or rewrites other users' forwarding and find-me rows pointing at a user for
    /// which `gone` holds (as the SQL store does in its deleting transaction).
    fn prune(&mut self, gone: impl Fn(&AddressOfRecord) -> bool) {
        let rows: Vec<(AddressOfRecord, String, String)> = self
            .settings
            .iter()
            .map(|((a, n), v)| (a.clone(), n.clone(), v.clone()))
            .collect();
        for (aor, name, value) in prune_settings(&rows, gone) {
            match value {
                Some(v) => self.settings.insert((aor, name), v),
                None => self.settings.remove(&(aor, name)),
            };
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn domains(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.inner.lock().domains.clone())
    }

    async fn add_domain(&self, domain: &str) -> Result<(), StoreError> {
        let d = domain.to_ascii_lowercase();
        let mut g = self.inner.lock();
        if g.domains.contains(&d) {
            return Err(StoreError::Duplicate {
                what: format!("domain {d}"),
            });
        }
        g.domains.push(d);
        Ok(())
    }

    async fn delete_domain(&self, domain: &str) -> Result<(), StoreError> {
        let d = domain.to_ascii_lowercase();
        let mut g = self.inner.lock();
        let before = g.domains.len();
        g.domains.retain(|x| *x != d);
        if g.domains.len() == before {
            return Err(StoreError::NotFound {
                what: format!("domain {d}"),
            });
        }
        g.subscribers.retain(|k, _| k.domain != d);
        g.aliases.retain(|k, v| k.domain != d && v.domain != d);
        g.bindings.retain(|k, _| k.0.domain != d);
        g.settings.retain(|k, _| k.0.domain != d);
        g.voicemail.retain(|a| a.domain != d);
        g.portal.forget_domain(&d);
        g.prune(|a| a.domain == d);
        Ok(())
    }

    async fn subscriber(&self, aor: &AddressOfRecord) -> Result<Option<Subscriber>, StoreError> {
        Ok(self.inner.lock().subscribers.get(aor).cloned())
    }

    async fn add_subscriber(&self, s: &Subscriber) -> Result<(), StoreError> {
        let mut g = self.inner.lock();
        if !g.domains.contains(&s.aor.domain) {
            return Err(StoreError::NotFound {
                what: format!("domain {}", s.aor.domain),
            });
        }
        if g.subscribers.contains_key(&s.aor) {
            return Err(StoreError::Duplicate {
                what: format!("user {}", s.aor),
            });
        }
        if g.aliases.contains_key(&s.aor) {
            return Err(StoreError::Duplicate {
                what: format!("alias {} (a user cannot take an alias's name)", s.aor),
            });
        }
        g.subscribers.insert(s.aor.clone(), s.clone());
        Ok(())
    }

    async fn update_subscriber(&self, s: &Subscriber) -> Result<(), StoreError> {
        let mut g = self.inner.lock();
        match g.subscribers.get_mut(&s.aor) {
            Some(x) => {
                *x = s.clone();
                Ok(())
            }
            None => Err(StoreError::NotFound {
                what: format!("user {}", s.aor),
            }),
        }
    }

    async fn delete_subscriber(&self, aor: &AddressOfRecord) -> Result<(), StoreError> {
        let mut g = self.inner.lock();
        if g.subscribers.remove(aor).is_none() {
            return Err(StoreError::NotFound {
                what: format!("user {aor}"),
            });
        }
        let mut names: Vec<AddressOfRecord> = g
            .aliases
            .iter()
            .filter(|(_, v)| *v == aor)
            .map(|(k, _)| k.clone())
            .collect();
        names.push(aor.clone());
        g.aliases.retain(|_, v| v != aor);
        g.bindings.retain(|k, _| &k.0 != aor);
        g.presence_rules.retain(|k, _| &k.0 != aor);
        g.settings.retain(|k, _| &k.0 != aor);
        g.voicemail.retain(|a| a != aor);
        g.prune(|a| names.contains(a));
        Ok(())
    }

    async fn subscribers(&self, domain: Option<&str>) -> Result<Vec<Subscriber>, StoreError> {
        let g = self.inner.lock();
        Ok(g.subscribers
            .values()
            .filter(|s| domain.is_none_or(|d| s.aor.domain == d.to_ascii_lowercase()))
            .cloned()
            .collect())
    }

    async fn resolve_alias(
        &self,
        alias: &AddressOfRecord,
    ) -> Result<Option<AddressOfRecord>, StoreError> {
        Ok(self.inner.lock().aliases.get(alias).cloned())
    }

    async fn add_alias(&self, a: &Alias) -> Result<(), StoreError> {
        let mut g = self.inner.lock();
        if !g.subscribers.contains_key(&a.target) {
            return Err(StoreError::NotFound {
                what: format!("user {}", a.target),
            });
        }
        if g.subscribers.contains_key(&a.alias) {
            return Err(StoreError::Duplicate {
                what: format!("user {} (an alias cannot take a user's name)", a.alias),
            });
        }
        if g.aliases.contains_key(&a.alias) {
            return Err(StoreError::Duplicate {
                what: format!("alias {}", a.alias),
            });
        }
        g.aliases.insert(a.alias.clone(), a.target.clone());
        Ok(())
    }

    async fn delete_alias(&self, alias: &AddressOfRecord) -> Result<(), StoreError> {
        match self.inner.lock().aliases.remove(alias) {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound {
                what: format!("alias {alias}"),
            }),
        }
    }

    async fn aliases(&self, domain: Option<&str>) -> Result<Vec<Alias>, StoreError> {
        let g = self.inner.lock();
        Ok(g.aliases
            .iter()
            .filter(|(k, _)| domain.is_none_or(|d| k.domain == d.to_ascii_lowercase()))
            .map(|(k, v)| Alias {
                alias: k.clone(),
                target: v.clone(),
            })
            .collect())
    }

    async fn save_binding(&self, b: &Binding) -> Result<(), StoreError> {
        self.inner
            .lock()
            .bindings
            .insert((b.aor.clone(), b.contact.clone()), b.clone());
        Ok(())
    }

    async fn delete_binding(&self, aor: &AddressOfRecord, contact: &str) -> Result<(), StoreError> {
        self.inner
            .lock()
            .bindings
            .remove(&(aor.clone(), contact.to_string()));
        Ok(())
    }

    async fn delete_bindings(&self, aor: Option<&AddressOfRecord>) -> Result<u64, StoreError> {
        let mut g = self.inner.lock();
        let before = g.bindings.len();
        g.bindings.retain(|k, _| aor.is_some_and(|a| &k.0 != a));
        Ok((before - g.bindings.len()) as u64)
    }

    async fn bindings(
        &self,
        aor: Option<&AddressOfRecord>,
        now: u64,
    ) -> Result<Vec<Binding>, StoreError> {
        let g = self.inner.lock();
        Ok(g.bindings
            .values()
            .filter(|b| b.expires_at > now && aor.is_none_or(|a| &b.aor == a))
            .cloned()
            .collect())
    }

    async fn purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        let mut g = self.inner.lock();
        let before = g.bindings.len();
        g.bindings.retain(|_, b| b.expires_at > now);
        Ok((before - g.bindings.len()) as u64)
    }

    async fn settings(&self, aor: &AddressOfRecord) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .inner
            .lock()
            .settings
            .iter()
            .filter(|(k, _)| &k.0 == aor)
            .map(|(k, v)| (k.1.clone(), v.clone()))
            .collect())
    }

    async fn set_setting(
        &self,
        aor: &AddressOfRecord,
        name: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        let mut g = self.inner.lock();
        if !g.subscribers.contains_key(aor) {
            return Err(StoreError::NotFound {
                what: format!("user {aor}"),
            });
        }
        g.settings
            .insert((aor.clone(), name.to_string()), value.to_string());
        Ok(())
    }

    async fn delete_setting(&self, aor: &AddressOfRecord, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .inner
            .lock()
            .settings
            .remove(&(aor.clone(), name.to_string()))
            .is_some())
    }

    async fn all_settings(&self) -> Result<Vec<(AddressOfRecord, String, String)>, StoreError> {
        Ok(self
            .inner
            .lock()
            .settings
            .iter()
            .map(|(k, v)| (k.0.clone(), k.1.clone(), v.clone()))
            .collect())
    }

    async fn presence_rules(
        &self,
        watched: Option<&AddressOfRecord>,
    ) -> Result<Vec<crate::PresenceRule>, StoreError> {
        Ok(self
            .inner
            .lock()
            .presence_rules
            .iter()
            .filter(|(k, _)| watched.is_none_or(|w| &k.0 == w))
            .map(|(k, r)| crate::PresenceRule {
                watched: k.0.clone(),
                watcher: k.1.clone(),
                rule: *r,
            })
            .collect())
    }

    async fn set_presence_rule(&self, rule: &crate::PresenceRule) -> Result<(), StoreError> {
        let mut g = self.inner.lock();
        if !g.subscribers.contains_key(&rule.watched) {
            return Err(StoreError::NotFound {
                what: format!("user {}", rule.watched),
            });
        }
        g.presence_rules
            .insert((rule.watched.clone(), rule.watcher.clone()), rule.rule);
        Ok(())
    }

    async fn delete_presence_rule(
        &self,
        watched: &AddressOfRecord,
        watcher: &AddressOfRecord,
    ) -> Result<bool, StoreError> {
        Ok(self
            .inner
            .lock()
            .presence_rules
            .remove(&(watched.clone(), watcher.clone()))
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn users_aliases_bindings() {
        let s = MemoryStore::new();
        s.add_domain("Example.com").await.unwrap();
        let alice = AddressOfRecord::new("alice", "example.com");
        let sub = Subscriber {
            aor: alice.clone(),
            ha1_md5: "x".into(),
            ha1_sha256: "y".into(),
        };
        s.add_subscriber(&sub).await.unwrap();
        assert!(matches!(
            s.add_subscriber(&sub).await,
            Err(StoreError::Duplicate { .. })
        ));
        let did = AddressOfRecord::new("15551234", "example.com");
        s.add_alias(&Alias {
            alias: did.clone(),
            target: alice.clone(),
        })
        .await
        .unwrap();
        assert_eq!(s.resolve_alias(&did).await.unwrap(), Some(alice.clone()));
        // A user cannot take the alias's name.
        assert!(matches!(
            s.add_subscriber(&Subscriber {
                aor: did.clone(),
                ..sub.clone()
            })
            .await,
            Err(StoreError::Duplicate { .. })
        ));
        let b = Binding {
            aor: alice.clone(),
            contact: "sip:alice@192.0.2.1".into(),
            q: 1000,
            expires_at: 100,
            call_id: "c".into(),
            cseq: 1,
            source: "udp:192.0.2.1:5060".into(),
            path: vec![],
            user_agent: String::new(),
            node: String::new(),
            flow: None,
        };
        s.save_binding(&b).await.unwrap();
        assert_eq!(s.bindings(Some(&alice), 50).await.unwrap().len(), 1);
        assert_eq!(s.bindings(Some(&alice), 100).await.unwrap().len(), 0);
        assert_eq!(s.purge_expired(100).await.unwrap(), 1);
        s.set_setting(&alice, crate::FORWARD_ALWAYS, "carol@example.com")
            .await
            .unwrap();
        assert_eq!(s.settings(&alice).await.unwrap().len(), 1);
        assert!(s
            .set_setting(&did, crate::FORWARD_BUSY, "x@example.com")
            .await
            .is_err());
        assert!(s
            .delete_setting(&alice, crate::FORWARD_ALWAYS)
            .await
            .unwrap());
        assert!(!s
            .delete_setting(&alice, crate::FORWARD_ALWAYS)
            .await
            .unwrap());
        s.set_setting(&alice, crate::FINDME, "bob@example.com:5")
            .await
            .unwrap();
        assert_eq!(s.all_settings().await.unwrap().len(), 1);
        s.delete_domain("example.com").await.unwrap();
        assert!(s.subscriber(&alice).await.unwrap().is_none());
        assert!(s.all_settings().await.unwrap().is_empty());
    }

    /// Deleting a domain or a user takes other users' forwarding and find-me entries
    /// pointing at it along, as the SQL store does.
    #[tokio::test]
    async fn deletions_prune_settings_pointing_at_the_deleted() {
        let s = MemoryStore::new();
        let user = |u: &str, d: &str| Subscriber {
            aor: AddressOfRecord::new(u, d),
            ha1_md5: "x".into(),
            ha1_sha256: "y".into(),
        };
        s.add_domain("example.com").await.unwrap();
        s.add_domain("gone.test").await.unwrap();
        for u in [
            user("alice", "example.com"),
            user("carol", "example.com"),
            user("bob", "gone.test"),
        ] {
            s.add_subscriber(&u).await.unwrap();
        }
        let alice = AddressOfRecord::new("alice", "example.com");
        s.set_setting(&alice, crate::FORWARD_ALWAYS, "bob@gone.test")
            .await
            .unwrap();
        s.set_setting(
            &alice,
            crate::FINDME,
            "bob@gone.test:5\ncarol@example.com:5",
        )
        .await
        .unwrap();
        s.delete_domain("gone.test").await.unwrap();
        assert_eq!(
            s.settings(&alice).await.unwrap(),
            [(crate::FINDME.to_string(), "carol@example.com:5".to_string())]
        );
        s.delete_subscriber(&AddressOfRecord::new("carol", "example.com"))
            .await
            .unwrap();
        assert!(s.settings(&alice).await.unwrap().is_empty());
    }
}
