//! Bench: N concurrent RTP streams through a media relay, driven through `dyn MediaRelay`
//! (offer, answer, delete per call), as the proxy drives it. Each stream is a call: a
//! caller phone sends one 172-byte RTP packet every 20 ms to the relay's port for it, and
//! a callee phone times the arrival of every packet the relay forwards. The phones run in
//! a second process pinned to the other core (`phones.rs`), so the relay's core runs no
//! bench thread; the relay is pinned to `RELAY_CPU` (default 0; the phones' is
//! `PHONE_CPU`, default 1; `PIN=0` pins nothing).
//!
//! The relays, by `RELAY`:
//! - `embedded` (default): the embedded relay, in this process, with `RELAY_THREADS`
//!   data-plane threads (default 1);
//! - `rtpengine`: Sipwise rtpengine (Debian's `rtpengine-daemon`), started here in the
//!   foreground in userspace mode (`--table=-1`) on 127.0.0.1 with `--num-threads` =
//!   `RELAY_THREADS` and a port range of its own, driven by the `ng` client;
//! - `both`: the two, one after the other at each stream count;
//! - `direct`: no relay, the callers send straight to the callees (the pacing the phones
//!   and the machine give by themselves: the control for the relays' figures; its "relay
//!   CPU" is the idle bench's); `all`: direct, embedded and rtpengine.
//!
//! Prints, per relay and stream count: the relay process's CPU (user + system, all its
//! threads, from /proc/PID/stat) as a share of a core and per forwarded packet (the packets
//! the callee phones received in the same window), the system share of it, and its
//! threads' wait for a CPU (`schedstat`: how much of the time the relay's core was not its
//! own); the forwarding pacing: the inter-arrival interval at the callee by the kernel's
//! receive timestamps, p50/p99/max, with the packets received against those expected and
//! the sequence gaps; how late the caller phones sent their packets (the intervals inherit
//! the phones' own lateness); the load average. The callers spread their streams over each
//! 20 ms in `SLOTS` slots (default 20: 1 ms each; `SLOTS=1` sends all streams in one
//! burst). What rtpengine logs in the window (warnings and errors; under load "Too many
//! packets in UDP receive queue") is counted and printed under its line.
//!
//! `bench/relay.sh` runs it in release mode; `BENCH_SECS` (default 10) per run.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod phones;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use phones::{env_usize, PhoneProcess};
use relay::embedded::{EmbeddedConfig, EmbeddedRelay};
use relay::rtpengine::{RtpEngine, RtpEngineConfig};
use relay::{CallKey, MediaRelay, Profile, RelayRequest};

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// rtpengine, running in the foreground; killed on drop.
struct Daemon {
    child: Child,
    /// Its log lines so far, counted by message (the text after the subsystem tag, e.g.
    /// "Too many packets in UDP receive queue"), when it logs under load.
    log: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl Daemon {
    /// Starts rtpengine with `args`; a thread counts its log lines.
    fn start(args: &[String]) -> Daemon {
        let mut child = Command::new("rtpengine")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rtpengine (apt-get install rtpengine-daemon)");
        let log: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
        let (stderr, counts) = (child.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let message = line.rsplit("] ").next().unwrap_or(&line).to_string();
                *counts.lock().unwrap().entry(message).or_default() += 1;
            }
        });
        Daemon { child, log }
    }

    /// The log lines since the last call, as `N× message` joined by "; ".
    fn take_log(&self) -> String {
        let log = std::mem::take(&mut *self.log.lock().unwrap());
        let lines: Vec<String> = log.iter().map(|(m, n)| format!("{n}× {m}")).collect();
        lines.join("; ")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The relay under test and the process whose CPU is its (None: this one).
fn make_relay(
    rt: &tokio::runtime::Runtime,
    kind: &str,
    ports: (u16, u16),
    threads: usize,
) -> (Box<dyn MediaRelay>, Option<Daemon>) {
    match kind {
        "embedded" => {
            let relay = EmbeddedRelay::start(EmbeddedConfig {
                bind_address: LO,
                advertised_address: LO,
                first_port: ports.0,
                last_port: ports.1,
                timeout: Duration::from_secs(60),
                threads,
            })
            .unwrap();
            (Box::new(relay), None)
        }
        "rtpengine" => {
            let ng = SocketAddr::new(
                LO,
                UdpSocket::bind((LO, 0))
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port(),
            );
            let daemon = Daemon::start(&[
                "--config-file=none".into(),
                "--foreground".into(),
                "--log-stderr".into(),
                "--log-level=4".into(),
                "--table=-1".into(),
                "--interface=127.0.0.1".into(),
                format!("--listen-ng={ng}"),
                format!("--port-min={}", ports.0),
                format!("--port-max={}", ports.1),
                format!("--num-threads={threads}"),
            ]);
            let client = rt
                .block_on(RtpEngine::connect(RtpEngineConfig::new(ng)))
                .unwrap();
            // Ready when it answers (the client resends for 3 s).
            rt.block_on(client.ping())
                .expect("rtpengine answers a ping");
            (Box::new(client), Some(daemon))
        }
        other => {
            eprintln!("RELAY={other}: embedded, rtpengine or both");
            std::process::exit(2);
        }
    }
}

/// A process's CPU time so far (user and system, all its threads), in seconds.
fn process_cpu_secs(pid: Option<u32>) -> (f64, f64) {
    let path = pid.map_or("/proc/self/stat".to_string(), |p| format!("/proc/{p}/stat"));
    let stat = std::fs::read_to_string(path).unwrap();
    // Fields after the command's closing parenthesis: state is [0], utime [11], stime [12].
    let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let secs = |i: usize| f[i].parse::<f64>().unwrap() / 100.0; // USER_HZ on Linux
    (secs(11), secs(12))
}

/// The time a process's threads have waited for a CPU so far (runnable, not running), in
/// seconds, from /proc/PID/task/*/schedstat: how much the relay's core was taken from it.
fn process_wait_secs(pid: Option<u32>) -> f64 {
    let dir = pid.map_or("/proc/self/task".to_string(), |p| format!("/proc/{p}/task"));
    let mut wait = 0.0;
    for task in std::fs::read_dir(dir).unwrap().map_while(Result::ok) {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        wait += stat
            .split(' ')
            .nth(1)
            .and_then(|w| w.parse::<f64>().ok())
            .unwrap_or(0.0);
    }
    wait / 1e9
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

fn call(i: usize) -> CallKey {
    CallKey {
        call_id: format!("bench-{i}"),
        from_tag: "a".into(),
    }
}

fn run(rt: &tokio::runtime::Runtime, kind: &str, streams: usize, secs: u64, base_port: u16) {
    let threads = env_usize("RELAY_THREADS", 1);
    let ports = (base_port, base_port + 4 * streams as u16 + 100);
    let (relay, daemon) = match kind {
        "direct" => (None, None),
        _ => {
            let (relay, daemon) = make_relay(rt, kind, ports, threads);
            (Some(relay), daemon)
        }
    };
    let mut phones = PhoneProcess::spawn(streams);
    // Each call as the proxy makes it: the caller's SDP offered, the callee's answered;
    // the caller phone then sends to the relay's port in the answer (`direct`: to the
    // callee phone).
    let mut targets = Vec::with_capacity(streams);
    for i in 0..streams {
        let p = i / phones::STREAMS_PER_PHONE;
        let (caller, callee) = (phones.callers[p], phones.callees[p]);
        let Some(relay) = &relay else {
            targets.push(callee.port());
            continue;
        };
        let req = |sdp: String, to_tag: Option<&str>, from: SocketAddr| RelayRequest {
            call: call(i),
            to_tag: to_tag.map(Into::into),
            sdp,
            signalled_from: from,
            receiver: Profile::Rtp,
        };
        rt.block_on(relay.offer(req(sdp(caller.port()), None, caller)))
            .unwrap();
        let to_caller = rt
            .block_on(relay.answer(req(sdp(callee.port()), Some("b"), callee)))
            .unwrap();
        targets.push(media_port(&to_caller));
    }
    let pid = daemon.as_ref().map(|d| d.child.id());
    phones.start(&targets, secs);
    let (cpu0, wait0, t0) = (
        process_cpu_secs(pid),
        process_wait_secs(pid),
        Instant::now(),
    );
    if let Some(d) = &daemon {
        d.take_log(); // from here on: the window's
    }
    phones.wait_closed();
    let (cpu1, wait1) = (process_cpu_secs(pid), process_wait_secs(pid));
    let wall = t0.elapsed().as_secs_f64();
    let (user, system) = (cpu1.0 - cpu0.0, cpu1.1 - cpu0.1);
    let cpu = user + system;
    let log = daemon.as_ref().map(Daemon::take_log).unwrap_or_default();
    let f = phones.result();
    let [p50, p99, max] = f.interval;
    let [lag50, lag99, lagmax] = f.sender_lag;
    println!(
        "{kind:>9} {streams:>5} streams: relay CPU {:5.1}% of a core ({:.0}% of it system, run-queue wait {:.0} ms/s), {:5.2} µs per forwarded packet ({} forwarded); \
         interval at the receiver (kernel timestamps) ms p50 {p50:.2} p99 {p99:.2} max {max:.2}; \
         received {:.1}% of expected ({} sequence gaps); \
         callers' sends after their due time ms p50 {lag50:.2} p99 {lag99:.2} max {lagmax:.2}; \
         load average {}",
        100.0 * cpu / wall,
        100.0 * system / cpu.max(f64::MIN_POSITIVE),
        1000.0 * (wait1 - wait0) / wall,
        if f.packets > 0 { 1e6 * cpu / f.packets as f64 } else { 0.0 },
        f.packets,
        100.0 * f.packets as f64 / (streams as f64 * wall * 50.0),
        f.gaps,
        load_average(),
    );
    if !log.is_empty() {
        println!("          rtpengine logged in the window: {log}");
    }
    if let Some(relay) = &relay {
        for i in 0..streams {
            let _ = rt.block_on(relay.delete(call(i)));
        }
    }
    drop(relay);
    drop(daemon);
}

/// The 1-minute load average (the machine's state during the run).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split(' ')
        .next()
        .unwrap_or("?")
        .to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--phones") {
        phones::child_main(args[1].parse().unwrap());
        return;
    }
    phones::own_session();
    // The relay's core: this process's threads and the rtpengine it starts.
    phones::pin_to(env_usize("RELAY_CPU", 0));
    let secs = env_usize("BENCH_SECS", 10) as u64;
    let counts: Vec<usize> = if args.is_empty() {
        vec![100, 500, 1000]
    } else {
        args.iter().map(|a| a.parse().unwrap()).collect()
    };
    let kinds: &[&str] = match std::env::var("RELAY").as_deref().unwrap_or("embedded") {
        "both" => &["embedded", "rtpengine"],
        "all" => &["direct", "embedded", "rtpengine"],
        "direct" => &["direct"],
        "rtpengine" => &["rtpengine"],
        "embedded" => &["embedded"],
        other => {
            eprintln!("RELAY={other}: embedded, rtpengine, both, direct or all");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut run_no = 0u16;
    for n in counts {
        for kind in kinds {
            // A fresh port range per run: the last run's ports may linger a moment.
            run(&rt, kind, n, secs, 20000 + (run_no % 8) * 5000);
            run_no += 1;
        }
    }
}
