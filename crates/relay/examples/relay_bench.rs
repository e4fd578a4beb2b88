//! Bench: N concurrent RTP streams through a media relay, driven through `dyn MediaRelay`
//! (offer, answer, delete), as the proxy drives it. Each stream is a call: a caller phone
//! sends one 172-byte RTP packet every 20 ms to the relay's port for it, and a callee
//! phone times the arrival of every packet the relay forwards. Phones are a few UDP
//! sockets in this process, each carrying 50 streams (told apart by SSRC).
//!
//! Prints, per stream count: the relay's CPU (its threads' user + system time, from
//! /proc) per forwarded packet and as a share of a core, and the forwarding pacing: the
//! inter-arrival interval at the callee by the kernel's receive timestamps
//! (`SO_TIMESTAMPNS`), p50/p99/max, with the packets received against those sent.
//!
//! `RELAY=embedded` (default) benches the embedded relay. `RELAY=rtpengine` is the hook
//! for the rtpengine `ng` backend (`make_relay` below): add its constructor there.
//! `bench/relay.sh` runs it in release mode; `BENCH_SECS` (default 10) per run.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

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
use relay::embedded::{EmbeddedConfig, EmbeddedRelay};
use relay::{CallKey, MediaRelay, Profile, RelayRequest};

const STREAMS_PER_PHONE: usize = 50;
const LO: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// The backend under test, by `RELAY`; and the name of its threads in /proc (for CPU).
fn make_relay(streams: usize, base_port: u16) -> (Box<dyn MediaRelay>, &'static str) {
    match std::env::var("RELAY").as_deref().unwrap_or("embedded") {
        "embedded" => (
            Box::new(
                EmbeddedRelay::start(EmbeddedConfig {
                    bind_address: LO,
                    advertised_address: LO,
                    first_port: base_port,
                    last_port: base_port + 4 * streams as u16 + 100,
                    timeout: Duration::from_secs(60),
                    threads: std::env::var("RELAY_THREADS")
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(1),
                })
                .unwrap(),
            ),
            "relay",
        ),
        // The rtpengine `ng` client (the `webrtc` branch) plugs in here; its CPU is the
        // rtpengine process's, read from /proc/PID/stat instead of our threads.
        other => {
            eprintln!("RELAY={other}: no such backend in this build (embedded only)");
            std::process::exit(2);
        }
    }
}

fn threads_cpu_secs(name: &str) -> f64 {
    let tick = 100.0; // USER_HZ on Linux
    let mut total = 0.0;
    for e in std::fs::read_dir("/proc/self/task").unwrap() {
        let p = e.unwrap().path();
        let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        if comm.trim() == name {
            let stat = std::fs::read_to_string(p.join("stat")).unwrap();
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            let f: Vec<&str> = after.split(' ').collect();
            let ut: f64 = f[11].parse().unwrap();
            let st: f64 = f[12].parse().unwrap();
            total += (ut + st) / tick;
        }
    }
    total
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

fn media_port(sdp: &str) -> u16 {
    sdp.lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap()
}

fn run(rt: &tokio::runtime::Runtime, streams: usize, secs: u64, base_port: u16) {
    let (relay, threads_name) = make_relay(streams, base_port);
    let phones = streams.div_ceil(STREAMS_PER_PHONE);
    let bind = || {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        s
    };
    let callers: Vec<UdpSocket> = (0..phones).map(|_| bind()).collect();
    let callees: Vec<UdpSocket> = (0..phones).map(|_| bind()).collect();
    let mut targets: Vec<(usize, SocketAddr)> = Vec::new();
    for i in 0..streams {
        let p = i / STREAMS_PER_PHONE;
        let call = CallKey {
            call_id: format!("bench-{i}"),
            from_tag: "a".into(),
        };
        let req = |sdp: String, to_tag: Option<&str>, from: &UdpSocket| RelayRequest {
            call: call.clone(),
            to_tag: to_tag.map(Into::into),
            sdp,
            signalled_from: from.local_addr().unwrap(),
            receiver: Profile::Rtp,
        };
        let to_callee = rt
            .block_on(relay.offer(req(
                sdp(callers[p].local_addr().unwrap().port()),
                None,
                &callers[p],
            )))
            .unwrap();
        let to_caller = rt
            .block_on(relay.answer(req(
                sdp(callees[p].local_addr().unwrap().port()),
                Some("b"),
                &callees[p],
            )))
            .unwrap();
        let _ = to_callee;
        targets.push((p, SocketAddr::new(LO, media_port(&to_caller))));
    }
    let stop = Arc::new(AtomicBool::new(false));
    type Arrivals = HashMap<u32, Vec<(u16, f64)>>;
    let arrivals: Arc<Mutex<Arrivals>> = Arc::default();
    let mut readers = Vec::new();
    for p in &callees {
        let sock = p.try_clone().unwrap();
        let (stop, arrivals) = (stop.clone(), arrivals.clone());
        readers.push(std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut cmsg = nix::cmsg_space!(TimeSpec);
            setsockopt(&sock, sockopt::ReceiveTimestampns, &true).unwrap();
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
                let kernel = msg
                    .cmsgs()
                    .ok()
                    .and_then(|mut c| {
                        c.find_map(|c| match c {
                            ControlMessageOwned::ScmTimestampns(ts) => {
                                Some(Duration::from(ts).as_secs_f64())
                            }
                            _ => None,
                        })
                    })
                    .unwrap_or(f64::NAN);
                if msg.bytes >= 12 {
                    let seq = u16::from_be_bytes([buf[2], buf[3]]);
                    let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
                    local
                        .entry(ssrc)
                        .or_insert_with(|| Vec::with_capacity(64 * 1024))
                        .push((seq, kernel));
                }
            }
            arrivals.lock().unwrap().extend(local);
        }));
    }
    let senders: Vec<UdpSocket> = callers.iter().map(|p| p.try_clone().unwrap()).collect();
    let stop2 = stop.clone();
    let sender = std::thread::spawn(move || {
        let mut packet = [0xFFu8; 172];
        packet[0] = 0x80;
        packet[1] = 0;
        let start = Instant::now();
        let mut k: u32 = 0;
        let mut sent = 0u64;
        while !stop2.load(Ordering::Relaxed) {
            let due = start + Duration::from_millis(20 * u64::from(k));
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            for (i, (phone, to)) in targets.iter().enumerate() {
                packet[2..4].copy_from_slice(&(k as u16).to_be_bytes());
                packet[4..8].copy_from_slice(&(k * 160).to_be_bytes());
                packet[8..12].copy_from_slice(&(i as u32 + 1).to_be_bytes());
                if senders[*phone].send_to(&packet, to).is_ok() {
                    sent += 1;
                }
            }
            k += 1;
        }
        sent
    });
    std::thread::sleep(Duration::from_secs(1)); // warm-up: latching, first packets
    let cpu0 = threads_cpu_secs(threads_name);
    let totals0 = relay.totals().packets;
    let t0 = Instant::now();
    let kernel_t0 = {
        // The kernel timestamps are wall-clock (CLOCK_REALTIME) seconds.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    std::thread::sleep(Duration::from_secs(secs));
    let cpu = threads_cpu_secs(threads_name) - cpu0;
    let forwarded = relay.totals().packets - totals0;
    let wall = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _sent = sender.join().unwrap();
    for t in readers {
        t.join().unwrap();
    }
    let arrivals = arrivals.lock().unwrap();
    let mut intervals: Vec<f64> = Vec::new();
    let mut packets = 0usize;
    let mut gaps = 0usize;
    for times in arrivals.values() {
        let times: Vec<&(u16, f64)> = times.iter().filter(|t| t.1 >= kernel_t0).collect();
        packets += times.len();
        for w in times.windows(2) {
            if w[1].0 != w[0].0.wrapping_add(1) {
                gaps += 1;
                continue;
            }
            intervals.push((w[1].1 - w[0].1) * 1000.0);
        }
    }
    intervals.retain(|i| i.is_finite());
    intervals.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let expected = streams as f64 * wall * 50.0;
    println!(
        "{:>9} {streams:>5} streams: relay CPU {:5.1}% of a core, {:5.2} µs per forwarded packet ({} forwarded); \
         interval at the receiver (kernel timestamps) ms p50 {:.2} p99 {:.2} max {:.2}; \
         received {:.1}% of expected ({gaps} sequence gaps)",
        relay.name(),
        100.0 * cpu / wall,
        if forwarded > 0 { 1e6 * cpu / forwarded as f64 } else { 0.0 },
        forwarded,
        percentile(&intervals, 0.5),
        percentile(&intervals, 0.99),
        intervals.last().copied().unwrap_or(0.0),
        100.0 * packets as f64 / expected,
    );
    for i in 0..streams {
        let _ = rt.block_on(relay.delete(CallKey {
            call_id: format!("bench-{i}"),
            from_tag: "a".into(),
        }));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let counts: Vec<usize> = if args.is_empty() {
        vec![100, 500, 1000]
    } else {
        args.iter().map(|a| a.parse().unwrap()).collect()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (i, n) in counts.into_iter().enumerate() {
        run(&rt, n, secs, 30000 + (i as u16) * 5000);
    }
}
