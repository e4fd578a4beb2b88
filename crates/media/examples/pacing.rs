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

use std::collections::HashMap;
use std::io::IoSliceMut;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::socket::{
    recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage,
};
use nix::sys::time::TimeSpec;

use media::{Clip, MediaConfig, MediaEngine, RecordingLimits, StreamParams};
use rtp::{RtpHeader, RtpPacket};
use sdp::Codec;
use tokio::sync::mpsc;

const STREAMS_PER_PHONE: usize = 50;

fn clock_thread_cpu_secs() -> f64 {
    let tick = 100.0; // USER_HZ on Linux
    for e in std::fs::read_dir("/proc/self/task").unwrap() {
        let p = e.unwrap().path();
        let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        if comm.trim() == "media-clock" {
            let stat = std::fs::read_to_string(p.join("stat")).unwrap();
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            let f: Vec<&str> = after.split(' ').collect();
            let ut: f64 = f[11].parse().unwrap();
            let st: f64 = f[12].parse().unwrap();
            return (ut + st) / tick;
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
    let phones: Vec<UdpSocket> = (0..streams.div_ceil(STREAMS_PER_PHONE))
        .map(|_| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            s
        })
        .collect();
    let tone = Clip::tone(440.0, (secs as u32 + 5) * 1000, 8000);
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
        s.play(tone.clone());
        // NO_RECORD=1: play only (to tell the cost of recording apart).
        if std::env::var_os("NO_RECORD").is_none() {
            s.record(RecordingLimits {
                max: Duration::from_secs(secs + 10),
                silence: None,
                ..RecordingLimits::default()
            });
        }
        targets.push((i / STREAMS_PER_PHONE, s.local_addr()));
        sessions.push(s);
        rxs.push(rx);
    }
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
    // Phones' audio to the engine: one sender, 20 ms absolute deadlines.
    let senders: Vec<UdpSocket> = phones.iter().map(|p| p.try_clone().unwrap()).collect();
    let stop2 = stop.clone();
    let sender = std::thread::spawn(move || {
        let payload = [0xFFu8; 160];
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
    let sorted_errors = |intervals: &mut Vec<f64>| {
        intervals.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let mut e: Vec<f64> = intervals.iter().map(|i| (i - 20.0).abs()).collect();
        e.sort_by(|a, b| a.partial_cmp(b).unwrap());
        e
    };
    let errors = sorted_errors(&mut intervals);
    let kernel_errors = sorted_errors(&mut kernel_intervals);
    let expected = streams as f64 * wall * 50.0;
    let recorded: usize = sessions.iter().map(|s| s.packet_counts().1 as usize).sum();
    let stats = engine.stats();
    println!(
        "{streams:>4} streams: clock thread CPU {:5.1}% of a core ({:5.1} µs per stream per second); \
         kernel timestamps: interval ms p50 {:.2} p99 {:.2} max {:.2}, pacing error ms p50 {:.2} p99 {:.2} max {:.2}; \
         reader thread: interval ms p50 {:.2} p99 {:.2} max {:.2}, pacing error ms p50 {:.2} p99 {:.2} max {:.2}; \
         received {:.1}% of expected ({gaps} sequence gaps); engine received {recorded} packets; late ticks {} of {}, max tick work {} µs",
        100.0 * cpu / wall,
        1e6 * cpu / wall / streams as f64,
        percentile(&kernel_intervals, 0.5),
        percentile(&kernel_intervals, 0.99),
        kernel_intervals.last().copied().unwrap_or(0.0),
        percentile(&kernel_errors, 0.5),
        percentile(&kernel_errors, 0.99),
        kernel_errors.last().copied().unwrap_or(0.0),
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
    engine.shutdown();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
