//! Bench: concurrent voicemail-like streams through the engine. Each stream plays a tone to
//! a phone and records the phone's audio (a deposit does both during the greeting, and a
//! recording receives while the beep plays). The phones run in a second process pinned to
//! the other core (`common/phones.rs`): the engine's process, pinned to one core, holds
//! only the engine, as the "500 streams on one core" asks. They send one packet
//! per stream every 20 ms and time the arrival of every packet the engine sends.
//!
//! Prints, per stream count: the clock thread's CPU (per stream), its run-queue wait and
//! involuntary context switches (how often something else had its core), and the
//! inter-arrival interval of the engine's packets (p50/p99/max) with the pacing error
//! |interval - 20 ms|, twice: by the kernel's receive timestamps (`SO_TIMESTAMPNS`: when
//! the packet reached the phone's socket, which on loopback is when the engine sent it)
//! and by the time the phone's reader thread got it.
//! `bench/media-pacing.sh` runs it in release mode; figures in bench/README.md.
//! `CLOCK_NICE` sets `[media] clock_nice` (default -10; 0 leaves the clock's priority),
//! `CLOCK_RT` `[media] clock_realtime_priority` (default 0: off); `ENGINE_CPU` (default 0)
//! and `PHONE_CPU` (default 1) choose the cores, `PIN=0` pins nothing.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

#[path = "common/phones.rs"]
mod phones;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use media::{Clip, MediaConfig, MediaEngine, RecordingLimits, StreamParams};
use phones::{clock_thread_sched, PhoneProcess};
use sdp::Codec;
use tokio::sync::mpsc;

fn run(streams: usize, secs: u64, base_port: u16) {
    let engine = MediaEngine::start(MediaConfig {
        bind_address: IpAddr::from([127, 0, 0, 1]),
        first_port: base_port,
        last_port: base_port + 2 * streams as u16 + 200,
        // CLOCK_NICE=0 measures the clock at the process's priority.
        clock_nice: std::env::var("CLOCK_NICE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(MediaConfig::default().clock_nice),
        // CLOCK_RT=10: the clock thread at SCHED_FIFO 10.
        clock_realtime_priority: std::env::var("CLOCK_RT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        ..MediaConfig::default()
    })
    .unwrap();
    let mut phones = PhoneProcess::spawn(streams);
    let tone = Clip::tone(440.0, (secs as u32 + 5) * 1000, 8000);
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
        s.play(tone.clone());
        // NO_RECORD=1: play only (to tell the cost of recording apart).
        if std::env::var_os("NO_RECORD").is_none() {
            s.record(RecordingLimits {
                max: Duration::from_secs(secs + 10),
                silence: None,
                ..RecordingLimits::default()
            });
        }
        targets.push(s.local_addr().port());
        sessions.push(s);
        rxs.push(rx);
    }
    phones.start(&targets, secs, false);
    let (cpu0, wait0, preempted0) = clock_thread_sched();
    let t0 = Instant::now();
    let figures = phones.result();
    let (cpu1, wait1, preempted1) = clock_thread_sched();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu1 - cpu0;
    let recorded: usize = sessions.iter().map(|s| s.packet_counts().1 as usize).sum();
    let stats = engine.stats();
    println!(
        "{streams:>4} streams: clock thread CPU {:5.1}% of a core ({:5.1} µs per stream per second), \
         run-queue wait {:.2} ms/s, preempted {:.0}/s; {figures}; engine received {recorded} packets; \
         late ticks {} of {}, max tick work {} µs",
        100.0 * cpu / wall,
        1e6 * cpu / wall / streams as f64,
        1e3 * (wait1 - wait0) / wall,
        (preempted1 - preempted0) as f64 / wall,
        stats.late_ticks,
        stats.ticks,
        stats.max_tick_work_us,
    );
    drop(rxs);
    drop(sessions);
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
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let counts: Vec<usize> = if args.is_empty() {
        vec![50, 200, 500]
    } else {
        args.iter().map(|a| a.parse().unwrap()).collect()
    };
    for (i, n) in counts.into_iter().enumerate() {
        run(n, secs, 40000 + (i as u16) * 2000);
    }
}
