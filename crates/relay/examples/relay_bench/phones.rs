//! The bench's phones, in a process of their own (the bench's binary again, with
//! `--phones N`), pinned to another core than the relay's, so the relay's core runs the
//! relay only and the loopback delivery of the phones' packets (done in the sending
//! thread's softirq) happens on the phones' core. The same approach as the media pacing
//! bench (`crates/media/examples/common/phones.rs`, decision 0028), with caller and callee
//! phones apart: callers send, callees time.
//!
//! N caller and N callee phones are UDP sockets on loopback, each carrying up to
//! [`STREAMS_PER_PHONE`] streams (told apart by SSRC). One thread sends one 172-byte RTP
//! packet per stream every 20 ms (absolute deadlines, the streams spread over the 20 ms
//! in `SLOTS` slots); one reader thread per callee phone keeps each packet's sequence
//! number, its kernel receive timestamp (`SO_TIMESTAMPNS`: when the packet reached the
//! socket, which on loopback is when the relay sent it) and when the reader got it.
//!
//! Parent and child talk in lines on the child's stdin/stdout: the child says
//! `callers ADDR...` and `callees ADDR...`; the parent sends `target PHONE PORT` per stream
//! (the relay's port the caller phone `PHONE` sends that stream to), then `go SECS`; the
//! child says `window` when its measuring window opens (after a second of warm-up),
//! `closed` when it closes, then `result PACKETS GAPS P50 P99 MAX LAG50 LAG99 LAGMAX` (the
//! packets received in the window, the sequence gaps, the inter-arrival interval in ms,
//! and how long after its due time each slot of the callers' packets was sent, in ms).

use std::io::{BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use testkit::bench_phones::{
    env_usize, own_session, percentile, pin_to, read_line, read_phone, Arrivals, STREAMS_PER_PHONE,
};

/// The phones' figures for one window.
pub struct Figures {
    /// RTP packets the callee phones received in the window.
    pub packets: usize,
    /// Places where a stream's sequence numbers skip (a lost or reordered packet).
    pub gaps: usize,
    /// Inter-arrival interval at the callee, by kernel timestamps, ms: p50, p99, max.
    pub interval: [f64; 3],
    /// How long after its due time each slot of the callers' packets was all sent (see
    /// `send_streams`), ms: p50, p99, max (the phones' own lateness, which the intervals
    /// inherit).
    pub sender_lag: [f64; 3],
}

/// The phone process, seen from the relay's.
pub struct PhoneProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The caller phones (stream `i` sends from caller `i / STREAMS_PER_PHONE`).
    pub callers: Vec<SocketAddr>,
    /// The callee phones (stream `i` arrives at callee `i / STREAMS_PER_PHONE`).
    pub callees: Vec<SocketAddr>,
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
        let mut addrs = |prefix: &str| -> Vec<SocketAddr> {
            let line = read_line(&mut stdout);
            let rest = line.strip_prefix(prefix).unwrap().trim();
            rest.split(' ').map(|a| a.parse().unwrap()).collect()
        };
        let callers = addrs("callers");
        let callees = addrs("callees");
        PhoneProcess {
            child,
            stdin,
            stdout,
            callers,
            callees,
        }
    }

    /// Starts sending (stream `i` to the relay's port `targets[i]`) for `secs` seconds
    /// after a second of warm-up; returns when the measuring window opens.
    pub fn start(&mut self, targets: &[u16], secs: u64) {
        for (i, port) in targets.iter().enumerate() {
            writeln!(self.stdin, "target {} {port}", i / STREAMS_PER_PHONE).unwrap();
        }
        writeln!(self.stdin, "go {secs}").unwrap();
        self.stdin.flush().unwrap();
        assert_eq!(read_line(&mut self.stdout), "window");
    }

    /// Returns when the measuring window closes.
    pub fn wait_closed(&mut self) {
        assert_eq!(read_line(&mut self.stdout), "closed");
    }

    /// The figures of the window (after [`PhoneProcess::wait_closed`]).
    pub fn result(mut self) -> Figures {
        let line = read_line(&mut self.stdout);
        let _ = self.child.wait();
        let f: Vec<&str> = line.strip_prefix("result ").unwrap().split(' ').collect();
        let ms = |i: usize| -> f64 { f[i].parse().unwrap() };
        Figures {
            packets: f[0].parse().unwrap(),
            gaps: f[1].parse().unwrap(),
            interval: [ms(2), ms(3), ms(4)],
            sender_lag: [ms(5), ms(6), ms(7)],
        }
    }
}

/// The child: `--phones N`, pinned to `PHONE_CPU` (default 1).
pub fn child_main(phones: usize) {
    own_session();
    pin_to(env_usize("PHONE_CPU", 1));
    let bind = || {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        s
    };
    let callers: Vec<UdpSocket> = (0..phones).map(|_| bind()).collect();
    let callees: Vec<UdpSocket> = (0..phones).map(|_| bind()).collect();
    let list = |socks: &[UdpSocket]| {
        socks
            .iter()
            .map(|s| s.local_addr().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("callers {}", list(&callers));
    println!("callees {}", list(&callees));
    let mut targets: Vec<(usize, SocketAddr)> = Vec::new();
    let secs = loop {
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).unwrap() == 0 {
            return;
        }
        match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["target", phone, port] => targets.push((
                phone.parse().unwrap(),
                SocketAddr::from(([127, 0, 0, 1], port.parse().unwrap())),
            )),
            ["go", secs] => break secs.parse::<u64>().unwrap(),
            _ => panic!("phones: unexpected line {line:?}"),
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let arrivals: Arc<Mutex<Arrivals>> = Arc::default();
    let readers: Vec<_> = callees
        .iter()
        .map(|s| {
            let sock = s.try_clone().unwrap();
            let (stop, arrivals) = (stop.clone(), arrivals.clone());
            std::thread::spawn(move || read_phone(sock, stop, arrivals))
        })
        .collect();
    let stop2 = stop.clone();
    let sender = std::thread::spawn(move || send_streams(callers, targets, stop2));
    std::thread::sleep(Duration::from_secs(1)); // warm-up: latching, first packets
    let t0 = Instant::now();
    println!("window");
    std::thread::sleep(Duration::from_secs(secs));
    let t1 = Instant::now();
    println!("closed");
    stop.store(true, Ordering::Relaxed);
    let slots = sender.join().unwrap();
    for t in readers {
        t.join().unwrap();
    }
    let arrivals = arrivals.lock().unwrap();
    let mut lag: Vec<f64> = slots
        .iter()
        .filter(|(due, _)| *due >= t0 && *due <= t1)
        .map(|b| b.1)
        .collect();
    lag.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "result {} {:.3} {:.3} {:.3}",
        figures(&arrivals, t0, t1),
        percentile(&lag, 0.5),
        percentile(&lag, 0.99),
        lag.last().copied().unwrap_or(0.0)
    );
}

/// The callers' packets: one thread, stream `i` as SSRC `i + 1`, one packet per stream
/// every 20 ms on absolute deadlines. The 20 ms are cut in `SLOTS` slots (default 20, so
/// 1 ms; `SLOTS=1`: all streams in one burst): stream `i` sends in slot `i % SLOTS`, so the
/// relay sees packets spread over time as from calls that started apart, not one burst.
/// Returns each slot's due time and how late (ms) its last packet was sent.
fn send_streams(
    callers: Vec<UdpSocket>,
    targets: Vec<(usize, SocketAddr)>,
    stop: Arc<AtomicBool>,
) -> Vec<(Instant, f64)> {
    let slots = env_usize("SLOTS", 20).clamp(1, 20);
    let slot_us = 20_000 / slots as u64;
    let mut packet = [0xFFu8; 172]; // 12 bytes of header, 160 of PCMU silence
    packet[0] = 0x80; // RTP version 2
    packet[1] = 0; // PCMU
    let start = Instant::now();
    let mut tick: u64 = 0;
    let mut lag = Vec::with_capacity(64 * 1024);
    while !stop.load(Ordering::Relaxed) {
        let due = start + Duration::from_micros(slot_us * tick);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let (k, slot) = ((tick / slots as u64) as u32, (tick % slots as u64) as usize);
        for (i, (phone, to)) in targets.iter().enumerate().skip(slot).step_by(slots) {
            packet[2..4].copy_from_slice(&(k as u16).to_be_bytes());
            packet[4..8].copy_from_slice(&(k * 160).to_be_bytes());
            packet[8..12].copy_from_slice(&(i as u32 + 1).to_be_bytes());
            let _ = callers[*phone].send_to(&packet, to);
        }
        lag.push((due, due.elapsed().as_secs_f64() * 1000.0));
        tick += 1;
    }
    lag
}

/// The packets the readers got between `t0` and `t1`, the sequence gaps among them and
/// their inter-arrival intervals by kernel timestamps (p50, p99, max, ms), as a line.
fn figures(arrivals: &Arrivals, t0: Instant, t1: Instant) -> String {
    let mut intervals: Vec<f64> = Vec::new();
    let (mut packets, mut gaps) = (0usize, 0usize);
    for times in arrivals.values() {
        let times: Vec<_> = times.iter().filter(|t| t.1 >= t0 && t.1 <= t1).collect();
        packets += times.len();
        for w in times.windows(2) {
            // Only packets sent one after the other: a lost one is a gap, not a pacing error.
            if w[1].0 != w[0].0.wrapping_add(1) {
                gaps += 1;
                continue;
            }
            intervals.push((w[1].2 - w[0].2) * 1000.0);
        }
    }
    intervals.retain(|i| i.is_finite());
    intervals.sort_by(|a, b| a.partial_cmp(b).unwrap());
    format!(
        "{packets} {gaps} {:.3} {:.3} {:.3}",
        percentile(&intervals, 0.5),
        percentile(&intervals, 0.99),
        intervals.last().copied().unwrap_or(0.0)
    )
}
