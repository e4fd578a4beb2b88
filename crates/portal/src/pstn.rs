//! The store as the PSTN pages need it: [`model::PstnStore`] for gateways, routes,
//! trusted peers and dial plans, and [`model::Store`] too, because adding a dial-plan rule
//! checks that its domain is served (the `admin` use case takes one store with both).
//!
//! Not here: the pages (`pages/pstn_*.rs`), the rules (`admin`), SQL (`storage`).

use async_trait::async_trait;

/// The PSTN half of the portal's store.
#[async_trait]
pub trait PstnBackend: model::Store + model::PstnStore {
    /// `admin::add_dial_rule` on this store.
    async fn add_dial_rule_checked(
        &self,
        domain: &str,
        pattern: &str,
        replacement: &str,
        priority: i32,
    ) -> Result<admin::Done, admin::AdminError>;
}

#[async_trait]
impl<T: model::Store + model::PstnStore> PstnBackend for T {
    async fn add_dial_rule_checked(
        &self,
        domain: &str,
        pattern: &str,
        replacement: &str,
        priority: i32,
    ) -> Result<admin::Done, admin::AdminError> {
        admin::add_dial_rule(self, domain, pattern, replacement, priority).await
    }
}
