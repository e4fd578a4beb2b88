//! The one clock of the engine: a thread that ticks every session every 20 ms, in four
//! phases 5 ms apart ([`SLOTS`]): at each, first each session of that phase sends one
//! frame, then each reads what arrived and checks for dead media; then every conference
//! room mixes.
//! One thread for all sessions costs one wake-up per 20 ms whatever the number of
//! streams, and keeps pacing independent of the SIP core's load (the server runs its core
//! on a single-threaded runtime). With no session and no room open the thread parks until
//! one opens: an idle engine does not wake at all.
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
/// Sessions are spread over this many phases of the 20 ms period (a session's slot is
/// fixed when it opens): the clock wakes every 5 ms and ticks a quarter of the sessions,
/// so the packets of 500 streams leave in bursts of ~125, not one of 500. A burst larger
/// than the kernel's softirq budget (`netdev_budget`, 300) is finished later by
/// `ksoftirqd`, at ordinary priority, which delays the tail of the burst by milliseconds
/// on a busy machine; smaller bursts also queue less at the NIC and the next hop.
pub(crate) const SLOTS: usize = 4;
/// The last stretch before a deadline is spun rather than slept.
const SPIN: Duration = Duration::from_micros(200);
/// The longest the idle clock sleeps before it looks again (see [`run`]).
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// Waits until the monotonic clock reads `due`: an absolute sleep to `SPIN` before it,
/// then a spin (`spin`: only when some session is open; an idle engine only sleeps).
fn wait_until(due: Instant, spin: bool) {
    let now = Instant::now();
    if due <= now {
        return;
    }
    let remaining = due - now;
    if !spin {
        sleep_absolute(remaining);
        return;
    }
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

/// Raises the calling thread's scheduling priority: `SCHED_FIFO` at `realtime` (1-99)
/// when that is set and allowed (`CAP_SYS_NICE` or `RLIMIT_RTPRIO`), else the nice value
/// `nice` (-20..19; lower is more CPU; allowed with `CAP_SYS_NICE` or `RLIMIT_NICE`).
/// Without the right the thread keeps its priority and a warning says so.
fn raise_priority(realtime: u8, nice: i32) {
    use thread_priority::{
        set_thread_priority_and_policy, thread_native_id, RealtimeThreadSchedulePolicy,
        ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
    };
    if realtime > 0 {
        let fifo = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo);
        let set = ThreadPriorityValue::try_from(realtime.min(99))
            .map_err(|e| e.to_string())
            .and_then(|v| {
                set_thread_priority_and_policy(
                    thread_native_id(),
                    ThreadPriority::Crossplatform(v),
                    fifo,
                )
                .map_err(|e| format!("{e:?}"))
            });
        match set {
            Ok(()) => {
                tracing::info!(priority = realtime, "media clock thread runs SCHED_FIFO");
                return;
            }
            Err(e) => tracing::warn!(
                priority = realtime,
                error = %e,
                "media clock thread not made real-time (needs CAP_SYS_NICE or LimitRTPRIO); trying clock_nice"
            ),
        }
    }
    if nice >= 0 {
        return;
    }
    raise_autogroup(nice);
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

/// With the kernel's session autogrouping on (`CONFIG_SCHED_AUTOGROUP`, the default of
/// most distributions), the scheduler shares a core between sessions first and by nice
/// value only within a session: the clock's nice -10 then counts for nothing against a
/// compile in another session, and the clock waits for the core. A process that leads
/// its session (a daemon, a systemd service) therefore gives its autogroup the same nice
/// value (`/proc/self/autogroup`, `CAP_SYS_NICE` or `RLIMIT_NICE`). A process started
/// from a shell (a test, a bench run by hand) does not: its autogroup is the shell's.
fn raise_autogroup(nice: i32) {
    let leads_session = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| session_id(&stat))
        .is_some_and(|sid| sid == rustix::process::getpid().as_raw_nonzero().get());
    if !leads_session {
        return;
    }
    match std::fs::write("/proc/self/autogroup", nice.to_string()) {
        Ok(()) => tracing::debug!(nice, "media engine's session autogroup priority raised"),
        // No autogrouping in this kernel: nice values are compared across sessions.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(
            nice,
            error = %e,
            "media engine's session autogroup priority not raised (needs CAP_SYS_NICE); pacing may suffer on a busy machine"
        ),
    }
}

/// The session id from `/proc/self/stat` (its sixth field). Read from there rather than
/// asked of `getsid`: in a PID namespace entered after the session began (a container, a
/// CI sandbox) the session leader is outside and the id is 0, which `rustix`'s `Pid`
/// cannot hold and panics on.
fn session_id(stat: &str) -> Option<i32> {
    // The command name (field two) is in parentheses and may itself hold spaces and ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(3)?.parse().ok()
}

fn run(engine: Weak<EngineInner>) {
    let Some((ptime, realtime, nice)) = engine.upgrade().map(|e| {
        (
            e.config.ptime,
            e.config.clock_realtime_priority,
            e.config.clock_nice,
        )
    }) else {
        return;
    };
    raise_priority(realtime, nice);
    let period = ptime / SLOTS as u32;
    let mut slot = 0;
    let mut due = Instant::now() + period;
    let mut batch = Vec::new();
    let mut rooms = Vec::new();
    let mut open_sessions = 0;
    loop {
        wait_until(due, open_sessions > 0);
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
            open_sessions = s.len();
            batch.extend(s.iter().filter(|x| x.slot == slot).cloned());
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
        // Once per period, after the last phase has read: conference rooms mix what their
        // members' sessions read in this period; each member sends its mix at its own
        // phase of the next period.
        if slot == SLOTS - 1 {
            if let Ok(r) = e.rooms.lock() {
                rooms.extend(r.iter().cloned());
            }
        }
        for r in &rooms {
            r.mix();
        }
        rooms.clear();
        e.max_tick_work_us
            .fetch_max(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        let idle = open_sessions == 0 && e.rooms.lock().is_ok_and(|r| r.is_empty());
        drop(e);
        due += period;
        slot = (slot + 1) % SLOTS;
        if idle {
            // Nothing to send or mix: sleep until a session or a room is added (or the
            // engine stops) rather than wake 200 times a second for nothing. The wait
            // is bounded so that a dropped engine is noticed.
            std::thread::park_timeout(IDLE_WAIT);
            due = Instant::now() + period;
            continue;
        }
        // After a long stall (the machine was suspended, a debugger), start afresh
        // rather than send a burst of catch-up frames.
        if Instant::now().saturating_duration_since(due) > ptime * 5 {
            due = Instant::now() + period;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::session_id;

    #[test]
    fn session_id_is_read_past_a_command_name_with_spaces_and_parentheses() {
        assert_eq!(
            session_id("4242 (media clock) R 1 4242 4242 34816 4242 4194560"),
            Some(4242)
        );
        assert_eq!(session_id("7 (a) b)) S 1 0 0 0 -1"), Some(0));
        assert_eq!(session_id("7 (truncated) S 1"), None);
        assert_eq!(session_id("no name at all"), None);
    }
}
