//! The benches' phones, in a process of their own: `PhoneProcess::spawn` starts this
//! example again with `--phones` (pinned to another core than the engine's), the child
//! binds a few UDP sockets (each carrying up to `STREAMS_PER_PHONE` streams, told apart by
//! SSRC), sends one packet per stream every 20 ms to the engine and timestamps every
//! packet it receives, by the kernel (`SO_TIMESTAMPNS`: when the packet reached the
//! phone's socket, which on loopback is when the engine sent it) and by its reader thread.
//! The engine's process then holds only the engine: the measured clock shares its core
//! with no bench thread, and the loopback delivery of the phones' packets (done in the
//! sending thread's softirq) happens on the phones' core.
//!
//! Parent and child talk in lines on the child's stdin/stdout: the child says
//! `phones ADDR...`; the parent sends `target PHONE PORT` per stream, then `go SECS TONE`;
//! the child says `window` when its measuring window opens (after a second of warm-up)
//! and `result ...` (the figures, formatted) when it closes.
#![allow(dead_code)]

use std::io::{BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtp::RtpHeader;
pub use testkit::bench_phones::{
    env_usize, own_session, percentile, pin_to, read_line, read_phone, Arrivals, STREAMS_PER_PHONE,
};

/// The CPUs: the engine's (`ENGINE_CPU`, default 0) and the phones' (`PHONE_CPU`, default 1).
pub fn engine_cpu() -> usize {
    env_usize("ENGINE_CPU", 0)
}

fn phone_cpu() -> usize {
    env_usize("PHONE_CPU", 1)
}

/// The phone process, seen from the engine's.
pub struct PhoneProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The phones' addresses (stream `i` is on phone `i / STREAMS_PER_PHONE`).
    pub phones: Vec<SocketAddr>,
}

impl PhoneProcess {
    /// Starts the phones for `streams` streams.
    pub fn spawn(streams: usize) -> PhoneProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("--phones")
            .arg(streams.div_ceil(STREAMS_PER_PHONE).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let line = read_line(&mut stdout);
        let phones = line
            .strip_prefix("phones ")
            .unwrap()
            .split(' ')
            .map(|a| a.parse().unwrap())
            .collect();
        PhoneProcess {
            child,
            stdin,
            stdout,
            phones,
        }
    }

    /// The phone of stream `i`.
    pub fn phone_of(&self, i: usize) -> SocketAddr {
        self.phones[i / STREAMS_PER_PHONE]
    }

    /// Starts sending to the engine ports (one per stream, in stream order; a 440 Hz tone
    /// when `tone`, else silence) for `secs` seconds after a second of warm-up; returns
    /// when the measuring window opens.
    pub fn start(&mut self, targets: &[u16], secs: u64, tone: bool) {
        for (i, port) in targets.iter().enumerate() {
            writeln!(self.stdin, "target {} {port}", i / STREAMS_PER_PHONE).unwrap();
        }
        writeln!(self.stdin, "go {secs} {}", u8::from(tone)).unwrap();
        self.stdin.flush().unwrap();
        assert_eq!(read_line(&mut self.stdout), "window");
    }

    /// Waits for the window to close; returns the child's figures.
    pub fn result(mut self) -> String {
        let line = read_line(&mut self.stdout);
        let _ = self.child.wait();
        line.strip_prefix("result ").unwrap().to_string()
    }
}

/// The clock thread's CPU time and run-queue wait so far in seconds, and its involuntary
/// context switches (`/proc/self/task/*/schedstat`, nanoseconds, and `status`).
pub fn clock_thread_sched() -> (f64, f64, u64) {
    for e in std::fs::read_dir("/proc/self/task").unwrap() {
        let p = e.unwrap().path();
        let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        if comm.trim() == "media-clock" {
            let stat = std::fs::read_to_string(p.join("schedstat")).unwrap();
            let mut f = stat.split(' ');
            let run: f64 = f.next().unwrap().parse().unwrap();
            let wait: f64 = f.next().unwrap().parse().unwrap();
            let status = std::fs::read_to_string(p.join("status")).unwrap();
            let preempted = status
                .lines()
                .find_map(|l| l.strip_prefix("nonvoluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            return (run / 1e9, wait / 1e9, preempted);
        }
    }
    (0.0, 0.0, 0)
}

/// The child: `--phones N`.
pub fn child_main(phones: usize) {
    own_session();
    pin_to(phone_cpu());
    let socks: Vec<UdpSocket> = (0..phones)
        .map(|_| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            s
        })
        .collect();
    let addrs: Vec<String> = socks
        .iter()
        .map(|s| s.local_addr().unwrap().to_string())
        .collect();
    println!("phones {}", addrs.join(" "));
    let mut targets: Vec<(usize, SocketAddr)> = Vec::new();
    let (secs, tone) = loop {
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).unwrap() == 0 {
            return;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["target", phone, port] => targets.push((
                phone.parse().unwrap(),
                SocketAddr::from(([127, 0, 0, 1], port.parse().unwrap())),
            )),
            ["go", secs, tone] => break (secs.parse::<u64>().unwrap(), *tone == "1"),
            _ => panic!("phones: unexpected line {line:?}"),
        }
    };
    let streams = targets.len();
    let stop = Arc::new(AtomicBool::new(false));
    let arrivals: Arc<Mutex<Arrivals>> = Arc::default();
    let mut threads = Vec::new();
    for s in &socks {
        let sock = s.try_clone().unwrap();
        let (stop, arrivals) = (stop.clone(), arrivals.clone());
        threads.push(std::thread::spawn(move || read_phone(sock, stop, arrivals)));
    }
    let senders: Vec<UdpSocket> = socks.iter().map(|p| p.try_clone().unwrap()).collect();
    let stop2 = stop.clone();
    let sender = std::thread::spawn(move || send_streams(senders, targets, tone, stop2));
    std::thread::sleep(Duration::from_secs(1)); // warm-up: latching, first packets
    let t0 = Instant::now();
    arrivals.lock().unwrap().clear();
    println!("window");
    std::thread::sleep(Duration::from_secs(secs));
    let wall = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    for t in threads {
        t.join().unwrap();
    }
    let arrivals = arrivals.lock().unwrap();
    println!("result {}", figures(&arrivals, t0, streams, wall));
}

/// The phones' audio to the engine: one thread, 20 ms absolute deadlines.
fn send_streams(
    senders: Vec<UdpSocket>,
    targets: Vec<(usize, SocketAddr)>,
    tone: bool,
    stop: Arc<AtomicBool>,
) {
    let payload = if tone {
        // A 440 Hz tone, PCMU: a conference mixes real audio.
        let pcm: Vec<i16> = (0..160)
            .map(|n| {
                (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / 8000.0).sin()) as i16
            })
            .collect();
        let mut p = Vec::new();
        rtp::g711::ulaw_encode_frame(&pcm, &mut p);
        p
    } else {
        vec![0xFF; 160]
    };
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
}

/// The inter-arrival intervals of each stream's packets after `t0` (by the kernel's and
/// by the reader's clock) and the pacing error |interval - 20 ms|, formatted.
fn figures(arrivals: &Arrivals, t0: Instant, streams: usize, wall: f64) -> String {
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
    format!(
        "kernel timestamps: interval ms p50 {:.2} p99 {:.2} max {:.2}, pacing error ms p50 {:.2} p99 {:.2} max {:.2}; \
         reader thread: interval ms p50 {:.2} p99 {:.2} max {:.2}, pacing error ms p50 {:.2} p99 {:.2} max {:.2}; \
         received {:.1}% of expected ({gaps} sequence gaps)",
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
    )
}
