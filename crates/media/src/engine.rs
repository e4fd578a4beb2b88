//! [`MediaEngine`]: the session table (bounded by the port range), opening and closing
//! sessions, and the engine's counters. The clock thread that drives the sessions is in
//! `clock.rs`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{JoinHandle, Thread};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;

use crate::config::MediaConfig;
use crate::error::MediaError;
use crate::event::MediaEvent;
use crate::mixer::{Mixer, RoomShared};
use crate::ports::PortPool;
use crate::session::{MediaSession, SessionShared};

/// The engine's counters (for metrics and the bench).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngineStats {
    /// Sessions open.
    pub sessions: usize,
    /// Clock ticks so far (four per 20 ms: one per phase).
    pub ticks: u64,
    /// Ticks that started more than 2 ms after their due time.
    pub late_ticks: u64,
    /// The latest a tick started after its due time, in microseconds.
    pub max_lateness_us: u64,
    /// The longest tick (the work of all sessions), in microseconds.
    pub max_tick_work_us: u64,
    /// Sessions opened since start.
    pub opened: u64,
    /// Sessions refused for want of a port.
    pub refused: u64,
}

pub(crate) struct EngineInner {
    pub(crate) config: MediaConfig,
    pub(crate) pool: PortPool,
    pub(crate) sessions: Mutex<Vec<Arc<SessionShared>>>,
    pub(crate) rooms: Mutex<Vec<Arc<RoomShared>>>,
    pub(crate) stop: AtomicBool,
    pub(crate) ticks: AtomicU64,
    pub(crate) late_ticks: AtomicU64,
    pub(crate) max_lateness_us: AtomicU64,
    pub(crate) max_tick_work_us: AtomicU64,
    opened: AtomicU64,
    refused: AtomicU64,
    ssrc_seed: AtomicU64,
    /// The clock thread, woken when work arrives (it parks while there is none).
    clock: OnceLock<Thread>,
}

impl EngineInner {
    /// Wakes the clock thread if it parked for want of sessions and rooms.
    pub(crate) fn wake_clock(&self) {
        if let Some(t) = self.clock.get() {
            t.unpark();
        }
    }

    pub(crate) fn close(&self, shared: &Arc<SessionShared>) {
        if let Ok(mut s) = self.sessions.lock() {
            s.retain(|x| !Arc::ptr_eq(x, shared));
        }
        if let Ok(rooms) = self.rooms.lock() {
            for r in rooms.iter() {
                r.forget(shared);
            }
        }
        self.pool.release(shared.port);
    }
}

/// The media engine. Cheap to clone; the clock thread stops when [`MediaEngine::shutdown`]
/// is called or the last clone is dropped.
#[derive(Clone)]
pub struct MediaEngine {
    inner: Arc<EngineInner>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl MediaEngine {
    /// Starts the engine and its clock thread.
    pub fn start(config: MediaConfig) -> Result<MediaEngine, MediaError> {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        let inner = Arc::new(EngineInner {
            pool: PortPool::new(config.bind_address, config.first_port, config.last_port),
            config,
            sessions: Mutex::new(Vec::new()),
            rooms: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            ticks: AtomicU64::new(0),
            late_ticks: AtomicU64::new(0),
            max_lateness_us: AtomicU64::new(0),
            max_tick_work_us: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            ssrc_seed: AtomicU64::new(seed),
            clock: OnceLock::new(),
        });
        let thread = crate::clock::spawn(Arc::downgrade(&inner)).map_err(|e| MediaError::Io {
            what: "starting the media clock thread".into(),
            source: e,
        })?;
        let _ = inner.clock.set(thread.thread().clone());
        Ok(MediaEngine {
            inner,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MediaConfig {
        &self.inner.config
    }

    /// Opens a session on a free port; its events go to `events` (a full channel drops
    /// them, counted).
    pub fn open(&self, events: mpsc::Sender<MediaEvent>) -> Result<MediaSession, MediaError> {
        if self.inner.stop.load(Ordering::Relaxed) {
            return Err(MediaError::Stopped);
        }
        let (socket, rtcp) = match self.inner.pool.bind_pair() {
            Ok(s) => s,
            Err(e) => {
                self.inner.refused.fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
        };
        let local: SocketAddr = socket.local_addr().map_err(|e| MediaError::Io {
            what: "reading an RTP socket's address".into(),
            source: e,
        })?;
        let n = self
            .inner
            .ssrc_seed
            .fetch_add(0x9E37_79B9, Ordering::Relaxed);
        let ssrc = (n ^ (n >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9) as u32;
        let shared = Arc::new(SessionShared::new(
            socket,
            rtcp,
            local.port(),
            // Round robin over the clock's phases.
            self.inner.opened.load(Ordering::Relaxed) as usize % crate::clock::SLOTS,
            ssrc,
            events,
            Instant::now(),
        ));
        self.inner
            .sessions
            .lock()
            .map_err(|_| MediaError::Stopped)?
            .push(shared.clone());
        self.inner.opened.fetch_add(1, Ordering::Relaxed);
        self.inner.wake_clock();
        Ok(MediaSession {
            shared,
            engine: self.inner.clone(),
            local,
        })
    }

    /// A new conference room's mixer (on the clock until dropped).
    pub fn mixer(&self) -> Mixer {
        Mixer::new(self.inner.clone())
    }

    /// The counters.
    pub fn stats(&self) -> EngineStats {
        let i = &self.inner;
        EngineStats {
            sessions: i.sessions.lock().map(|s| s.len()).unwrap_or(0),
            ticks: i.ticks.load(Ordering::Relaxed),
            late_ticks: i.late_ticks.load(Ordering::Relaxed),
            max_lateness_us: i.max_lateness_us.load(Ordering::Relaxed),
            max_tick_work_us: i.max_tick_work_us.load(Ordering::Relaxed),
            opened: i.opened.load(Ordering::Relaxed),
            refused: i.refused.load(Ordering::Relaxed),
        }
    }

    /// Stops the clock thread (sessions stop sending).
    pub fn shutdown(&self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        self.inner.wake_clock();
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}
