//! The instant-message store task (issue 17, docs/messages.md): every piece of work on
//! stored messages the proxy asks for ([`proxy::Output::Messages`], and the
//! [`proxy::Query::StoreMessage`] of a parked MESSAGE) runs here, one at a time, in the
//! order the core sent it. So a message deleted after its 2xx is gone before a later
//! REGISTER's fetch reads the store, and a message is delivered once.
//!
//! It also deletes messages older than `[messages] keep_days` (once a minute) and
//! messages whose deliveries failed `max_attempts` times, each with a log line, and keeps
//! the proxy's gauge of stored messages true after every change (and once a minute, for
//! `messages purge` run beside the server).
//!
//! Not here: when to store or deliver (the proxy's `core/messages.rs`), the SQL (`storage`).

use std::sync::Arc;
use std::time::Duration;

use model::{AddressOfRecord, ImStore as _, InstantMessage, NewInstantMessage};
use proxy::{ImWork, QueryAnswer, StoreOutcome};
use storage::SqlStore;
use tokio::sync::mpsc;

use crate::config::MessagesSection;
use crate::run::{wall_clock, CoreInput};

/// Work for the task.
#[derive(Debug)]
pub enum ImInput {
    /// Store a MESSAGE; answer the parked request `token`.
    Store {
        /// The query's token.
        token: u64,
        /// The message.
        message: Box<NewInstantMessage>,
        /// The per-user bound.
        max_per_user: u32,
    },
    /// Fetch, delivered or failed.
    Work(ImWork),
}

/// What the task tells the core.
#[derive(Debug)]
pub enum ImReport {
    /// The messages waiting for a user (after an [`ImWork::Fetch`]).
    Pending(AddressOfRecord, Vec<InstantMessage>),
    /// Messages stored now.
    Count(u64),
}

/// Runs the work in order until the core closes the channel.
pub async fn run(
    store: Arc<SqlStore>,
    cfg: MessagesSection,
    mut rx: mpsc::UnboundedReceiver<ImInput>,
    core: mpsc::Sender<CoreInput>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        let changed = tokio::select! {
            input = rx.recv() => match input {
                Some(input) => handle(&store, &cfg, input, &core).await,
                None => return,
            },
            // Once a minute: expiry, and a recount (`messages purge` changes the store
            // behind the server's back).
            _ = tick.tick() => {
                expire(&store, &cfg).await;
                true
            }
        };
        if changed {
            match store.instant_message_count().await {
                Ok(n) => {
                    let _ = core.send(CoreInput::Messages(ImReport::Count(n))).await;
                }
                Err(e) => tracing::warn!(error = %e, "counting stored messages"),
            }
        }
    }
}

/// Does one piece of work; true when the store changed.
async fn handle(
    store: &SqlStore,
    cfg: &MessagesSection,
    input: ImInput,
    core: &mpsc::Sender<CoreInput>,
) -> bool {
    match input {
        ImInput::Store {
            token,
            message,
            max_per_user,
        } => {
            let outcome = match store.store_instant_message(&message, max_per_user).await {
                Ok(id) => StoreOutcome::Stored(id),
                Err(model::StoreError::Full { .. }) => StoreOutcome::Full,
                Err(e) => {
                    tracing::warn!(error = %e, to = %message.to, "storing a message failed");
                    StoreOutcome::Failed
                }
            };
            let stored = matches!(outcome, StoreOutcome::Stored(_));
            let answer = QueryAnswer::Stored(outcome);
            let _ = core.send(CoreInput::QueryAnswer(token, answer)).await;
            // The gauge moved with the 202 already; a recount follows a change only.
            stored
        }
        ImInput::Work(ImWork::Fetch(aor)) => {
            let found = match store.pending_instant_messages(&aor, cfg.max_per_user).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, user = %aor, "reading stored messages failed");
                    Vec::new()
                }
            };
            let _ = core
                .send(CoreInput::Messages(ImReport::Pending(aor, found)))
                .await;
            false
        }
        ImInput::Work(ImWork::Delivered(id)) => {
            if let Err(e) = store.delete_instant_message(id).await {
                tracing::error!(error = %e, id, "deleting a delivered message failed");
            }
            true
        }
        ImInput::Work(ImWork::Failed(id)) => match store.instant_message_failed(id).await {
            Ok(Some(n)) if n >= cfg.max_attempts => {
                tracing::warn!(
                    target: proxy::oplog::TARGET,
                    id,
                    attempts = n,
                    "message dropped after failed deliveries"
                );
                let _ = store.delete_instant_message(id).await;
                true
            }
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(error = %e, id, "counting a failed delivery");
                false
            }
        },
    }
}

/// Deletes messages older than `keep_days`.
async fn expire(store: &SqlStore, cfg: &MessagesSection) {
    if cfg.keep_days == 0 {
        return;
    }
    let before = wall_clock().saturating_sub(u64::from(cfg.keep_days) * 86_400);
    match store.purge_instant_messages(None, before).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            target: proxy::oplog::TARGET,
            count = n,
            keep_days = cfg.keep_days,
            "messages expired undelivered"
        ),
        Err(e) => tracing::warn!(error = %e, "expiring stored messages"),
    }
}
