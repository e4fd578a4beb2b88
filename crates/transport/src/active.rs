//! Counting live connection tasks so that shutdown can wait for them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// Live task count, with a wake-up when it drops to zero.
#[derive(Debug, Default)]
pub(crate) struct ActiveTasks {
    count: AtomicUsize,
    zero: Notify,
}

/// Held by a live task; decrements the count when dropped.
pub(crate) struct ActiveGuard(Arc<ActiveTasks>);

impl ActiveTasks {
    pub fn enter(self: &Arc<Self>) -> ActiveGuard {
        self.count.fetch_add(1, Ordering::AcqRel);
        ActiveGuard(self.clone())
    }

    /// Waits until no task is live, at most `limit`; true if none is.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.zero.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.count.load(Ordering::Acquire) == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.zero.notify_waiters();
        }
    }
}
