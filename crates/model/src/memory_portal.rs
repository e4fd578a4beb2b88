//! [`PortalStore`] on [`MemoryStore`]: portal accounts, the audit log and the paged user
//! list, in memory, with the SQL store's semantics.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::aor::AddressOfRecord;
use crate::error::StoreError;
use crate::memory::MemoryStore;
use crate::portal::{AuditEntry, PortalAccount, PortalRole, PortalStore, UserQuery};

/// The portal's part of the in-memory store.
#[derive(Default)]
pub(crate) struct PortalTables {
    accounts: BTreeMap<String, PortalAccount>,
    audit: Vec<AuditEntry>,
    next_audit: i64,
}

impl PortalTables {
    /// A deleted domain leaves every domain admin's list (as the SQL store's delete does).
    pub(crate) fn forget_domain(&mut self, domain: &str) {
        for a in self.accounts.values_mut() {
            if let PortalRole::DomainAdmin(ds) = &mut a.role {
                ds.retain(|d| d != domain);
            }
        }
    }
}

#[async_trait]
impl PortalStore for MemoryStore {
    async fn portal_account(&self, name: &str) -> Result<Option<PortalAccount>, StoreError> {
        Ok(self.inner.lock().portal.accounts.get(name).cloned())
    }

    async fn add_portal_account(&self, account: &PortalAccount) -> Result<(), StoreError> {
        let mut g = self.inner.lock();
        if g.portal.accounts.contains_key(&account.name) {
            return Err(StoreError::Duplicate {
                what: format!("portal account {}", account.name),
            });
        }
        g.portal
            .accounts
            .insert(account.name.clone(), account.clone());
        Ok(())
    }

    async fn set_portal_password(&self, name: &str, hash: &str) -> Result<(), StoreError> {
        match self.inner.lock().portal.accounts.get_mut(name) {
            Some(a) => {
                a.password_hash = hash.to_string();
                Ok(())
            }
            None => Err(StoreError::NotFound {
                what: format!("portal account {name}"),
            }),
        }
    }

    async fn portal_account_count(&self) -> Result<u64, StoreError> {
        Ok(self.inner.lock().portal.accounts.len() as u64)
    }

    async fn append_audit(&self, entry: &AuditEntry, keep: u64) -> Result<(), StoreError> {
        let mut g = self.inner.lock();
        g.portal.next_audit += 1;
        let id = g.portal.next_audit;
        g.portal.audit.push(AuditEntry {
            id,
            ..entry.clone()
        });
        let keep = usize::try_from(keep).unwrap_or(usize::MAX);
        let len = g.portal.audit.len();
        if len > keep {
            g.portal.audit.drain(..len - keep);
        }
        Ok(())
    }

    async fn audit(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let g = self.inner.lock();
        Ok(g.portal
            .audit
            .iter()
            .rev()
            .filter(|e| before.is_none_or(|b| e.id < b))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn user_page(&self, q: &UserQuery) -> Result<Vec<AddressOfRecord>, StoreError> {
        let g = self.inner.lock();
        let mut users: Vec<&AddressOfRecord> = g
            .subscribers
            .keys()
            .filter(|a| q.domains.as_ref().is_none_or(|ds| ds.contains(&a.domain)))
            .filter(|a| a.user.starts_with(&q.prefix))
            .filter(|a| {
                q.after
                    .as_ref()
                    .is_none_or(|after| (&a.domain, &a.user) > (&after.domain, &after.user))
            })
            .collect();
        users.sort_by(|a, b| (&a.domain, &a.user).cmp(&(&b.domain, &b.user)));
        Ok(users.into_iter().take(q.limit as usize).cloned().collect())
    }
}
