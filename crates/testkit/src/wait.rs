//! Bounded waits: every wait of the harness is for a condition (a process exiting, a port
//! bound, a store listing), and fails the test after a limit instead of hanging it.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How long any single wait may take before the test fails instead of hanging.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// Waits for a child with a hang guard; kills it when the guard fires.
pub fn wait_child(child: &mut Child, what: &str, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls `cond` until it holds, failing after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
