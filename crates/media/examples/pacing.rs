//! Bench: concurrent voicemail-like streams through the engine. Each stream plays a tone to
//! a phone and records the phone's audio (a deposit does both during the greeting, and a
//! recording receives while the beep plays). Phones are a few UDP sockets in this process,
//! each carrying many streams (told apart by SSRC); they send one packet per stream every
//! 20 ms and time the arrival of every packet the engine sends.
//!
//! Prints, per stream count: the clock thread's CPU (per stream), and the inter-arrival
//! interval of the engine's packets (p50/p99/max) with the pacing error |interval - 20 ms|,
//! twice: by the kernel's receive timestamps (`SO_TIMESTAMPNS`: when the packet reached
//! the phone's socket, which on loopback is when the engine sent it) and by the time the
//! phone's reader thread got it (which adds the reader's own scheduling delays on a
//! machine whose two cores the bench's threads share with the engine).
//! `bench/media-pacing.sh` runs it in release mode; figures in bench/README.md.
//! `CLOCK_NICE` sets `[media] clock_nice` (default -10; 0 leaves the clock's priority),
//! `CLOCK_RT` `[media] clock_realtime_priority` (default 0: off).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::collections::HashMap;
use std::io::IoSliceMut;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::socket::{
    recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage,
};
use nix::sys::time::TimeSpec;

use common::{sorted_errors, Streams};
use media::{Clip, MediaConfig, MediaEngine, RecordingLimits};
use rtp::RtpPacket;

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
    let phones = common::phones(streams);
    let tone = Clip::tone(440.0, (secs as u32 + 5) * 1000, 8000);
    let Streams {
        sessions,
        events,
        targets,
    } = common::open_streams(&engine, &phones, streams, |_, s| {
        s.play(tone.clone());
        // NO_RECORD=1: play only (to tell the cost of recording apart).
        if std::env::var_os("NO_RECORD").is_none() {
            s.record(RecordingLimits {
                max: Duration::from_secs(secs + 10),
                silence: None,
                ..RecordingLimits::default()
            });
        }
    });
    let stop = Arc::new(AtomicBool::new(false));
    // Receivers: arrival times per SSRC (sequence number, the reader's time, and the
    // kernel's in seconds).
    type Arrivals = HashMap<u32, Vec<(u16, Instant, f64)>>;
    let arrivals: Arc<Mutex<Arrivals>> = Arc::default();
    let mut threads = Vec::new();
    for p in &phones {
        let sock = p.try_clone().unwrap();
        let (stop, arrivals) = (stop.clone(), arrivals.clone());
        threads.push(std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut cmsg = nix::cmsg_space!(TimeSpec);
            setsockopt(&sock, sockopt::ReceiveTimestampns, &true).unwrap();
            // A phone thread that waits for a CPU must not lose packets to a full
            // socket buffer (as root the limit is raised; else rmem_max caps it).
            let big = 8 << 20;
            if setsockopt(&sock, sockopt::RcvBufForce, &big).is_err() {
                let _ = setsockopt(&sock, sockopt::RcvBuf, &big);
            }
            let mut local: Arrivals = HashMap::new();
            while !stop.load(Ordering::Relaxed) {
                let mut iov = [IoSliceMut::new(&mut buf)];
                let Ok(msg) = recvmsg::<SockaddrStorage>(
                    sock.as_raw_fd(),
                    &mut iov,
                    Some(&mut cmsg),
                    MsgFlags::empty(),
                ) else {
                    continue;
                };
                let at = Instant::now();
                let n = msg.bytes;
                let kernel = msg
                    .cmsgs()
                    .ok()
                    .and_then(|mut c| {
                        c.find_map(|c| match c {
                            ControlMessageOwned::ScmTimestampns(ts) => {
                                Some(std::time::Duration::from(ts).as_secs_f64())
                            }
                            _ => None,
                        })
                    })
                    .unwrap_or(f64::NAN);
                if let Ok(p) = RtpPacket::parse(&buf[..n]) {
                    local
                        .entry(p.ssrc())
                        .or_insert_with(|| Vec::with_capacity(64 * 1024))
                        .push((p.sequence_number(), at, kernel));
                }
            }
            arrivals.lock().unwrap().extend(local);
        }));
    }
    let sending = (phones.as_slice(), targets, vec![0xFF; 160]);
    let window = common::measure(secs, sending, &arrivals, &stop, threads);
    let (t0, wall, cpu) = (window.t0, window.wall, window.cpu);
    let arrivals = arrivals.lock().unwrap();
    let mut intervals: Vec<f64> = Vec::new();
    let mut kernel_intervals: Vec<f64> = Vec::new();
    let mut packets = 0usize;
    let mut gaps = 0usize;
    for times in arrivals.values() {
        let times: Vec<&(u16, Instant, f64)> = times.iter().filter(|t| t.1 >= t0).collect();
        packets += times.len();
        for w in times.windows(2) {
            // Only packets sent one after the other: a packet lost on the way (a phone
            // thread that could not keep up) is counted apart, not as a pacing error.
            if w[1].0 != w[0].0.wrapping_add(1) {
                gaps += 1;
                continue;
            }
            intervals.push(w[1].1.duration_since(w[0].1).as_secs_f64() * 1000.0);
            kernel_intervals.push((w[1].2 - w[0].2) * 1000.0);
        }
    }
    kernel_intervals.retain(|i| i.is_finite());
    let errors = sorted_errors(&mut intervals);
    let kernel_errors = sorted_errors(&mut kernel_intervals);
    let expected = streams as f64 * wall * 50.0;
    let recorded: usize = sessions.iter().map(|s| s.packet_counts().1 as usize).sum();
    println!(
        "{streams:>4} streams: clock thread CPU {:5.1}% of a core ({:5.1} µs per stream per second); \
         kernel timestamps: {}; reader thread: {}; \
         received {:.1}% of expected ({gaps} sequence gaps); engine received {recorded} packets; {}",
        100.0 * cpu / wall,
        1e6 * cpu / wall / streams as f64,
        common::pacing_summary(&kernel_intervals, &kernel_errors),
        common::pacing_summary(&intervals, &errors),
        100.0 * packets as f64 / expected,
        common::tick_summary(&engine.stats()),
    );
    drop(events);
    drop(sessions);
    engine.shutdown();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let secs = common::bench_secs();
    let counts: Vec<usize> = if args.is_empty() {
        vec![50, 200, 500]
    } else {
        args.iter().map(|a| a.parse().unwrap()).collect()
    };
    for (i, n) in counts.into_iter().enumerate() {
        run(n, secs, 40000 + (i as u16) * 2000);
    }
}
