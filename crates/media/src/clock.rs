//! The one clock of the engine: a thread that wakes every 20 ms and ticks every session:
//! first each sends one frame, then each reads what arrived and checks for dead media.
//! One thread for all sessions costs one wake-up per 20 ms whatever the number of
//! streams, and keeps pacing independent of the SIP core's load (the server runs its core
//! on a single-threaded runtime).
//!
//! Deadlines are absolute (`clock_nanosleep` with `TIMER_ABSTIME` on `CLOCK_MONOTONIC`), so
//! neither the work of a tick nor a late wake-up shifts the next one. The thread sleeps
//! until [`SPIN`] before the deadline and spins the rest: a sleeping thread is woken some
//! 50 µs to a few ms late depending on the machine's load, a spinning one is on time
//! (the spin costs at most 1 % of a core).

use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::EngineInner;

/// Late by more than this counts as a late tick.
const LATE: Duration = Duration::from_millis(2);
/// The last stretch before a deadline is spun rather than slept.
const SPIN: Duration = Duration::from_micros(200);

/// Waits until the monotonic clock reads `due`: an absolute sleep to `SPIN` before it,
/// then a spin.
fn wait_until(due: Instant) {
    let now = Instant::now();
    if due <= now {
        return;
    }
    let remaining = due - now;
    if remaining > SPIN {
        sleep_absolute(remaining - SPIN);
    }
    while Instant::now() < due {
        std::hint::spin_loop();
    }
}

/// Sleeps until `from_now` after the monotonic clock's present reading, as an absolute
/// deadline of the clock `Instant` reads on Linux (`CLOCK_MONOTONIC`).
fn sleep_absolute(from_now: Duration) {
    use nix::sys::time::TimeSpec;
    use nix::time::{clock_gettime, clock_nanosleep, ClockId, ClockNanosleepFlags};
    let Ok(now) = clock_gettime(ClockId::CLOCK_MONOTONIC) else {
        std::thread::sleep(from_now);
        return;
    };
    let deadline = Duration::from(now) + from_now;
    let deadline = TimeSpec::from_duration(deadline);
    // EINTR: the spin after it makes up for an early return.
    let _ = clock_nanosleep(
        ClockId::CLOCK_MONOTONIC,
        ClockNanosleepFlags::TIMER_ABSTIME,
        &deadline,
    );
}

pub(crate) fn spawn(engine: Weak<EngineInner>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("media-clock".into())
        .spawn(move || run(engine))
}

/// Raises the calling thread's scheduling priority to `nice` (-20..19; lower is more
/// CPU). Without the right (`CAP_SYS_NICE`, or an `RLIMIT_NICE` that allows it) the
/// thread keeps its priority and a warning says so.
fn raise_priority(nice: i32) {
    if nice >= 0 {
        return;
    }
    // On Linux, setpriority on a thread id changes that thread only.
    let tid = rustix::thread::gettid();
    match rustix::process::setpriority_process(Some(tid), nice) {
        Ok(()) => tracing::debug!(nice, "media clock thread priority raised"),
        Err(e) => tracing::warn!(
            nice,
            error = %e,
            "media clock thread priority not raised (needs CAP_SYS_NICE); pacing may suffer on a busy machine"
        ),
    }
}

fn run(engine: Weak<EngineInner>) {
    let Some((ptime, nice)) = engine
        .upgrade()
        .map(|e| (e.config.ptime, e.config.clock_nice))
    else {
        return;
    };
    raise_priority(nice);
    let mut due = Instant::now() + ptime;
    let mut batch = Vec::new();
    loop {
        wait_until(due);
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
