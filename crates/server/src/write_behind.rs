//! The write-behind task: binding changes from the registrar (and subscription changes
//! from the notifiers, `kept_subscriptions.rs`) reach the store in order,
//! gathered for `[registrar] write_behind_ms` into one database transaction, so a steady
//! trickle of registrations costs one transaction per interval (docs/decisions/0004).

use std::sync::Arc;
use std::time::Duration;

use model::Store as _;
use registrar::Change;
use storage::SqlStore;
use tokio::sync::{mpsc, oneshot};

/// What the core hands the write-behind task.
pub enum WriterInput {
    /// Binding changes, in the order the registrar made them.
    Changes(Vec<Change>),
    /// Subscriptions to keep or forget, in the order the proxy changed them.
    Subscriptions(Vec<proxy::SubscriptionChange>),
    /// Write everything received so far now, then answer.
    Flush(oneshot::Sender<String>),
}

/// Applies binding changes to the store in order. After the first change of a batch it
/// gathers for `gather` (until a flush is asked for, or the core closes the channel), so
/// that a steady trickle of registrations costs one database transaction per interval,
/// not one each.
pub async fn write_behind(
    store: Arc<SqlStore>,
    mut rx: mpsc::UnboundedReceiver<WriterInput>,
    gather: Duration,
) {
    let mut buf: Vec<WriterInput> = Vec::new();
    let mut open = true;
    let flush_asked = |b: &[WriterInput]| b.iter().any(|i| matches!(i, WriterInput::Flush(_)));
    while open && rx.recv_many(&mut buf, 1024).await > 0 {
        if !gather.is_zero() && !flush_asked(&buf) {
            let until = tokio::time::Instant::now() + gather;
            loop {
                let before = buf.len();
                tokio::select! {
                    n = rx.recv_many(&mut buf, 1024) => {
                        if n == 0 {
                            open = false;
                            break;
                        }
                        if flush_asked(&buf[before..]) {
                            break;
                        }
                    }
                    _ = tokio::time::sleep_until(until) => break,
                }
            }
        }
        let mut saves = Vec::new();
        let mut acks = Vec::new();
        let mut subscriptions = Vec::new();
        let changes = buf.drain(..).filter_map(|input| match input {
            WriterInput::Changes(c) => Some(c),
            WriterInput::Subscriptions(s) => {
                subscriptions.extend(s);
                None
            }
            WriterInput::Flush(ack) => {
                acks.push(ack);
                None
            }
        });
        let changes: Vec<Change> = changes.flatten().collect();
        for change in changes {
            match change {
                Change::Save(b) | Change::Add(b) => saves.push(b),
                other => {
                    flush_saves(&store, &mut saves).await;
                    let r = match &other {
                        Change::Delete(aor, contact) => store.delete_binding(aor, contact).await,
                        Change::DeleteAll(aor) => {
                            store.delete_bindings(Some(aor)).await.map(|_| ())
                        }
                        Change::Save(_) | Change::Add(_) => Ok(()),
                    };
                    if let Err(e) = r {
                        tracing::error!(error = %e, "persisting a binding removal");
                    }
                }
            }
        }
        flush_saves(&store, &mut saves).await;
        keep_subscriptions(&store, subscriptions).await;
        for ack in acks {
            let _ = ack.send("ok".into());
        }
    }
}

async fn flush_saves(store: &SqlStore, saves: &mut Vec<model::Binding>) {
    if saves.is_empty() {
        return;
    }
    if let Err(e) = store.save_bindings(saves).await {
        tracing::error!(error = %e, count = saves.len(), "persisting bindings");
    }
    saves.clear();
}

/// Writes subscription changes in order: consecutive saves in one transaction.
async fn keep_subscriptions(store: &SqlStore, changes: Vec<proxy::SubscriptionChange>) {
    use model::SubscriptionStore as _;
    let mut saves = Vec::new();
    for change in changes {
        match change {
            proxy::SubscriptionChange::Save(s) => saves.push(*s),
            proxy::SubscriptionChange::Delete(call_id, remote, local) => {
                if !saves.is_empty() {
                    if let Err(e) = store.save_subscriptions(&saves).await {
                        tracing::error!(error = %e, "persisting subscriptions");
                    }
                    saves.clear();
                }
                if let Err(e) = store.delete_subscription(&call_id, &remote, &local).await {
                    tracing::error!(error = %e, "deleting a kept subscription");
                }
            }
        }
    }
    if !saves.is_empty() {
        if let Err(e) = store.save_subscriptions(&saves).await {
            tracing::error!(error = %e, "persisting subscriptions");
        }
    }
}
