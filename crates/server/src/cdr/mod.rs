//! Call records (CDRs) off the core task: the core hands each call event to a bounded
//! queue ([`Feed`], never waiting: a full queue drops and counts), and the writer task
//! ([`writer`]) folds them into records (`fold.rs`) and saves them in batches, one
//! transaction per `[cdr] write_ms`, through [`model::CdrStore`]. It also deletes records
//! older than `[cdr] keep_days`.
//!
//! This module owns the queue, the writer and their counters (rendered with the server's
//! metrics); what a record holds is `model`'s, its SQL `storage`'s.

mod fold;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use model::{CallRecord, CdrStore};
use proxy::events::CallEvent;
use tokio::sync::mpsc;

use crate::config::CdrSection;
pub use fold::Fold;

/// How often old records are looked for.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Records saved in one transaction at most (more when earlier batches failed).
const MAX_BATCH: usize = 2000;

/// Tries of a batch the database refuses.
const MAX_ATTEMPTS: u32 = 3;

/// Records held for another try at most.
const MAX_HELD: usize = 50_000;

static QUEUED: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static WRITTEN: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);
static EXPIRED: AtomicU64 = AtomicU64::new(0);

/// Unix milliseconds now.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The core's end of the queue.
pub struct Feed {
    tx: Option<mpsc::Sender<CallEvent>>,
}

impl Feed {
    /// A feed that discards every event (`[cdr] enabled = false`).
    pub fn off() -> Feed {
        Feed { tx: None }
    }

    /// Queues one event; a full queue drops it (counted).
    pub fn send(&self, ev: CallEvent) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(ev) {
            Ok(()) => {
                QUEUED.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Starts the writer: the feed for the core, and the task (it ends once the feed is
/// dropped and everything queued is written). `origin_ms` is the wall-clock time of the
/// proxy's clock zero.
pub fn start(
    store: Arc<dyn CdrStore>,
    cfg: &CdrSection,
    origin_ms: u64,
) -> (Feed, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(cfg.queue);
    // Unique per run: record ids of two runs (or two nodes on one database) never clash.
    let run = format!("{origin_ms:x}-{:x}", std::process::id());
    let fold = Fold::new(&run, origin_ms, cfg.max_open_calls);
    let task = tokio::spawn(writer(
        store,
        rx,
        fold,
        Duration::from_millis(cfg.write_ms),
        cfg.keep_days,
    ));
    (Feed { tx: Some(tx) }, task)
}

/// Folds events into records and saves them, gathering for `gather` after the first.
async fn writer(
    store: Arc<dyn CdrStore>,
    mut rx: mpsc::Receiver<CallEvent>,
    mut fold: Fold,
    gather: Duration,
    keep_days: u32,
) {
    let mut events = Vec::with_capacity(1024);
    let mut records: Vec<CallRecord> = Vec::new();
    let mut retention = tokio::time::interval(RETENTION_EVERY);
    let mut open = true;
    let mut failures = 0;
    while open {
        tokio::select! {
            n = rx.recv_many(&mut events, 1024) => {
                if n == 0 {
                    break;
                }
            }
            _ = retention.tick() => {
                expire(store.as_ref(), keep_days).await;
                continue;
            }
        }
        let until = tokio::time::Instant::now() + gather;
        loop {
            QUEUED.fetch_sub(events.len() as u64, Ordering::Relaxed);
            for ev in events.drain(..) {
                fold.apply(&ev, &mut records);
            }
            if records.len() >= MAX_BATCH {
                break;
            }
            tokio::select! {
                n = rx.recv_many(&mut events, 1024) => {
                    if n == 0 {
                        open = false;
                        break;
                    }
                }
                _ = tokio::time::sleep_until(until) => break,
            }
        }
        save(store.as_ref(), &mut records, &mut failures).await;
    }
    while !records.is_empty() {
        save(store.as_ref(), &mut records, &mut failures).await;
    }
    if fold.evicted > 0 || fold.orphans > 0 {
        tracing::warn!(
            evicted = fold.evicted,
            orphans = fold.orphans,
            "call records: calls given up (too many open) or events of unknown calls"
        );
    }
}

/// Saves `records`. A batch the database refuses is kept and tried again with the next
/// one (a database restarting loses nothing), [`MAX_ATTEMPTS`] times at most and while it
/// holds fewer than [`MAX_HELD`] records; then it is given up, counted and logged.
async fn save(store: &dyn CdrStore, records: &mut Vec<CallRecord>, failures: &mut u32) {
    if records.is_empty() {
        return;
    }
    let n = records.len() as u64;
    match store.save_records(records).await {
        Ok(()) => {
            WRITTEN.fetch_add(n, Ordering::Relaxed);
            *failures = 0;
        }
        Err(e) => {
            *failures += 1;
            if *failures < MAX_ATTEMPTS && records.len() < MAX_HELD {
                tracing::warn!(error = %e, count = n, "writing call records; trying again");
                return;
            }
            *failures = 0;
            FAILED.fetch_add(n, Ordering::Relaxed);
            tracing::error!(error = %e, count = n, "writing call records: given up");
        }
    }
    records.clear();
}

/// Deletes records past `keep_days` (0: none).
async fn expire(store: &dyn CdrStore, keep_days: u32) {
    if keep_days == 0 {
        return;
    }
    let before = unix_ms().saturating_sub(u64::from(keep_days) * 86_400_000);
    match store.delete_records_before(before).await {
        Ok(n) => {
            EXPIRED.fetch_add(n, Ordering::Relaxed);
            if n > 0 {
                tracing::info!(
                    deleted = n,
                    keep_days,
                    "call records past retention deleted"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "deleting old call records"),
    }
}

/// The writer's figures in the Prometheus text format.
pub fn render_metrics(out: &mut String) {
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "# HELP switchboard_cdr_events_queued Call events waiting for the call-record writer.\n\
         # TYPE switchboard_cdr_events_queued gauge\n\
         switchboard_cdr_events_queued {}\n\
         # HELP switchboard_cdr_events_dropped_total Call events dropped because the call-record queue was full.\n\
         # TYPE switchboard_cdr_events_dropped_total counter\n\
         switchboard_cdr_events_dropped_total {}\n\
         # HELP switchboard_cdr_rows_total Call-record rows written, failed to write, and deleted past retention.\n\
         # TYPE switchboard_cdr_rows_total counter\n\
         switchboard_cdr_rows_total{{outcome=\"written\"}} {}\n\
         switchboard_cdr_rows_total{{outcome=\"failed\"}} {}\n\
         switchboard_cdr_rows_total{{outcome=\"expired\"}} {}",
        load(&QUEUED),
        load(&DROPPED),
        load(&WRITTEN),
        load(&FAILED),
        load(&EXPIRED),
    );
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use model::{CdrFilter, StoreError};
    use proxy::events::{CallEventKind, CallRef, CallStart};

    use super::*;

    /// A store that refuses its first `refuse` writes.
    struct Flaky {
        refuse: Mutex<u32>,
        saved: Mutex<Vec<CallRecord>>,
    }

    #[async_trait]
    impl CdrStore for Flaky {
        async fn save_records(&self, records: &[CallRecord]) -> Result<(), StoreError> {
            let mut refuse = self.refuse.lock().unwrap();
            if *refuse > 0 {
                *refuse -= 1;
                return Err(StoreError::Backend("down".into()));
            }
            self.saved.lock().unwrap().extend_from_slice(records);
            Ok(())
        }
        async fn records(&self, _: &CdrFilter) -> Result<Vec<CallRecord>, StoreError> {
            Ok(self.saved.lock().unwrap().clone())
        }
        async fn delete_records_before(&self, _: u64) -> Result<u64, StoreError> {
            Ok(0)
        }
    }

    fn failed_call(call: u64) -> [CallEvent; 2] {
        let start = CallStart {
            call_id: format!("c{call}"),
            identity: None,
            from: "sip:alice@example.com".into(),
            dialled: "sip:bob@example.com".into(),
            source: "udp:192.0.2.7:5060".into(),
            routed: true,
        };
        [
            CallEvent {
                call: CallRef(call),
                at: Duration::ZERO,
                kind: CallEventKind::Started(Box::new(start)),
            },
            CallEvent {
                call: CallRef(call),
                at: Duration::from_millis(5),
                kind: CallEventKind::Failed {
                    status: 480,
                    reason: String::new(),
                },
            },
        ]
    }

    #[tokio::test]
    async fn a_database_that_refuses_twice_loses_nothing() {
        let store = Arc::new(Flaky {
            refuse: Mutex::new(2),
            saved: Mutex::new(Vec::new()),
        });
        let cfg = CdrSection {
            write_ms: 0,
            keep_days: 0,
            ..CdrSection::default()
        };
        let (feed, task) = start(store.clone(), &cfg, 1_700_000_000_000);
        for call in 1..=3 {
            for ev in failed_call(call) {
                feed.send(ev);
            }
        }
        drop(feed);
        task.await.unwrap();
        let saved = store.saved.lock().unwrap();
        let mut ids: Vec<&str> = saved.iter().map(|r| r.call_id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["c1", "c2", "c3"]);
    }
}
