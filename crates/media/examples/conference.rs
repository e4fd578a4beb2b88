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
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use common::{sorted_errors, Streams};
use media::{MediaConfig, MediaEngine};
use rtp::RtpPacket;
use std::net::IpAddr;

fn run(rooms: usize, size: usize, mixed: bool, secs: u64, base_port: u16) {
    let streams = rooms * size;
    let engine = MediaEngine::start(MediaConfig {
        bind_address: IpAddr::from([127, 0, 0, 1]),
        first_port: base_port,
        last_port: base_port + 2 * streams as u16 + 200,
        ..MediaConfig::default()
    })
    .unwrap();
    let phones = common::phones(streams);
    let mixers: Vec<media::Mixer> = (0..rooms).map(|_| engine.mixer()).collect();
    let Streams {
        sessions,
        events,
        targets,
    } = common::open_streams(&engine, &phones, streams, |i, s| {
        if mixed {
            mixers[i / size].add(s);
        }
    });
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
    // A 440 Hz tone, PCMU: each participant's audio is mixed for real.
    let pcm: Vec<i16> = (0..160)
        .map(|n| (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / 8000.0).sin()) as i16)
        .collect();
    let mut payload = Vec::new();
    rtp::g711::ulaw_encode_frame(&pcm, &mut payload);
    let sending = (phones.as_slice(), targets, payload);
    let window = common::measure(secs, sending, &arrivals, &stop, threads);
    let (t0, wall, cpu) = (window.t0, window.wall, window.cpu);
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
    let errors = sorted_errors(&mut intervals);
    let expected = streams as f64 * wall * 50.0;
    let recorded: usize = sessions.iter().map(|s| s.packet_counts().1 as usize).sum();
    let label = if mixed { "mixed" } else { "unmixed" };
    println!(
        "{rooms} rooms of {size} ({label:>7}, {streams} streams): clock thread CPU {:5.1}% of a core ({:5.1} µs per participant per second); \
         {}; received {:.1}% of expected; engine received {recorded} packets; {}",
        100.0 * cpu / wall,
        1e6 * cpu / wall / streams as f64,
        common::pacing_summary(&intervals, &errors),
        100.0 * packets as f64 / expected,
        common::tick_summary(&engine.stats()),
    );
    drop(events);
    drop(sessions);
    drop(mixers);
    engine.shutdown();
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let secs = common::bench_secs();
    let rooms = args.first().copied().unwrap_or(10);
    let size = args.get(1).copied().unwrap_or(5);
    run(rooms, size, false, secs, 40000);
    run(rooms, size, true, secs, 42000);
}
