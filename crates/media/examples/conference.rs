//! Bench: conference rooms on the engine's clock. ROOMS rooms of SIZE participants (default
//! 10 of 5); each participant's phone sends a tone (PCMU, 20 ms) and times the arrival of
//! every packet the engine sends it (the mix of the others). The same streams are run
//! first without rooms (each session just receives and sends silence), so the difference
//! is what mixing costs. The phones run in a second process pinned to the other core
//! (`common/phones.rs`, as in the pacing bench); the engine's process is pinned to one.
//!
//! Prints, per run: the clock thread's CPU (per participant), and the inter-arrival
//! interval of the engine's packets (p50/p99/max) with the pacing error |interval - 20 ms|,
//! by the kernel's receive timestamps and by the phones' reader threads.
//! `bench/conference.sh` runs it in release mode; figures in bench/README.md. `CLOCK_RT=N`
//! runs the clock `SCHED_FIFO` at N.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

#[path = "common/phones.rs"]
mod phones;

use std::net::IpAddr;
use std::time::Instant;

use media::{MediaConfig, MediaEngine, StreamParams};
use phones::{clock_thread_sched, PhoneProcess};
use sdp::Codec;
use tokio::sync::mpsc;

fn run(rooms: usize, size: usize, mixed: bool, secs: u64, base_port: u16) {
    let streams = rooms * size;
    let engine = MediaEngine::start(MediaConfig {
        bind_address: IpAddr::from([127, 0, 0, 1]),
        first_port: base_port,
        last_port: base_port + 2 * streams as u16 + 200,
        // CLOCK_RT=10: the clock thread at SCHED_FIFO 10 (as in the pacing bench).
        clock_realtime_priority: std::env::var("CLOCK_RT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        ..MediaConfig::default()
    })
    .unwrap();
    let mut phones = PhoneProcess::spawn(streams);
    let mixers: Vec<media::Mixer> = (0..rooms).map(|_| engine.mixer()).collect();
    let mut sessions = Vec::new();
    let mut rxs = Vec::new();
    let mut targets = Vec::new();
    for i in 0..streams {
        let (tx, rx) = mpsc::channel(16);
        let s = engine.open(tx).unwrap();
        s.start(StreamParams {
            remote: Some(phones.phone_of(i)),
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: Some(101),
            send: true,
            receive: true,
        });
        if mixed {
            mixers[i / size].add(&s);
        }
        targets.push(s.local_addr().port());
        sessions.push(s);
        rxs.push(rx);
    }
    phones.start(&targets, secs, true);
    let (cpu0, _, _) = clock_thread_sched();
    let t0 = Instant::now();
    let figures = phones.result();
    let (cpu1, _, _) = clock_thread_sched();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu1 - cpu0;
    let recorded: usize = sessions.iter().map(|s| s.packet_counts().1 as usize).sum();
    let stats = engine.stats();
    let label = if mixed { "mixed" } else { "unmixed" };
    println!(
        "{rooms} rooms of {size} ({label:>7}, {streams} streams): clock thread CPU {:5.1}% of a core ({:5.1} µs per participant per second); \
         {figures}; engine received {recorded} packets; late ticks {} of {}, max tick work {} µs",
        100.0 * cpu / wall,
        1e6 * cpu / wall / streams as f64,
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--phones") {
        phones::child_main(args[1].parse().unwrap());
        return;
    }
    if !phones::own_session() {
        eprintln!("(no session of its own: run from a script, not a job-control shell, for the autogroup priority)");
    }
    phones::pin_to(phones::engine_cpu());
    let args: Vec<usize> = args.iter().map(|a| a.parse().unwrap()).collect();
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let rooms = args.first().copied().unwrap_or(10);
    let size = args.get(1).copied().unwrap_or(5);
    run(rooms, size, false, secs, 40000);
    run(rooms, size, true, secs, 42000);
}
