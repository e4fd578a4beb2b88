//! A PSTN gateway played by a thread, for `pstn.rs`'s probing test.
#![allow(clippy::unwrap_used)]

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A gateway played by a thread: while `answering`, it answers OPTIONS with 200 and
/// INVITE with 486 (counting INVITEs); otherwise it is silent. Every INVITE is counted.
pub struct Responder {
    pub port: u16,
    pub answering: Arc<AtomicBool>,
    pub invites: Arc<AtomicUsize>,
}

pub fn responder() -> Responder {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let answering = Arc::new(AtomicBool::new(false));
    let invites = Arc::new(AtomicUsize::new(0));
    let (on, count) = (answering.clone(), invites.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).to_string();
            let status = if msg.starts_with("INVITE ") {
                count.fetch_add(1, Ordering::SeqCst);
                "486 Busy Here"
            } else if msg.starts_with("OPTIONS ") {
                "200 OK"
            } else {
                continue;
            };
            if !on.load(Ordering::SeqCst) {
                continue;
            }
            let resp = testkit::udp::response_to(status, msg.lines(), "gw1");
            let _ = sock.send_to(resp.as_bytes(), from);
        }
    });
    Responder {
        port,
        answering,
        invites,
    }
}
