//! The server's log output: text or JSON lines to stderr (journald under systemd),
//! written by a thread of their own so that a slow disk, a full pipe or a busy journald
//! never stalls SIP handling. The core hands each line to a bounded queue
//! ([`QUEUE_LINES`]); when the writer falls that far behind, new lines are dropped and
//! counted (`switchboard_log_lines_dropped_total`) rather than making calls wait.

use std::sync::OnceLock;

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};

use crate::config::Config;

/// Lines waiting for the writer thread at most.
pub const QUEUE_LINES: usize = 65_536;

static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();

/// Lines dropped because the writer could not keep up.
pub fn dropped() -> usize {
    DROPPED.get().map_or(0, ErrorCounter::dropped_lines)
}

/// Installs the subscriber; keep the guard until exit (dropping it flushes the queue).
pub fn init(cfg: &Config) -> WorkerGuard {
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(QUEUE_LINES)
        .lossy(true)
        .thread_name("switchboard-log")
        .finish(std::io::stderr());
    let _ = DROPPED.set(writer.error_counter());
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: log files and journald get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    if cfg.server.log_format == "json" {
        b.json().init();
    } else {
        b.init();
    }
    guard
}
