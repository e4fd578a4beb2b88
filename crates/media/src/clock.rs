//! The one clock of the engine: a thread that wakes every 20 ms (on absolute deadlines, so
//! errors do not accumulate) and ticks every session: first each sends one frame, then
//! each reads what arrived and checks for dead media, then every conference room mixes. One thread for all sessions costs one wake-up per 20 ms whatever the number of
//! streams, and keeps pacing independent of the SIP core's load (the server runs its
//! core on a single-threaded runtime).

use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::EngineInner;

/// Late by more than this counts as a late tick.
const LATE: Duration = Duration::from_millis(2);

pub(crate) fn spawn(engine: Weak<EngineInner>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("media-clock".into())
        .spawn(move || run(engine))
}

fn run(engine: Weak<EngineInner>) {
    let Some(ptime) = engine.upgrade().map(|e| e.config.ptime) else {
        return;
    };
    let mut due = Instant::now() + ptime;
    let mut batch = Vec::new();
    let mut rooms = Vec::new();
    loop {
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let Some(e) = engine.upgrade() else {
            return;
        };
        if e.stop.load(Ordering::Relaxed) {
            return;
        }
        let started = Instant::now();
        let lateness = started.saturating_duration_since(due);
        e.ticks.fetch_add(1, Ordering::Relaxed);
        if lateness > LATE {
            e.late_ticks.fetch_add(1, Ordering::Relaxed);
        }
        e.max_lateness_us
            .fetch_max(lateness.as_micros() as u64, Ordering::Relaxed);
        batch.clear();
        if let Ok(s) = e.sessions.lock() {
            batch.extend(s.iter().cloned());
        }
        let timeout = e.config.rtp_timeout;
        // Every session sends first, then every session reads: the sends of a tick leave
        // at the same offsets each time, whatever arrived.
        for s in &batch {
            s.tick_send();
        }
        for s in &batch {
            s.tick_receive(started, timeout);
        }
        batch.clear();
        // Conference rooms mix what was just read; members send it on the next tick.
        if let Ok(r) = e.rooms.lock() {
            rooms.extend(r.iter().cloned());
        }
        for r in &rooms {
            r.mix();
        }
        rooms.clear();
        e.max_tick_work_us
            .fetch_max(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        drop(e);
        due += ptime;
        // After a long stall (the machine was suspended, a debugger), start afresh
        // rather than send a burst of catch-up frames.
        if Instant::now().saturating_duration_since(due) > ptime * 5 {
            due = Instant::now() + ptime;
        }
    }
}
