//! Bench: conference rooms on the engine's clock. ROOMS rooms of SIZE participants (default
//! 10 of 5); each participant's phone sends a tone (PCMU, 20 ms) and times the arrival of
//! every packet the engine sends it (the mix of the others). The same streams are run
//! first without rooms (each session just receives and sends silence), so the difference
//! is what mixing costs. Phones are a few UDP sockets in this process, each carrying many
//! streams (told apart by SSRC).
//!
//! Prints, per run: the clock thread's CPU (per participant), and the inter-arrival
//! interval of the engine's packets (p50/p99/max) with the pacing error |interval - 20 ms|.
//! `bench/conference.sh` runs it in release mode; figures in bench/README.md.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use media::{MediaConfig, MediaEngine, StreamParams};
use rtp::{RtpHeader, RtpPacket};
use sdp::Codec;
use tokio::sync::mpsc;

const STREAMS_PER_PHONE: usize = 50;

/// The clock thread's CPU time so far, from `/proc/self/task/*/schedstat` (nanoseconds:
/// `stat`'s 10 ms ticks are too coarse for a few percent of a core).
fn clock_thread_cpu_secs() -> f64 {
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

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn run(rooms: usize, size: usize, mixed: bool, secs: u64, base_port: u16) {
    let streams = rooms * size;
    let engine = MediaEngine::start(MediaConfig {
        bind_address: IpAddr::from([127, 0, 0, 1]),
        first_port: base_port,
        last_port: base_port + 2 * streams as u16 + 200,
        ..MediaConfig::default()
    })
    .unwrap();
    let phones: Vec<UdpSocket> = (0..streams.div_ceil(STREAMS_PER_PHONE))
        .map(|_| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            s
        })
        .collect();
    let mixers: Vec<media::Mixer> = (0..rooms).map(|_| engine.mixer()).collect();
    let mut sessions = Vec::new();
    let mut rxs = Vec::new();
    let mut targets: Vec<(usize, SocketAddr)> = Vec::new();
    for i in 0..streams {
        let (tx, rx) = mpsc::channel(16);
        let s = engine.open(tx).unwrap();
        let phone = &phones[i / STREAMS_PER_PHONE];
        s.start(StreamParams {
            remote: Some(phone.local_addr().unwrap()),
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: Some(101),
            send: true,
            receive: true,
        });
        if mixed {
            mixers[i / size].add(&s);
        }
        targets.push((i / STREAMS_PER_PHONE, s.local_addr()));
        sessions.push(s);
        rxs.push(rx);
    }
    let stop = Arc::new(AtomicBool::new(false));
    // Receivers: arrival times per SSRC.
    let arrivals: Arc<Mutex<HashMap<u32, Vec<Instant>>>> = Arc::default();
    let mut threads = Vec::new();
    for p in &phones {
        let sock = p.try_clone().unwrap();
        let (stop, arrivals) = (stop.clone(), arrivals.clone());
        threads.push(std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut local: HashMap<u32, Vec<Instant>> = HashMap::new();
            while !stop.load(Ordering::Relaxed) {
                if let Ok((n, _)) = sock.recv_from(&mut buf) {
                    let at = Instant::now();
                    if let Ok(p) = RtpPacket::parse(&buf[..n]) {
                        local.entry(p.ssrc()).or_default().push(at);
                    }
                }
            }
            arrivals.lock().unwrap().extend(local);
        }));
    }
    // Phones' audio to the engine: one sender, 20 ms absolute deadlines.
    let senders: Vec<UdpSocket> = phones.iter().map(|p| p.try_clone().unwrap()).collect();
    let stop2 = stop.clone();
    let sender = std::thread::spawn(move || {
        // A 440 Hz tone, PCMU: each participant's audio is mixed for real.
        let pcm: Vec<i16> = (0..160)
            .map(|n| {
                (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / 8000.0).sin()) as i16
            })
            .collect();
        let mut payload = Vec::new();
        rtp::g711::ulaw_encode_frame(&pcm, &mut payload);
        let mut out = Vec::with_capacity(200);
        let start = Instant::now();
        let mut k: u32 = 0;
        while !stop2.load(Ordering::Relaxed) {
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
    });
    std::thread::sleep(Duration::from_secs(1)); // warm-up: latching, first packets
    let cpu0 = clock_thread_cpu_secs();
    let t0 = Instant::now();
    arrivals.lock().unwrap().clear();
    std::thread::sleep(Duration::from_secs(secs));
    let cpu = clock_thread_cpu_secs() - cpu0;
    let wall = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    for t in threads {
        t.join().unwrap();
    }
    let arrivals = arrivals.lock().unwrap();
    let mut intervals: Vec<f64> = Vec::new();
    let mut packets = 0usize;
    for times in arrivals.values() {
        let times: Vec<&Instant> = times.iter().filter(|t| **t >= t0).collect();
        packets += times.len();
        for w in times.windows(2) {
            intervals.push(w[1].duration_since(*w[0]).as_secs_f64() * 1000.0);
        }
    }
    intervals.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut errors: Vec<f64> = intervals.iter().map(|i| (i - 20.0).abs()).collect();
    errors.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let expected = streams as f64 * wall * 50.0;
    let recorded: usize = sessions.iter().map(|s| s.packet_counts().1 as usize).sum();
    let stats = engine.stats();
    let label = if mixed { "mixed" } else { "unmixed" };
    println!(
        "{rooms} rooms of {size} ({label:>7}, {streams} streams): clock thread CPU {:5.1}% of a core ({:5.1} µs per participant per second); \
         interval ms p50 {:.2} p99 {:.2} max {:.2}; pacing error ms p50 {:.2} p99 {:.2} max {:.2}; \
         received {:.1}% of expected; engine received {recorded} packets; late ticks {} of {}, max tick work {} µs",
        100.0 * cpu / wall,
        1e6 * cpu / wall / streams as f64,
        percentile(&intervals, 0.5),
        percentile(&intervals, 0.99),
        intervals.last().copied().unwrap_or(0.0),
        percentile(&errors, 0.5),
        percentile(&errors, 0.99),
        errors.last().copied().unwrap_or(0.0),
        100.0 * packets as f64 / expected,
        stats.late_ticks,
        stats.ticks,
        stats.max_tick_work_us,
    );
    drop(rxs);
    drop(sessions);
    drop(mixers);
    engine.shutdown();
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let rooms = args.first().copied().unwrap_or(10);
    let size = args.get(1).copied().unwrap_or(5);
    run(rooms, size, false, secs, 40000);
    run(rooms, size, true, secs, 42000);
}
