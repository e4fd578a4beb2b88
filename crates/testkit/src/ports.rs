//! Free ports on the loopback interface (port 0 cannot be used where SIPp or the server's
//! config need the number in advance).
//!
//! They come from 10000-19999, below the kernel's ephemeral range (32768-60999 by
//! default): a port a test picked, released, and binds again later (a SIPp gateway started
//! once per call on the same port) cannot meanwhile be handed to some other socket bound
//! to port 0. Each process walks the range from its own starting point, so two test
//! binaries rarely try the same ports.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const FIRST: u32 = 10_000;
const COUNT: u32 = 10_000;

/// The next offset in the range (0: not yet seeded).
static NEXT: AtomicU32 = AtomicU32::new(0);

fn seed() -> u32 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (std::process::id().wrapping_mul(7919) ^ nanos) % COUNT + 1
}

/// A port free for both UDP and TCP on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    let _ = NEXT.compare_exchange(0, seed(), Ordering::Relaxed, Ordering::Relaxed);
    for _ in 0..COUNT {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (FIRST + n % COUNT) as u16;
        let Ok(_udp) = UdpSocket::bind((Ipv4Addr::LOCALHOST, port)) else {
            continue;
        };
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!(
        "no port free for both UDP and TCP in {FIRST}-{}",
        FIRST + COUNT - 1
    );
}
