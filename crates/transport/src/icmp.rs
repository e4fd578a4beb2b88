//! ICMP errors for UDP sends (Linux): with `IP_RECVERR` / `IPV6_RECVERR` on a socket, the
//! kernel queues each "port / host / network unreachable" it receives for a datagram the
//! socket sent, with that datagram's destination and its start (an ICMP error quotes a few
//! hundred bytes). Each one is reported to the handler as a send failure, so a request to
//! a phone that is gone fails at once (RFC 3261 §17.1.4) instead of after Timer B or F.
//! The receive loop reads that queue whenever a receive reports a pending ICMP error
//! (tokio's error readiness proved unreliable next to a reader on the same socket).
//!
//! It does not touch what the socket receives. The queue is bounded by the socket's receive
//! buffer; an error that does not fit is lost and the transaction ends by its timer.

use std::io::{self, IoSliceMut};
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use bytes::Bytes;
use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{
    recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage,
};
use tokio::net::UdpSocket;

use crate::handler::report_lost;
use crate::peer::{Peer, TransportKind};
use crate::transports::Shared;

/// Room for the quoted start of a datagram (IPv4 quotes up to 576 bytes of packet, IPv6
/// up to 1280).
const QUOTE_BYTES: usize = 1280;
/// Most errors read at once (the rest wait for the next receive error).
const BATCH: usize = 64;

/// Asks the kernel to queue ICMP errors on `socket` (bound or about to be, family `v6`).
pub(crate) fn enable(socket: &socket2::Socket, v6: bool) -> io::Result<()> {
    let r = if v6 {
        setsockopt(socket, sockopt::Ipv6RecvErr, &true)
    } else {
        setsockopt(socket, sockopt::Ipv4RecvErr, &true)
    };
    r.map_err(io::Error::from)
}

/// Errors a send may report that belong to an earlier datagram (an ICMP error pending on
/// the socket), not to the one being sent.
pub(crate) fn is_deferred_icmp(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
    )
}

/// One queued error, read.
struct Unreachable {
    dest: SocketAddr,
    quote: Bytes,
    error: io::ErrorKind,
}

/// Reads one entry of the error queue: `Ok(None)` for an error that is not an ICMP
/// unreachable (e.g. a path-MTU notice), `Err(WouldBlock)` when the queue is empty.
fn read_one(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Option<Unreachable>> {
    let mut iov = [IoSliceMut::new(buf)];
    let mut cmsg = nix::cmsg_space!(libc::sock_extended_err, libc::sockaddr_in6);
    let msg = recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
    )
    .map_err(|e| {
        if e == Errno::EAGAIN {
            io::Error::from(io::ErrorKind::WouldBlock)
        } else {
            io::Error::from(e)
        }
    })?;
    let len = msg.bytes;
    let dest = msg.address.as_ref().and_then(to_socket_addr);
    let mut errno = None;
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            let ee = match c {
                ControlMessageOwned::Ipv4RecvErr(ee, _)
                | ControlMessageOwned::Ipv6RecvErr(ee, _) => ee,
                _ => continue,
            };
            let icmp =
                ee.ee_origin == libc::SO_EE_ORIGIN_ICMP || ee.ee_origin == libc::SO_EE_ORIGIN_ICMP6;
            if icmp {
                errno = Some(ee.ee_errno as i32);
            }
        }
    }
    let error = match errno.map(Errno::from_raw) {
        Some(Errno::ECONNREFUSED) => io::ErrorKind::ConnectionRefused,
        Some(Errno::EHOSTUNREACH) => io::ErrorKind::HostUnreachable,
        Some(Errno::ENETUNREACH) => io::ErrorKind::NetworkUnreachable,
        _ => return Ok(None),
    };
    let Some(dest) = dest else { return Ok(None) };
    Ok(Some(Unreachable {
        dest,
        quote: Bytes::copy_from_slice(&buf[..len.min(buf.len())]),
        error,
    }))
}

fn to_socket_addr(a: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
    }
    a.as_sockaddr_in6()
        .map(|v6| SocketAddr::V6(SocketAddrV6::from(*v6)))
}

/// Reads every error queued on `socket` and reports each ICMP unreachable to the handler.
/// Called by the receive loop when a receive fails with a pending ICMP error (the kernel
/// sets one for each error it queues), so no task waits on error readiness.
pub(crate) fn drain(socket: &UdpSocket, shared: &Shared) {
    let mut buf = vec![0u8; QUOTE_BYTES];
    for _ in 0..BATCH {
        match read_one(socket, &mut buf) {
            Ok(Some(u)) => {
                shared.stats.send_errors.inc();
                tracing::debug!(dest = %u.dest, error = ?u.error, "udp: ICMP error for a datagram sent");
                let peer = Peer {
                    transport: TransportKind::Udp,
                    addr: u.dest,
                    conn: None,
                };
                report_lost(shared, peer, [u.quote], u.error);
            }
            Ok(None) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => {
                tracing::debug!(error = %e, "udp: reading the error queue failed");
                return;
            }
        }
    }
}
