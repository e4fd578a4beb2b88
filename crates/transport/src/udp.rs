//! SIP over UDP: SO_REUSEPORT worker sockets, receive loops, and sending. STUN Binding
//! requests on a SIP port (RFC 5626 §8 keep-alives) are answered here (`stun.rs`).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use crate::error::SendError;
use crate::peer::{Peer, Received, TransportKind};
use crate::transports::Shared;

/// Socket buffer size requested (the kernel may cap it).
const SOCKET_BUFFER: usize = 4 << 20;

/// The worker sockets bound to one configured UDP address, all on the same port.
#[derive(Debug)]
pub(crate) struct UdpEndpoint {
    pub local: SocketAddr,
    pub sockets: Vec<Arc<UdpSocket>>,
}

/// Binds `workers` sockets to `addr`; with port 0 the first one picks the port.
pub(crate) fn bind(addr: SocketAddr, workers: usize) -> io::Result<UdpEndpoint> {
    let first = bind_one(addr)?;
    let local = first.local_addr()?;
    let mut sockets = Vec::with_capacity(workers.max(1));
    sockets.push(Arc::new(first));
    for _ in 1..workers {
        sockets.push(Arc::new(bind_one(local)?));
    }
    Ok(UdpEndpoint { local, sockets })
}

fn bind_one(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    if let Err(e) = socket.set_recv_buffer_size(SOCKET_BUFFER) {
        tracing::debug!(%addr, error = %e, "udp: cannot set SO_RCVBUF");
    }
    if let Err(e) = socket.set_send_buffer_size(SOCKET_BUFFER) {
        tracing::debug!(%addr, error = %e, "udp: cannot set SO_SNDBUF");
    }
    #[cfg(target_os = "linux")]
    if let Err(e) = crate::icmp::enable(&socket, addr.is_ipv6()) {
        tracing::debug!(%addr, error = %e, "udp: cannot set IP_RECVERR; ICMP errors not reported");
    }
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// Reads datagrams forever (the task is aborted on shutdown).
pub(crate) async fn receive_loop(socket: Arc<UdpSocket>, local: SocketAddr, shared: Arc<Shared>) {
    let max = shared.config.max_message_bytes;
    // One spare byte tells an oversized (truncated) datagram from one of exactly `max`.
    let mut buf = vec![0u8; max + 1];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, from)) => {
                if n > max {
                    shared.stats.framing_errors.inc();
                    tracing::debug!(%from, "udp: datagram over max_message_bytes dropped");
                    continue;
                }
                let data = &buf[..n];
                if crate::stun::is_stun(data) {
                    // RFC 5626 §8: an outbound phone's keep-alive; never SIP.
                    match crate::stun::answer(data, from) {
                        Some(reply) => match socket.send_to(&reply, from).await {
                            Ok(_) => {
                                shared.stats.stun_answered.inc();
                                tracing::trace!(%from, "udp: STUN keep-alive answered");
                            }
                            Err(e) => {
                                tracing::debug!(%from, error = %e, "udp: STUN answer not sent")
                            }
                        },
                        None => {
                            tracing::debug!(%from, "udp: STUN message not answered (not a Binding request we take)")
                        }
                    }
                    continue;
                }
                if is_keepalive(data) {
                    continue;
                }
                shared.stats.udp_rx.inc();
                shared.handler.on_message(Received {
                    data: Bytes::copy_from_slice(data),
                    peer: Peer {
                        transport: TransportKind::Udp,
                        addr: from,
                        conn: None,
                    },
                    local,
                });
            }
            // An ICMP error for a datagram this socket sent: report what is queued.
            #[cfg(target_os = "linux")]
            Err(e) if crate::icmp::is_deferred_icmp(e.kind()) => {
                crate::icmp::drain(&socket, &shared)
            }
            Err(e) => tracing::debug!(%local, error = %e, "udp: receive error"),
        }
    }
}

/// Empty datagrams and CRLF-only keep-alives carry nothing for the handler.
fn is_keepalive(data: &[u8]) -> bool {
    data.iter().all(|&b| b == b'\r' || b == b'\n')
}

/// Sends one datagram from a socket of the destination's address family.
pub(crate) fn send(shared: &Arc<Shared>, addr: SocketAddr, data: Bytes) -> Result<(), SendError> {
    let (socket, addr) =
        pick_socket(&shared.udp, addr).ok_or(SendError::NoTransport(TransportKind::Udp))?;
    let mut sent = socket.try_send_to(&data, addr);
    if matches!(&sent, Err(e) if deferred_icmp(e.kind())) {
        // An ICMP error for an earlier datagram (reported through the error queue), not
        // about this one: the pending error is cleared, try again.
        sent = socket.try_send_to(&data, addr);
    }
    match sent {
        Ok(_) => {
            shared.stats.udp_tx.inc();
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            let socket = socket.clone();
            let shared2 = shared.clone();
            shared.rt.spawn(async move {
                match socket.send_to(&data, addr).await {
                    Ok(_) => shared2.stats.udp_tx.inc(),
                    Err(e) => {
                        shared2.stats.send_errors.inc();
                        tracing::warn!(%addr, error = %e, "udp: send failed");
                        let peer = Peer {
                            transport: TransportKind::Udp,
                            addr,
                            conn: None,
                        };
                        crate::handler::report_lost(&shared2, peer, [data], e.kind());
                    }
                }
            });
            Ok(())
        }
        Err(e) => Err(SendError::Io(e)),
    }
}

/// Sends datagrams in order (and empties `msgs`): on Linux, a run of two or more for the
/// same socket in one system call each; the others, and what a batch call did not take,
/// one by one through [`send`], which reports each refused message to `failed`.
pub(crate) fn send_many(
    shared: &Arc<Shared>,
    msgs: &mut Vec<(SocketAddr, Bytes)>,
    failed: &mut dyn FnMut(SocketAddr, Bytes, SendError),
) {
    let mut done = 0;
    #[cfg(target_os = "linux")]
    while done < msgs.len() {
        use std::os::fd::AsRawFd;
        let Some((socket, _)) = pick_socket(&shared.udp, msgs[done].0) else {
            break;
        };
        let run: Vec<(SocketAddr, &[u8])> = msgs[done..]
            .iter()
            .map_while(|(addr, data)| match pick_socket(&shared.udp, *addr) {
                Some((s, to)) if Arc::ptr_eq(s, socket) => Some((to, &data[..])),
                _ => None,
            })
            .collect();
        if run.len() < 2 {
            break;
        }
        let sent = crate::udp_batch::send(socket.as_raw_fd(), &run).unwrap_or(0);
        shared.stats.udp_tx.add(sent as u64);
        done += sent;
        if sent < run.len() {
            break;
        }
    }
    for (addr, data) in msgs.drain(..).skip(done) {
        if let Err(e) = send(shared, addr, data.clone()) {
            failed(addr, data, e);
        }
    }
}

#[cfg(target_os = "linux")]
fn deferred_icmp(kind: io::ErrorKind) -> bool {
    crate::icmp::is_deferred_icmp(kind)
}

#[cfg(not(target_os = "linux"))]
fn deferred_icmp(_kind: io::ErrorKind) -> bool {
    false
}

/// The first socket of the first endpoint in the address family of `addr`; an
/// IPv4-mapped IPv6 destination goes out over IPv4 when only IPv4 is bound.
fn pick_socket(
    endpoints: &[UdpEndpoint],
    addr: SocketAddr,
) -> Option<(&Arc<UdpSocket>, SocketAddr)> {
    let find = |v4: bool| {
        endpoints
            .iter()
            .find(|e| e.local.is_ipv4() == v4)
            .and_then(|e| e.sockets.first())
    };
    if let Some(s) = find(addr.is_ipv4()) {
        return Some((s, addr));
    }
    if let IpAddr::V6(ip) = addr.ip() {
        if let Some(v4) = ip.to_ipv4_mapped() {
            return find(true).map(|s| (s, SocketAddr::new(IpAddr::V4(v4), addr.port())));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::is_keepalive;

    #[test]
    fn keepalives() {
        assert!(is_keepalive(b"\r\n\r\n"));
        assert!(is_keepalive(b"\r\n"));
        assert!(is_keepalive(b""));
        assert!(!is_keepalive(b"\r\nOPTIONS"));
    }
}
