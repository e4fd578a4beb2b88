//! Free ports on the loopback interface (port 0 cannot be used where SIPp or the server's
//! config need the number in advance).

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
