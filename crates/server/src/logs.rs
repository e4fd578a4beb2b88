//! The server's log output: text or JSON lines to stderr (journald under systemd), written
//! by a thread of their own so that a slow disk, a full pipe or a busy journald never
//! stalls SIP handling.
//!
//! A log line is appended to a shared buffer (a short lock, no wake-up, no system call);
//! the writer thread takes the whole buffer every [`FLUSH_EVERY`] and writes it in one go.
//! Waking a writer thread for every line (as `tracing-appender` does) cost about 35 µs of
//! CPU per line at a few hundred lines per second (bench/README.md, 2026-12-03): more than
//! handling a REGISTER. When the buffer holds [`MAX_BUFFERED`] bytes because the writer
//! fell behind, new lines are dropped and counted (`switchboard_log_lines_dropped_total`)
//! rather than making calls wait.
//!
//! The operator lines (`proxy::oplog`: registrations, calls, bans) skip `tracing`'s
//! formatter: `log_lines.rs` prints them straight into the same buffer in the same layout,
//! which costs a few microseconds instead of tens (three lines per call).

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crate::config::Config;
use crate::log_lines::{format_line, Layout};

thread_local! {
    /// Where an operator line is formatted before it is appended to the buffer.
    static SCRATCH: std::cell::RefCell<String> = std::cell::RefCell::new(String::with_capacity(512));
}

/// How often the writer thread writes what was logged.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// Bytes waiting for the writer at most (about 20,000 lines).
pub const MAX_BUFFERED: usize = 4 << 20;

static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// Lines dropped because the writer could not keep up.
pub fn dropped() -> usize {
    DROPPED.load(Ordering::Relaxed)
}

/// The lines logged and not yet written.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<Vec<u8>>>);

impl Pending {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Appends one whole line, or counts it dropped when the buffer is full.
    fn push(&self, line: &[u8]) {
        let mut buf = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if buf.len() + line.len() > MAX_BUFFERED {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        } else {
            buf.extend_from_slice(line);
        }
    }
}

impl Write for Pending {
    /// One call per log line (the formatter writes each event at once).
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        self.push(line);
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Pending {
    type Writer = Pending;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Keeps the writer thread; dropping it writes what is left and stops the thread.
pub struct LogGuard {
    pending: Pending,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
        let rest = self.pending.take();
        let _ = std::io::stderr().write_all(&rest);
    }
}

fn writer_loop(pending: Pending, stop: Arc<AtomicBool>) {
    let mut out = std::io::stderr();
    loop {
        std::thread::park_timeout(FLUSH_EVERY);
        let batch = pending.take();
        if !batch.is_empty() {
            // A failed write (stderr closed) loses these lines; nothing else can be done.
            let _ = out.write_all(&batch);
        }
        if stop.load(Ordering::Relaxed) {
            return;
        }
    }
}

/// Installs the subscriber; keep the guard until exit (dropping it writes what is left).
pub fn init(cfg: &Config) -> LogGuard {
    let pending = Pending::default();
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let (pending, stop) = (pending.clone(), stop.clone());
        std::thread::Builder::new()
            .name("switchboard-log".into())
            .spawn(move || writer_loop(pending, stop))
            .ok()
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: log files and journald get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(pending.clone());
    let layout = if cfg.server.log_format == "json" {
        b.json().init();
        Layout::Json
    } else {
        b.init();
        Layout::Text
    };
    // Colours (a terminal) are left to tracing-subscriber.
    if !ansi {
        let pending = pending.clone();
        proxy::oplog::set_line_writer(Box::new(move |line| {
            SCRATCH.with(|s| {
                let mut s = s.borrow_mut();
                s.clear();
                format_line(layout, SystemTime::now(), line, &mut s);
                pending.push(s.as_bytes());
            });
            true
        }));
    }
    LogGuard {
        pending,
        stop,
        thread,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_in_order_and_bounded() {
        let mut p = Pending::default();
        p.write_all(b"one\n").unwrap();
        p.write_all(b"two\n").unwrap();
        assert_eq!(p.take(), b"one\ntwo\n");
        assert!(p.take().is_empty());
        let before = dropped();
        let big = vec![b'x'; MAX_BUFFERED];
        p.write_all(&big).unwrap();
        p.write_all(b"over\n").unwrap();
        assert_eq!(dropped(), before + 1);
        assert_eq!(p.take().len(), MAX_BUFFERED);
    }
}
