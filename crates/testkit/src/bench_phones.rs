//! What the media and relay benches' phone processes share (`crates/media/examples/common/
//! phones.rs`, `crates/relay/examples/relay_bench/phones.rs`, decision 0028): pinning a
//! process to a core and making it a session of its own, the environment's knobs, the
//! percentile of sorted figures, the parent-child line protocol's reader, and the phone
//! socket reader that records each RTP packet with its kernel receive timestamp
//! (`SO_TIMESTAMPNS`).
//!
//! Not here: what each bench sends and how it reports (its own `phones.rs`).

use std::collections::HashMap;
use std::io::{BufRead, IoSliceMut};
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::socket::{
    recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage,
};
use nix::sys::time::TimeSpec;

/// Streams per phone socket.
pub const STREAMS_PER_PHONE: usize = 50;

/// Per SSRC: (sequence number, the reader's time, the kernel's receive time in seconds).
pub type Arrivals = HashMap<u32, Vec<(u16, Instant, f64)>>;

/// Pins this process (the calling thread and the threads and processes it starts later)
/// to `cpu`, unless `PIN=0` or the machine has no such CPU.
pub fn pin_to(cpu: usize) {
    if std::env::var("PIN").is_ok_and(|v| v == "0") {
        return;
    }
    // (Not `available_parallelism`: it counts the CPUs of the inherited affinity.)
    let mut set = nix::sched::CpuSet::new();
    if set.set(cpu).is_ok() {
        let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set);
    }
}

/// Makes this process a session (so a scheduler autogroup) of its own: the kernel's
/// autogrouping shares cores between sessions, so the measured process and the phones'
/// are not one group, nor the shell's.
/// A process group leader cannot: run the bench from a script, not a job-control shell.
pub fn own_session() -> bool {
    nix::unistd::setsid().is_ok()
}

/// `NAME` from the environment, else `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The value at fraction `p` of sorted values (0 for none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// One line of the parent-child protocol, without its line end.
pub fn read_line(r: &mut impl BufRead) -> String {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    line.trim_end().to_string()
}

/// Reads RTP packets on a phone socket until `stop`, keeping each one's sequence number,
/// the reader's time and the kernel's receive time by SSRC; adds them to `arrivals` at the
/// end. The socket's buffer is made large: a reader that waits for a CPU must not lose
/// packets (as root the limit is raised; else `rmem_max` caps it).
pub fn read_phone(sock: UdpSocket, stop: Arc<AtomicBool>, arrivals: Arc<Mutex<Arrivals>>) {
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
        let at = Instant::now();
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
        // The RTP header's sequence number and SSRC (RFC 3550 §5.1).
        if msg.bytes >= 12 {
            let seq = u16::from_be_bytes([buf[2], buf[3]]);
            let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
            local
                .entry(ssrc)
                .or_insert_with(|| Vec::with_capacity(64 * 1024))
                .push((seq, at, kernel));
        }
    }
    arrivals.lock().unwrap().extend(local);
}
