//! Many datagrams per system call (Linux): `sendmmsg` for the messages one input produced,
//! behind a small safe face over `nix`.
//!
//! On loopback at a few thousand datagrams per second, half of a SIP server's CPU time is
//! spent in the kernel: system calls, socket wake-ups, context switches. Sending what one
//! input produced in one call cuts the system calls per datagram; see bench/README.md for
//! what it bought (within the noise of a shared machine).
//!
//! This module only moves bytes and addresses. Which socket, what to do with what was
//! read, and what a failure means stay with `udp.rs`.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::RawFd;

use nix::sys::socket::{sendmmsg, MsgFlags, MultiHeaders, SockaddrStorage};

/// Datagrams sent at most per send call (a longer batch goes out in several).
pub(crate) const SEND_BATCH: usize = 16;

/// Sends `msgs` (destination, bytes) from `fd` (a non-blocking datagram socket) in as few
/// system calls as it takes, in order; returns how many went out. Stops at the first one
/// the kernel refuses: the error when it is the first of a call, else the count so far
/// (the caller sends the rest one by one, and learns that one's error itself).
pub(crate) fn send(fd: RawFd, msgs: &[(SocketAddr, &[u8])]) -> io::Result<usize> {
    let mut sent = 0;
    let mut headers =
        MultiHeaders::<SockaddrStorage>::preallocate(SEND_BATCH.min(msgs.len()), None);
    for chunk in msgs.chunks(SEND_BATCH) {
        let iovs: Vec<[IoSlice<'_>; 1]> = chunk.iter().map(|(_, b)| [IoSlice::new(b)]).collect();
        let addrs: Vec<Option<SockaddrStorage>> = chunk
            .iter()
            .map(|(a, _)| Some(SockaddrStorage::from(*a)))
            .collect();
        let n = match sendmmsg(fd, &mut headers, &iovs, &addrs, [], MsgFlags::MSG_DONTWAIT) {
            Ok(r) => r.count(),
            Err(e) if sent == 0 => return Err(io::Error::from(e)),
            Err(_) => return Ok(sent),
        };
        sent += n;
        if n < chunk.len() {
            break;
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    fn socket() -> UdpSocket {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_nonblocking(true).unwrap();
        s
    }

    fn read(s: &UdpSocket) -> Vec<u8> {
        let mut buf = [0u8; 256];
        let (n, _) = s.recv_from(&mut buf).unwrap();
        buf[..n].to_vec()
    }

    #[test]
    fn a_batch_arrives_whole_and_in_order() {
        let (a, b) = (socket(), socket());
        let to = b.local_addr().unwrap();
        let texts: Vec<Vec<u8>> = (0..5)
            .map(|i| format!("OPTIONS {i}").into_bytes())
            .collect();
        let msgs: Vec<(SocketAddr, &[u8])> = texts.iter().map(|t| (to, &t[..])).collect();
        assert_eq!(send(a.as_raw_fd(), &msgs).unwrap(), 5);
        for t in &texts {
            assert_eq!(&read(&b), t);
        }
        let mut buf = [0u8; 16];
        let e = b.recv_from(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "nothing more");
    }

    #[test]
    fn more_than_a_batch_takes_more_calls() {
        let (a, b) = (socket(), socket());
        let to = b.local_addr().unwrap();
        let texts: Vec<Vec<u8>> = (0..SEND_BATCH + 3)
            .map(|i| format!("MESSAGE {i}").into_bytes())
            .collect();
        let msgs: Vec<(SocketAddr, &[u8])> = texts.iter().map(|t| (to, &t[..])).collect();
        assert_eq!(send(a.as_raw_fd(), &msgs).unwrap(), SEND_BATCH + 3);
        for t in &texts {
            assert_eq!(&read(&b), t);
        }
    }

    #[test]
    fn each_message_goes_to_its_own_destination() {
        let (a, b, c) = (socket(), socket(), socket());
        let msgs: Vec<(SocketAddr, &[u8])> = vec![
            (b.local_addr().unwrap(), b"to b"),
            (c.local_addr().unwrap(), b"to c"),
        ];
        assert_eq!(send(a.as_raw_fd(), &msgs).unwrap(), 2);
        assert_eq!(read(&b), b"to b");
        assert_eq!(read(&c), b"to c");
    }
}
