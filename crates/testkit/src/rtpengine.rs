//! A real rtpengine (Sipwise; Debian's `rtpengine-daemon`) for the media relay tests:
//! started in the foreground, in userspace mode (`--table=-1`, no kernel module), on
//! 127.0.0.1 only, its `ng` control port and a small media port range of its own; its log
//! goes to the test's stderr. Killed on drop.
//!
//! Where rtpengine is not installed the test says it did not run, unless
//! `SWITCHBOARD_REQUIRE_RTPENGINE=1` (scripts/test.sh) makes that a failure.

#![allow(clippy::print_stderr)] // rtpengine's log, and why a test did not run

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};

/// A running rtpengine.
pub struct Rtpengine {
    child: Child,
    /// Its `ng` control address (`--listen-ng`).
    pub ng: SocketAddr,
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Rtpengine {
    /// Starts rtpengine, or None (after saying so) where it is not installed and not
    /// required. It is ready when it answers an `ng` ping.
    pub fn start() -> Option<Rtpengine> {
        let ng: SocketAddr = ([127, 0, 0, 1], free_udp_port()).into();
        // 40 media ports from a free one, kept even.
        let base = (free_udp_port() & !1).clamp(20_000, 60_000);
        let spawned = Command::new("rtpengine")
            .args([
                "--foreground",
                "--log-stderr",
                "--table=-1",
                "--no-fallback",
            ])
            .args(["--interface=127.0.0.1", "--log-level=6"])
            .arg(format!("--listen-ng={ng}"))
            .arg(format!("--port-min={base}"))
            .arg(format!("--port-max={}", base + 40))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("SWITCHBOARD_REQUIRE_RTPENGINE").as_deref() == Ok("1") {
                    panic!("rtpengine is required but cannot start: {e}");
                }
                eprintln!(
                    "not run: rtpengine is not installed (apt-get install rtpengine-daemon): {e}"
                );
                return None;
            }
        };
        // A thread reads its log so the pipe never fills.
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("rtpengine: {line}");
            }
        });
        Some(Rtpengine { child, ng })
    }
}

impl Drop for Rtpengine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
