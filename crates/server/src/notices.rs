//! Applying change notices (and full reloads) to the running server's directory.
//!
//! Runs in the control connection's task, never in the core task: each notice re-reads
//! just its entity from the store, then updates [`StaticDirectory`] under a short write
//! lock, so calls keep flowing while the store answers. Notices and reloads are applied
//! one at a time (a read-then-write pair must not interleave with another), so the
//! directory ends as the store was at the last read.
//!
//! This module owns "store entity -> directory entry". It does not own what a use case
//! changes (the `admin` crate), the socket (`control`), or the periodic re-read of
//! shared-database mode (`run`).

use admin::ChangeNotice;
use model::{Gateway, GatewayTransport, Mailbox, PstnStore, StoreError, TlsVerify, UserSettings};
use proxy::{PstnTable, StaticDirectory};
use tokio::sync::Mutex;
use transport::{PeerCheck, TlsContext};

use crate::startup::{reload_directory, ServerStore};

/// Applies notices and reloads to one directory, one at a time.
pub struct Applier {
    store: std::sync::Arc<dyn ServerStore>,
    directory: std::sync::Arc<StaticDirectory>,
    /// Gateways and routes, when the server routes to the PSTN.
    pstn: Option<(std::sync::Arc<dyn PstnStore>, std::sync::Arc<PstnTable>)>,
    /// Where the gateways' certificate checks go (`--tls-verify`), with a TLS listener.
    tls: Option<std::sync::Arc<TlsContext>>,
    one_at_a_time: Mutex<()>,
}

impl Applier {
    /// An applier reading `store` into `directory`.
    pub fn new(
        store: std::sync::Arc<dyn ServerStore>,
        directory: std::sync::Arc<StaticDirectory>,
    ) -> Self {
        Self {
            store,
            directory,
            pstn: None,
            tls: None,
            one_at_a_time: Mutex::new(()),
        }
    }

    /// Also keeps `table` (gateways and routes) and the gateways' certificate checks in
    /// `tls` in line with `store`.
    pub fn with_pstn(
        mut self,
        store: std::sync::Arc<dyn PstnStore>,
        table: std::sync::Arc<PstnTable>,
        tls: Option<std::sync::Arc<TlsContext>>,
    ) -> Self {
        self.pstn = Some((store, table));
        self.tls = tls;
        self
    }

    /// Re-reads the entity `notice` names and updates the directory.
    pub async fn apply(&self, notice: &ChangeNotice) -> Result<(), StoreError> {
        let _one = self.one_at_a_time.lock().await;
        if let (
            ChangeNotice::Gateway(..)
            | ChangeNotice::Route(..)
            | ChangeNotice::Trusted(..)
            | ChangeNotice::DialPlan(..),
            Some((store, table)),
        ) = (notice, &self.pstn)
        {
            // Small tables, rebuilt whole (the route map of 100,000 prefixes in ~50 ms).
            return reload_pstn(store.as_ref(), table, self.tls.as_deref()).await;
        }
        apply(self.store.as_ref(), &self.directory, notice).await
    }

    /// A mailbox's message counts, read from the store (off the core task).
    pub async fn message_counts(
        &self,
        aor: &model::AddressOfRecord,
    ) -> Result<model::MessageCounts, StoreError> {
        self.store.message_counts(aor).await
    }

    /// Re-reads everything (the fallback for bulk changes such as `user import`).
    pub async fn reload(&self) -> anyhow::Result<()> {
        let _one = self.one_at_a_time.lock().await;
        if let Some((store, table)) = &self.pstn {
            reload_pstn(store.as_ref(), table, self.tls.as_deref()).await?;
        }
        reload_directory(self.store.as_ref(), &self.directory).await
    }
}

/// Re-reads every gateway and route into `table`, and the TLS gateways' certificate
/// checks into `tls`.
pub async fn reload_pstn(
    store: &dyn PstnStore,
    table: &PstnTable,
    tls: Option<&TlsContext>,
) -> Result<(), StoreError> {
    let gateways = store.gateways().await?;
    if let Some(tls) = tls {
        tls.set_peer_checks(gateway_checks(&gateways));
    }
    let routes = store.routes().await?;
    let trusted = store.trusted().await?;
    table.replace(gateways, routes);
    table.replace_trusted(&trusted);
    table.replace_dial_rules(store.dial_rules().await?);
    Ok(())
}

/// The certificate check of each TLS gateway's address.
fn gateway_checks(gateways: &[Gateway]) -> Vec<(std::net::SocketAddr, PeerCheck)> {
    gateways
        .iter()
        .filter(|g| g.transport == GatewayTransport::Tls)
        .map(|g| {
            let check = match g.tls_verify {
                TlsVerify::Verify => PeerCheck::Verify,
                TlsVerify::Pin(pin) => PeerCheck::Pin(pin),
                TlsVerify::Skip => PeerCheck::Skip,
            };
            (g.addr, check)
        })
        .collect()
}

/// Brings the directory's entry for the entity `notice` names in line with the store. The
/// kind of change is not trusted: the store's current state decides.
pub async fn apply(
    store: &dyn ServerStore,
    dir: &StaticDirectory,
    notice: &ChangeNotice,
) -> Result<(), StoreError> {
    match notice {
        ChangeNotice::Domain(d, _) => {
            let served = store.domains().await?;
            if served.iter().any(|x| x.eq_ignore_ascii_case(d)) {
                dir.upsert_domain(d);
            } else {
                dir.remove_domain(d);
            }
        }
        ChangeNotice::User(aor, _) => match store.subscriber(aor).await? {
            Some(s) => dir.upsert_user(s),
            None => dir.remove_user(aor),
        },
        ChangeNotice::Alias(alias, _) => match store.resolve_alias(alias).await? {
            Some(target) => dir.upsert_alias(alias.clone(), target),
            None => dir.remove_alias(alias),
        },
        ChangeNotice::Settings(aor, _) => {
            let rows = store.settings(aor).await?;
            let s = UserSettings::from_rows(rows.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            dir.set_settings(aor.clone(), s);
        }
        ChangeNotice::Mailbox(aor, _) => {
            let route = store.mailbox(aor).await?.as_ref().and_then(voicemail_route);
            dir.set_voicemail(aor.clone(), route);
        }
        ChangeNotice::PresenceRules(aor, _) => {
            dir.set_watcher_rules(aor, store.presence_rules(Some(aor)).await?);
        }
        // The PSTN tables are the applier's (`Applier::with_pstn`).
        ChangeNotice::Gateway(..)
        | ChangeNotice::Route(..)
        | ChangeNotice::Trusted(..)
        | ChangeNotice::DialPlan(..) => {}
    }
    Ok(())
}

/// What the proxy needs of a mailbox to route to it; None when voicemail is off.
pub fn voicemail_route(m: &Mailbox) -> Option<proxy::VoicemailRoute> {
    m.enabled.then_some(proxy::VoicemailRoute {
        after_secs: m.after_secs,
        no_pin_at_home: m.no_pin_at_home,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{AddressOfRecord, MemoryStore};
    use proxy::Directory as _;

    /// The directory built from notices equals the one a full reload builds, through adds,
    /// changes and cascading deletes.
    #[tokio::test]
    async fn notices_keep_the_directory_equal_to_a_full_reload() {
        let store = MemoryStore::new();
        let dir = StaticDirectory::new();
        let alice = AddressOfRecord::new("alice", "example.com");
        let bob = AddressOfRecord::new("bob", "example.com");
        let did = AddressOfRecord::new("15551234", "example.com");
        let mut notices = Vec::new();
        let pw = |p: &'static str| move || Ok(p.to_string());
        notices.extend(
            admin::add_domain(&store, "example.com")
                .await
                .unwrap()
                .notices,
        );
        notices.extend(
            admin::add_user(&store, &alice, pw("a"))
                .await
                .unwrap()
                .notices,
        );
        notices.extend(
            admin::add_user(&store, &bob, pw("b"))
                .await
                .unwrap()
                .notices,
        );
        notices.extend(admin::add_alias(&store, &did, &bob).await.unwrap().notices);
        notices.extend(
            admin::set_forwarding(&store, &alice, admin::ForwardKind::Busy, "15551234", None)
                .await
                .unwrap()
                .notices,
        );
        notices.extend(
            admin::set_password(&store, &alice, pw("a2"))
                .await
                .unwrap()
                .notices,
        );
        for n in &notices {
            apply(&store, &dir, n).await.unwrap();
        }
        let full = StaticDirectory::new();
        reload_directory(&store, &full).await.unwrap();
        assert_eq!(dir.counts(), full.counts());
        assert_eq!(dir.credentials(&alice), full.credentials(&alice));
        assert_eq!(dir.resolve_alias(&did), Some(bob.clone()));
        assert!(dir.forwarding(&alice).is_some());

        // Deleting bob takes his DID and alice's forwarding to it.
        for n in admin::delete_user(&store, &bob).await.unwrap().notices {
            apply(&store, &dir, &n).await.unwrap();
        }
        assert_eq!(dir.resolve_alias(&did), None);
        assert!(dir.forwarding(&alice).is_none());
        for n in admin::delete_domain(&store, "example.com")
            .await
            .unwrap()
            .notices
        {
            apply(&store, &dir, &n).await.unwrap();
        }
        assert_eq!(dir.counts(), (0, 0, 0));
    }
}
