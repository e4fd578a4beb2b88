//! What the media benches (`pacing`, `conference`) share: the phones (a few UDP sockets in
//! the bench's process, each carrying many streams told apart by SSRC), the sender that
//! feeds the engine one packet per stream every 20 ms, the measurement window with the
//! clock thread's CPU, and the percentiles. Each bench owns its own readers and report.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use media::StreamParams;
use rtp::RtpHeader;
use sdp::Codec;

/// Streams carried by one phone socket.
pub const STREAMS_PER_PHONE: usize = 50;

/// The clock thread's CPU time so far, from `/proc/self/task/*/schedstat` (nanoseconds:
/// `stat`'s 10 ms ticks are too coarse for a few percent of a core).
pub fn clock_thread_cpu_secs() -> f64 {
    for e in std::fs::read_dir("/proc/self/task").unwrap() {
        let p = e.unwrap().path();
        let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        if comm.trim() == "media-clock" {
            let stat = std::fs::read_to_string(p.join("schedstat")).unwrap();
            let ns: f64 = stat.split(' ').next().unwrap().parse().unwrap();
            return ns / 1e9;
        }
    }
    0.0
}

/// The `p` quantile of sorted values (0 for none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Sorts the intervals (ms) and returns their pacing errors |interval - 20 ms|, sorted.
pub fn sorted_errors(intervals: &mut [f64]) -> Vec<f64> {
    intervals.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut e: Vec<f64> = intervals.iter().map(|i| (i - 20.0).abs()).collect();
    e.sort_by(|a, b| a.partial_cmp(b).unwrap());
    e
}

/// Enough phone sockets for `streams` streams.
pub fn phones(streams: usize) -> Vec<UdpSocket> {
    (0..streams.div_ceil(STREAMS_PER_PHONE))
        .map(|_| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            s
        })
        .collect()
}

/// A PCMU stream both ways (with telephone events) to `remote`.
pub fn pcmu_to(remote: SocketAddr) -> StreamParams {
    StreamParams {
        remote: Some(remote),
        codec: Codec::Pcmu,
        payload_type: 0,
        telephone_event: Some(101),
        send: true,
        receive: true,
    }
}

/// Phones' audio to the engine: one thread sends `payload` to every `(phone, engine
/// address)` target on 20 ms absolute deadlines (SSRC = target index + 1) until `stop`.
pub fn spawn_sender(
    phones: &[UdpSocket],
    targets: Vec<(usize, SocketAddr)>,
    payload: Vec<u8>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    let senders: Vec<UdpSocket> = phones.iter().map(|p| p.try_clone().unwrap()).collect();
    std::thread::spawn(move || {
        let mut out = Vec::with_capacity(200);
        let start = Instant::now();
        let mut k: u32 = 0;
        while !stop.load(Ordering::Relaxed) {
            let due = start + Duration::from_millis(20 * u64::from(k));
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            for (i, (phone, to)) in targets.iter().enumerate() {
                out.clear();
                RtpHeader {
                    payload_type: 0,
                    sequence_number: k as u16,
                    timestamp: k * 160,
                    ssrc: i as u32 + 1,
                    ..RtpHeader::default()
                }
                .write(&payload, 0, &mut out)
                .unwrap();
                let _ = senders[*phone].send_to(&out, to);
            }
            k += 1;
        }
    })
}

/// One measurement window: its start, its length in seconds, and the clock thread's CPU
/// seconds within it.
pub struct Window {
    /// When the window opened (arrivals before it are the warm-up's).
    pub t0: Instant,
    /// Its length, seconds.
    pub wall: f64,
    /// The clock thread's CPU over it, seconds.
    pub cpu: f64,
}

/// Starts the sender ([`spawn_sender`]), warms up for a second, forgets what `arrivals`
/// got so far, measures `secs` seconds, then stops the sender and the `readers` and waits
/// for them.
pub fn measure<T>(
    secs: u64,
    (phones, targets, payload): (&[UdpSocket], Vec<(usize, SocketAddr)>, Vec<u8>),
    arrivals: &Mutex<HashMap<u32, Vec<T>>>,
    stop: &Arc<AtomicBool>,
    readers: Vec<JoinHandle<()>>,
) -> Window {
    let sender = spawn_sender(phones, targets, payload, stop.clone());
    std::thread::sleep(Duration::from_secs(1)); // warm-up: latching, first packets
    let cpu0 = clock_thread_cpu_secs();
    let t0 = Instant::now();
    arrivals.lock().unwrap().clear();
    std::thread::sleep(Duration::from_secs(secs));
    let cpu = clock_thread_cpu_secs() - cpu0;
    let wall = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    for t in readers {
        t.join().unwrap();
    }
    Window { t0, wall, cpu }
}

/// `BENCH_SECS` (default 10).
pub fn bench_secs() -> u64 {
    std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

/// "interval ms p50 .. p99 .. max .., pacing error ms p50 .. p99 .. max ..", from sorted
/// intervals and their sorted errors ([`sorted_errors`]).
pub fn pacing_summary(intervals: &[f64], errors: &[f64]) -> String {
    format!(
        "interval ms p50 {:.2} p99 {:.2} max {:.2}, pacing error ms p50 {:.2} p99 {:.2} max {:.2}",
        percentile(intervals, 0.5),
        percentile(intervals, 0.99),
        intervals.last().copied().unwrap_or(0.0),
        percentile(errors, 0.5),
        percentile(errors, 0.99),
        errors.last().copied().unwrap_or(0.0),
    )
}

/// "late ticks N of M, max tick work N µs" from the engine's counters.
pub fn tick_summary(stats: &media::EngineStats) -> String {
    format!(
        "late ticks {} of {}, max tick work {} µs",
        stats.late_ticks, stats.ticks, stats.max_tick_work_us
    )
}

/// The engine's side of the bench: its sessions (kept open), their event queues, and
/// each stream's `(phone, engine address)` for the sender.
pub struct Streams {
    /// The sessions, stream by stream.
    pub sessions: Vec<media::MediaSession>,
    /// Their event queues (kept so that the sessions' events have somewhere to go).
    pub events: Vec<tokio::sync::mpsc::Receiver<media::MediaEvent>>,
    /// Which phone sends stream i, and to which engine address.
    pub targets: Vec<(usize, SocketAddr)>,
}

/// Opens `count` sessions on `engine`, each a PCMU stream both ways with its phone (50 a
/// phone), and lets `each` set session i up further (play, record, join a room).
pub fn open_streams(
    engine: &media::MediaEngine,
    phones: &[UdpSocket],
    count: usize,
    mut each: impl FnMut(usize, &media::MediaSession),
) -> Streams {
    let mut streams = Streams {
        sessions: Vec::new(),
        events: Vec::new(),
        targets: Vec::new(),
    };
    for i in 0..count {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let s = engine.open(tx).unwrap();
        let phone = &phones[i / STREAMS_PER_PHONE];
        s.start(pcmu_to(phone.local_addr().unwrap()));
        each(i, &s);
        streams
            .targets
            .push((i / STREAMS_PER_PHONE, s.local_addr()));
        streams.sessions.push(s);
        streams.events.push(rx);
    }
    streams
}
