//! Subscriptions that survive a restart (issue 17): every dialog and presence
//! (`dialog_event.rs`) and
//! message-waiting (`mwi.rs`) subscription the server holds is handed to the server to
//! write behind the core when it is created, refreshed or ended
//! ([`crate::Output::Subscription`]), like a binding; at start the server hands the live
//! ones back ([`Proxy::restore_subscriptions`]), so a refresh after a restart gets 200,
//! not 481, and the watcher's NOTIFYs resume.
//!
//! Not written on every NOTIFY: the CSeq and the dialog-info version a subscription had
//! when written are raised by [`RESTART_GAP`] when it is restored, so the NOTIFYs after a
//! restart still count up (a watcher takes the jump in versions as missed NOTIFYs, and the
//! next NOTIFY it gets, the answer to its refresh, is the full state).
//!
//! Not here: the tables themselves (`presence/watchers.rs`, `services/mwi.rs`), the SQL
//! (`storage`), the writer (the server's `write_behind.rs`).

use std::time::Duration;

use model::StoredSubscription;

use super::Proxy;
use crate::destination::Destination;
use crate::presence::watchers::{Package, Watch};
use crate::services::mwi::{self, DialogKey, Subscription};

/// Added to a restored subscription's CSeq and version.
pub const RESTART_GAP: u32 = 1000;

/// A change to the subscriptions kept in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionChange {
    /// Created or refreshed: write it (replacing the row of its dialog).
    Save(Box<StoredSubscription>),
    /// Ended: delete the row of this dialog (Call-ID, subscriber's tag, our tag).
    Delete(String, String, String),
}

impl Proxy {
    /// Unix time of `at` (proxy time), for the store.
    fn wall_of(&self, now: Duration, at: Duration) -> u64 {
        self.wall_now + at.saturating_sub(now).as_secs()
    }

    /// The dialog subscription `key` changed (`dialog_event.rs`): written, or deleted when
    /// it is gone.
    pub(super) fn keep_watch(&mut self, now: Duration, key: &DialogKey) {
        let change = match self.watchers.get_mut(now, key).map(|w| w.clone()) {
            Some(w) => SubscriptionChange::Save(Box::new(StoredSubscription {
                package: w.package.as_str().into(),
                call_id: key.0.clone(),
                remote_tag: key.1.clone(),
                local_tag: key.2.clone(),
                watched: w.watched,
                watcher: w.watcher,
                remote_uri: w.remote_uri,
                contact: w.contact,
                source: w.dest.to_source_string(),
                expires_at: self.wall_of(now, w.expires_at),
                cseq: w.cseq,
                version: w.version,
            })),
            None => forget(key),
        };
        self.outbox.subscription(change);
    }

    /// The message-waiting subscription `key` changed (`mwi.rs`).
    pub(super) fn keep_mwi(&mut self, now: Duration, key: &DialogKey) {
        let change = match self.mwi.get_mut(now, key).map(|s| s.clone()) {
            Some(s) => SubscriptionChange::Save(Box::new(StoredSubscription {
                package: mwi::EVENT.into(),
                call_id: key.0.clone(),
                remote_tag: key.1.clone(),
                local_tag: key.2.clone(),
                watched: s.aor.clone(),
                watcher: s.aor,
                remote_uri: s.remote_uri,
                contact: s.contact,
                source: s.dest.to_source_string(),
                expires_at: self.wall_of(now, s.expires_at),
                cseq: s.cseq,
                version: 0,
            })),
            None => forget(key),
        };
        self.outbox.subscription(change);
    }

    /// A subscription ended where no time is at hand (a NOTIFY's failure answer).
    pub(super) fn forget_subscription(&mut self, key: &DialogKey) {
        self.outbox.subscription(forget(key));
    }

    /// The live subscriptions the store kept (at start, `now` the proxy's clock, `wall`
    /// Unix time): each goes back into its table, its CSeq and version raised by
    /// [`RESTART_GAP`]. Answers how many were restored (ones whose package, address or
    /// bound no longer fit are skipped, with a log line).
    pub fn restore_subscriptions(
        &mut self,
        now: Duration,
        wall: u64,
        subs: Vec<StoredSubscription>,
    ) -> usize {
        let mut restored = 0;
        for s in subs {
            let Some(dest) = Destination::from_source_string(&s.source) else {
                tracing::warn!(source = %s.source, "kept subscription with a bad address: skipped");
                continue;
            };
            let key: DialogKey = (s.call_id, s.remote_tag, s.local_tag);
            let expires_at = now + Duration::from_secs(s.expires_at.saturating_sub(wall));
            let cseq = s.cseq.saturating_add(RESTART_GAP);
            let ok = match s.package.as_str() {
                package @ ("dialog" | "presence") => self
                    .watchers
                    .insert(
                        now,
                        key,
                        Watch {
                            package: if package == "dialog" {
                                Package::Dialog
                            } else {
                                Package::Presence
                            },
                            watched: s.watched,
                            watcher: s.watcher,
                            remote_uri: s.remote_uri,
                            contact: s.contact,
                            dest,
                            expires_at,
                            cseq,
                            version: s.version.saturating_add(RESTART_GAP),
                        },
                    )
                    .is_ok(),
                mwi::EVENT => self
                    .mwi
                    .insert(
                        now,
                        key,
                        Subscription {
                            aor: s.watched,
                            remote_uri: s.remote_uri,
                            contact: s.contact,
                            dest,
                            expires_at,
                            cseq,
                        },
                    )
                    .is_ok(),
                other => {
                    tracing::warn!(
                        package = other,
                        "kept subscription of an unknown package: skipped"
                    );
                    false
                }
            };
            if ok {
                restored += 1;
            }
        }
        restored
    }
}

fn forget(key: &DialogKey) -> SubscriptionChange {
    SubscriptionChange::Delete(key.0.clone(), key.1.clone(), key.2.clone())
}
