//! SIP over UDP.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};

use bytes::Bytes;
use common::*;
use transport::{Peer, TransportKind};

fn client(ip: std::net::IpAddr) -> UdpSocket {
    let s = UdpSocket::bind(SocketAddr::new(ip, 0)).unwrap();
    s.set_read_timeout(Some(HANG_GUARD)).unwrap();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_and_keepalives_dropped() {
    for ip in loopbacks() {
        let (t, mut rx) = start(config(ip)).await;
        let server = addr_of(&t, TransportKind::Udp);
        assert_eq!(server.ip(), ip);
        assert_ne!(server.port(), 0);
        let c = client(ip);

        c.send_to(b"\r\n\r\n", server).unwrap(); // keep-alive: never reaches the handler
        let req = request("udp", "hello");
        c.send_to(&req, server).unwrap();
        let got = recv(&mut rx).await;
        assert_eq!(got.data, req);
        assert_eq!(got.peer.transport, TransportKind::Udp);
        assert_eq!(got.peer.addr, c.local_addr().unwrap());
        assert_eq!(got.peer.conn, None);
        assert_eq!(got.local, server);

        let reply = Bytes::from(request("reply", ""));
        t.send(&got.peer, reply.clone()).unwrap();
        let mut buf = [0u8; 2048];
        let (n, from) = c.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], &reply[..]);
        assert_eq!(from, server);

        let stats = t.stats();
        assert_eq!(stats.udp_rx, 1);
        assert_eq!(stats.udp_tx, 1);
        assert!(rx.try_recv().is_err());
        t.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_share_one_port() {
    for ip in loopbacks() {
        let mut cfg = config(ip);
        cfg.udp_workers = 4;
        let (t, mut rx) = start(cfg).await;
        let server = addr_of(&t, TransportKind::Udp);
        let workers = t.udp_worker_addrs();
        assert_eq!(workers.len(), 4);
        assert!(
            workers.iter().all(|a| *a == server),
            "{workers:?} vs {server}"
        );

        // Many source ports, spread over the workers by the kernel: all arrive.
        let clients: Vec<UdpSocket> = (0..32).map(|_| client(ip)).collect();
        for (i, c) in clients.iter().enumerate() {
            c.send_to(&request(&format!("w{i}"), ""), server).unwrap();
        }
        let mut seen = HashSet::new();
        for _ in 0..clients.len() {
            seen.insert(recv(&mut rx).await.peer.addr);
        }
        assert_eq!(seen.len(), clients.len());
        t.shutdown().await;
    }
}

#[tokio::test]
async fn no_socket_of_that_family() {
    let mut cfg = config("127.0.0.1".parse().unwrap());
    cfg.tcp.clear();
    let (t, _rx) = start(cfg).await;
    let peer = Peer {
        transport: TransportKind::Udp,
        addr: "[2001:db8::1]:5060".parse().unwrap(),
        conn: None,
    };
    assert!(matches!(
        t.send(&peer, Bytes::from_static(b"x")),
        Err(transport::SendError::NoTransport(TransportKind::Udp))
    ));
    let tcp = Peer {
        transport: TransportKind::Tcp,
        addr: "127.0.0.1:5060".parse().unwrap(),
        conn: None,
    };
    assert!(matches!(
        t.send(&tcp, Bytes::from_static(b"x")),
        Err(transport::SendError::NoTransport(TransportKind::Tcp))
    ));
    t.shutdown().await;
}

#[test]
fn transport_kind() {
    assert_eq!(TransportKind::Udp.as_str(), "UDP");
    assert_eq!(TransportKind::Tcp.as_str(), "TCP");
    assert_eq!(TransportKind::from_via("udp"), Some(TransportKind::Udp));
    assert_eq!(TransportKind::from_via("Tcp"), Some(TransportKind::Tcp));
    assert_eq!(TransportKind::from_via("SCTP"), None);
    assert!(TransportKind::Tcp.is_reliable());
    assert!(!TransportKind::Udp.is_reliable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_datagram_dropped() {
    let ip = "127.0.0.1".parse().unwrap();
    let mut cfg = config(ip);
    cfg.udp_workers = 1;
    cfg.max_message_bytes = 300;
    let (t, mut rx) = start(cfg).await;
    let server = addr_of(&t, TransportKind::Udp);
    let c = client(ip);
    c.send_to(&request("big", &"x".repeat(400)), server)
        .unwrap();
    let small = request("small", "");
    assert!(small.len() <= 300);
    c.send_to(&small, server).unwrap();
    assert_eq!(recv(&mut rx).await.data, small);
    assert_eq!(t.stats().framing_errors, 1);
    t.shutdown().await;
}

/// Issue 12 item 3 over UDP (Linux, `IP_RECVERR`): a datagram to a port where nothing
/// listens draws an ICMP port unreachable, reported to the handler as a send failure with
/// the destination and the datagram's start; later sends on the socket are unaffected.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn icmp_port_unreachable_is_reported_to_the_handler() {
    for ip in loopbacks() {
        let (t, mut rx) = start_upcalls(config(ip)).await;
        let closed = client(ip).local_addr().unwrap(); // dropped: nothing listens there
        let lost = Bytes::from(request("unreachable", "x"));
        let peer = Peer {
            transport: TransportKind::Udp,
            addr: closed,
            conn: None,
        };
        t.send(&peer, lost.clone()).unwrap();
        let Upcall::SendFailed(f) = upcall(&mut rx).await else {
            panic!("a send failure");
        };
        assert_eq!(f.peer, peer);
        assert_eq!(f.error, std::io::ErrorKind::ConnectionRefused);
        assert!(lost.starts_with(&f.data), "{:?}", f.data);
        assert!(
            f.data.len() >= 100,
            "the quote holds the request line and Via"
        );
        // The socket still sends: a live client gets the next datagram.
        let live = client(ip);
        let to_live = Peer {
            addr: live.local_addr().unwrap(),
            ..peer
        };
        let again = Bytes::from(request("after", ""));
        t.send(&to_live, again.clone()).unwrap();
        let mut buf = [0u8; 2048];
        let (n, _) = live.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], &again[..]);
        t.shutdown().await;
    }
}

/// RFC 5626 §8: a STUN Binding request on the SIP port gets a Binding success response
/// naming the sender's address (XOR-MAPPED-ADDRESS); it never reaches the SIP handler,
/// and neither does a STUN message the server does not answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stun_keepalives_are_answered_with_the_mapped_address() {
    for ip in loopbacks() {
        let (t, mut rx) = start(config(ip)).await;
        let server = addr_of(&t, TransportKind::Udp);
        let c = client(ip);
        let txid = *b"keepalive-01";
        let mut req = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
        req.extend_from_slice(&txid);
        // A Binding indication (0x0011) is not answered: sent first, so the answer read
        // below can only be the request's.
        let mut indication = req.clone();
        indication[1] = 0x11;
        c.send_to(&indication, server).unwrap();
        c.send_to(&req, server).unwrap();
        let mut buf = [0u8; 2048];
        let (n, from) = c.recv_from(&mut buf).unwrap();
        assert_eq!(from, server);
        let a = &buf[..n];
        assert_eq!(&a[0..2], &[0x01, 0x01], "Binding success response");
        assert_eq!(&a[8..20], &txid);
        assert_eq!(&a[20..22], &[0x00, 0x20], "XOR-MAPPED-ADDRESS");
        let key: Vec<u8> = [0x21, 0x12, 0xa4, 0x42]
            .iter()
            .chain(&txid)
            .copied()
            .collect();
        let port = u16::from_be_bytes([a[26], a[27]]) ^ 0x2112;
        let ip_bytes: Vec<u8> = a[28..].iter().zip(&key).map(|(b, k)| b ^ k).collect();
        let mapped_ip: std::net::IpAddr = match a[25] {
            1 => <[u8; 4]>::try_from(ip_bytes.as_slice()).unwrap().into(),
            _ => <[u8; 16]>::try_from(ip_bytes.as_slice()).unwrap().into(),
        };
        assert_eq!(SocketAddr::new(mapped_ip, port), c.local_addr().unwrap());
        // The answer is counted once its send returns, which may be after it arrived here.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while t.stats().stun_answered == 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let stats = t.stats();
        assert_eq!(stats.stun_answered, 1);
        assert_eq!(stats.udp_rx, 0);
        assert!(rx.try_recv().is_err());
        t.shutdown().await;
    }
}
