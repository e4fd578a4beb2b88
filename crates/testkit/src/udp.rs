//! Raw SIP over UDP on 127.0.0.1, for tests that send what no phone would (RFC 4475
//! torture messages, probes from strangers), and the raw answers of the tests' minimal
//! peers.

use std::io::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// A UDP socket on 127.0.0.1 speaking raw SIP to the server.
pub struct RawUdp {
    /// The socket.
    pub sock: UdpSocket,
}

impl RawUdp {
    /// Bound to `addr`.
    pub fn bind(addr: SocketAddr) -> RawUdp {
        let sock = UdpSocket::bind(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        RawUdp { sock }
    }

    /// Sends bytes to `to`.
    pub fn send(&self, to: SocketAddr, data: &[u8]) {
        self.sock.send_to(data, to).unwrap();
    }

    /// The next datagram, or None after `limit`.
    pub fn recv(&self, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        let mut buf = vec![0u8; 65536];
        while Instant::now() < deadline {
            match self.sock.recv_from(&mut buf) {
                Ok((n, _)) => return Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("recv: {e}"),
            }
        }
        None
    }
}

/// An OPTIONS to the server itself, from `local` (Via with rport), with Call-ID `call_id`.
pub fn options_ping(local: SocketAddr, server: SocketAddr, call_id: &str) -> Vec<u8> {
    let mut m = Vec::new();
    write!(
        m,
        "OPTIONS sip:{server} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};rport;branch=z9hG4bK-{call_id}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@example.com>;tag=probe\r\n\
         To: <sip:{server}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .unwrap();
    m
}

/// The status code of a response's start line.
pub fn status_of(resp: &str) -> Option<u16> {
    resp.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// A final response `status` (e.g. `486 Busy Here`) to the request whose lines are
/// `request`: its Via, From, Call-ID and CSeq lines copied, its To line with `;tag=to_tag`,
/// no body.
pub fn response_to<'a>(
    status: &str,
    request: impl IntoIterator<Item = &'a str>,
    to_tag: &str,
) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for line in request {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        match name.as_str() {
            "via" | "from" | "call-id" | "cseq" => out.push_str(&format!("{line}\r\n")),
            "to" => out.push_str(&format!("{line};tag={to_tag}\r\n")),
            _ => {}
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out
}
