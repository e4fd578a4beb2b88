//! [`PortPool`]: the bounded range of RTP ports. A port is taken by binding a socket on it
//! (skipping ports another program holds) and given back when its session closes.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Mutex;

use crate::error::MediaError;

/// The even ports of a range, each bound at most once by us.
#[derive(Debug)]
pub struct PortPool {
    address: IpAddr,
    first: u16,
    last: u16,
    state: Mutex<PoolState>,
}

#[derive(Debug, Default)]
struct PoolState {
    in_use: HashSet<u16>,
    cursor: u16,
}

impl PortPool {
    /// A pool of the even ports in `first..=last` on `address`.
    pub fn new(address: IpAddr, first: u16, last: u16) -> PortPool {
        let first = first + first % 2;
        PortPool {
            address,
            first,
            last,
            state: Mutex::new(PoolState {
                in_use: HashSet::new(),
                cursor: first,
            }),
        }
    }

    /// Ports in use.
    pub fn in_use(&self) -> usize {
        self.state.lock().map(|s| s.in_use.len()).unwrap_or(0)
    }

    /// Binds a non-blocking UDP socket on the next free port (round robin, so a port
    /// just released is not reused at once and late packets of the old call go nowhere).
    pub fn bind(&self) -> Result<UdpSocket, MediaError> {
        let none = MediaError::NoPort {
            first: self.first,
            last: self.last,
        };
        if self.first > self.last {
            return Err(none);
        }
        let mut st = self.state.lock().map_err(|_| MediaError::Stopped)?;
        let count = usize::from((self.last - self.first) / 2) + 1;
        for _ in 0..count {
            let port = st.cursor;
            st.cursor = if port.saturating_add(2) > self.last {
                self.first
            } else {
                port + 2
            };
            if st.in_use.contains(&port) {
                continue;
            }
            let Ok(sock) = UdpSocket::bind(SocketAddr::new(self.address, port)) else {
                continue; // held by another program
            };
            sock.set_nonblocking(true).map_err(|e| MediaError::Io {
                what: "setting an RTP socket non-blocking".into(),
                source: e,
            })?;
            st.in_use.insert(port);
            return Ok(sock);
        }
        Err(none)
    }

    /// Binds the next free pair: the RTP socket on an even port and the RTCP socket on
    /// the odd port above it (RFC 3550 section 11), both non-blocking. A pair whose odd
    /// port another program holds is skipped like a held even port.
    pub fn bind_pair(&self) -> Result<(UdpSocket, UdpSocket), MediaError> {
        let count = if self.first > self.last {
            0
        } else {
            usize::from((self.last - self.first) / 2) + 1
        };
        // Even ports whose odd neighbour is held stay marked in use while the others
        // are tried (so the round robin does not hand them out again), then go back.
        let mut skipped = Vec::new();
        let mut found = None;
        for _ in 0..count {
            let Ok(rtp) = self.bind() else {
                break;
            };
            let Ok(addr) = rtp.local_addr() else {
                continue;
            };
            let port = addr.port();
            match port
                .checked_add(1)
                .and_then(|p| UdpSocket::bind(SocketAddr::new(self.address, p)).ok())
            {
                Some(rtcp) => {
                    found = Some((rtp, rtcp));
                    break;
                }
                None => skipped.push(port),
            }
        }
        for port in skipped {
            self.release(port);
        }
        let (rtp, rtcp) = found.ok_or(MediaError::NoPort {
            first: self.first,
            last: self.last,
        })?;
        rtcp.set_nonblocking(true).map_err(|e| MediaError::Io {
            what: "setting an RTCP socket non-blocking".into(),
            source: e,
        })?;
        Ok((rtp, rtcp))
    }

    /// Gives a port back.
    pub fn release(&self, port: u16) {
        if let Ok(mut st) = self.state.lock() {
            st.in_use.remove(&port);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_reused() {
        // Two free even ports next to each other (other tests run beside this one).
        let free = |p: u16| UdpSocket::bind(("127.0.0.1", p)).is_ok();
        let start = 50_000 + (std::process::id() % 1000) as u16 * 8;
        let base = (0..500u16)
            .map(|k| start.wrapping_add(k * 4) & !1)
            .find(|&b| b > 1024 && free(b) && free(b + 2))
            .unwrap();
        let pool = PortPool::new(IpAddr::from([127, 0, 0, 1]), base, base + 3);
        let a = pool.bind().unwrap();
        let b = pool.bind().unwrap();
        assert!(matches!(pool.bind(), Err(MediaError::NoPort { .. })));
        let pa = a.local_addr().unwrap().port();
        assert_eq!(pa % 2, 0);
        assert_ne!(pa, b.local_addr().unwrap().port());
        drop(a);
        pool.release(pa);
        assert_eq!(pool.bind().unwrap().local_addr().unwrap().port(), pa);
        assert_eq!(pool.in_use(), 2);
    }
}
