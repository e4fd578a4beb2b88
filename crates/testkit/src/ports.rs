//! Free ports on the loopback interface (port 0 cannot be used where SIPp or the server's
//! config need the number in advance), and whether a TCP port listens yet.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};

/// A port free for both UDP and TCP on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP");
}

/// True when a TCP socket listens on 127.0.0.1:`port` (from `/proc/net/tcp`): a peer that
/// takes one connection only (`openssl s_server -naccept 1`) is not probed by connecting.
pub fn tcp_listening(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let local = format!("0100007F:{port:04X}");
    table.lines().skip(1).any(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        cols.get(1) == Some(&local.as_str()) && cols.get(3) == Some(&"0A")
    })
}
