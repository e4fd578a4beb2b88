//! SIP over TCP: framing, keep-alives, connection reuse, outbound connects, bounds.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use transport::{ConnectionId, Peer, SendError, TransportKind};

async fn connect(server: SocketAddr) -> TcpStream {
    let s = tokio::time::timeout(HANG_GUARD, TcpStream::connect(server))
        .await
        .unwrap()
        .unwrap();
    s.set_nodelay(true).unwrap();
    s
}

async fn read_exact(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(HANG_GUARD, s.read_exact(&mut buf))
        .await
        .expect("hang guard: no data")
        .unwrap();
    buf
}

/// The connection was closed by the server: EOF (or a reset).
async fn assert_closed(s: &mut TcpStream) {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(HANG_GUARD, s.read(&mut buf))
        .await
        .expect("hang guard: still open")
    {
        Ok(0) => {}
        Ok(n) => panic!("unexpected {n} bytes"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }
}

fn tcp_peer(addr: SocketAddr, conn: Option<ConnectionId>) -> Peer {
    Peer {
        transport: TransportKind::Tcp,
        addr,
        conn,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_coalesced_and_split_messages() {
    for ip in loopbacks() {
        let (t, mut rx) = start(config(ip)).await;
        let server = addr_of(&t, TransportKind::Tcp);
        let mut c = connect(server).await;

        let (m1, m2) = (request("one", "body-1"), request("two", ""));
        c.write_all(&[m1.clone(), m2.clone()].concat())
            .await
            .unwrap();
        let (r1, r2) = (recv(&mut rx).await, recv(&mut rx).await);
        assert_eq!(r1.data, m1);
        assert_eq!(r2.data, m2);
        assert_eq!(r1.peer.transport, TransportKind::Tcp);
        assert_eq!(r1.peer.addr, c.local_addr().unwrap());
        assert_eq!(r1.local, server);
        assert!(r1.peer.conn.is_some());
        assert_eq!(r1.peer.conn, r2.peer.conn);

        let m3 = request("three", "a longer body, split across writes");
        for piece in [
            &m3[..10],
            &m3[10..60],
            &m3[60..m3.len() - 3],
            &m3[m3.len() - 3..],
        ] {
            c.write_all(piece).await.unwrap();
            c.flush().await.unwrap();
            tokio::task::yield_now().await;
        }
        let r3 = recv(&mut rx).await;
        assert_eq!(r3.data, m3);
        assert_eq!(r3.peer.conn, r1.peer.conn);
        assert_eq!(t.stats().tcp_rx, 3);
        assert_eq!(t.connection_count(), 1);
        t.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_crlf_ping_gets_crlf_pong() {
    for ip in loopbacks() {
        let (t, mut rx) = start(config(ip)).await;
        let mut c = connect(addr_of(&t, TransportKind::Tcp)).await;
        c.write_all(b"\r\n\r\n").await.unwrap();
        assert_eq!(read_exact(&mut c, 2).await, b"\r\n");
        // A pong from the client is ignored; a message after it still frames.
        let m = request("after-ping", "");
        c.write_all(&[&b"\r\n"[..], &m].concat()).await.unwrap();
        assert_eq!(recv(&mut rx).await.data, m);
        t.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framing_error_closes_connection() {
    for ip in loopbacks() {
        let (t, mut rx) = start(config(ip)).await;
        let mut c = connect(addr_of(&t, TransportKind::Tcp)).await;
        c.write_all(
            b"OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/TCP x;branch=z9hG4bK1\r\n\r\n",
        )
        .await
        .unwrap();
        assert_closed(&mut c).await;
        assert!(rx.try_recv().is_err());
        assert_eq!(t.stats().framing_errors, 1);
        assert_eq!(t.connection_count(), 0);
        t.shutdown().await;
    }
}

/// Issue 12 item 4: a valid request and malformed bytes in one write. The request reaches
/// the handler, then the closing notice; the connection stays open for the answer (sent on
/// it, not on a new connection to the client's port) and closes once the handler lets go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_request_then_garbage_is_answered_then_closed() {
    for ip in loopbacks() {
        let (t, mut rx) = start_upcalls(config(ip)).await;
        let mut c = connect(addr_of(&t, TransportKind::Tcp)).await;
        let m = request("valid", "");
        c.write_all(&[&m[..], b"C\r\n\r\n"].concat()).await.unwrap();
        let Upcall::Message(r) = upcall(&mut rx).await else {
            panic!("the complete request first");
        };
        assert_eq!(r.data, m);
        let Upcall::Closing(peer, close) = upcall(&mut rx).await else {
            panic!("then the closing notice");
        };
        assert_eq!(peer, r.peer);
        assert_eq!(t.stats().framing_errors, 1);
        // Answer after the framing error: still on the same connection.
        let answer = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        t.send(&r.peer, Bytes::from_static(answer)).unwrap();
        assert_eq!(t.connection_count(), 1);
        drop(close);
        assert_eq!(read_exact(&mut c, answer.len()).await, answer);
        assert_closed(&mut c).await;
        assert_eq!(t.connection_count(), 0);
        assert_eq!(t.stats().send_errors, 0);
        t.shutdown().await;
    }
}

/// RFC 4475 §3.1.2.11 (`dblreq`) over TCP, then the client half-closes: both the
/// REGISTER and the INVITE reach the handler, the closing notice comes after them, and
/// answers still go out on the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dblreq_then_half_close_is_answered_on_the_connection() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let (t, mut rx) = start_upcalls(config(ip)).await;
    let mut c = connect(addr_of(&t, TransportKind::Tcp)).await;
    let register = "REGISTER sip:example.com SIP/2.0\r\nTo: sip:j.user@example.com\r\nFrom: sip:j.user@example.com;tag=43251j3j324\r\nMax-Forwards: 8\r\nI: dblreq.0ha0isndaksdj99sdfafnl3lk233412\r\nContact: sip:j.user@host.example.com\r\nCSeq: 8 REGISTER\r\nVia: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492\r\nContent-Length: 0\r\n\r\n";
    let body = "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.15\r\ns=-\r\n";
    let invite = format!(
        "INVITE sip:joe@example.com SIP/2.0\r\nt: sip:joe@example.com\r\nFrom: sip:caller@example.net;tag=141334\r\nMax-Forwards: 8\r\nCall-ID: dblreq.0ha0isnda977644900765@192.0.2.15\r\nCSeq: 8 INVITE\r\nVia: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // As in the RFC's file: the REGISTER, a stray CRLF, the INVITE.
    let wire = format!("{register}\r\n{invite}");
    c.write_all(wire.as_bytes()).await.unwrap();
    c.shutdown().await.unwrap(); // half-close: the client still reads
    let mut got = Vec::new();
    let close = loop {
        match upcall(&mut rx).await {
            Upcall::Message(r) => got.push(r),
            Upcall::Closing(_, close) => break close,
            Upcall::SendFailed(f) => panic!("{f:?}"),
        }
    };
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].data, register.as_bytes());
    assert_eq!(got[1].data, invite.as_bytes());
    let answer = b"SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    for r in &got {
        t.send(&r.peer, Bytes::from_static(answer)).unwrap();
    }
    drop(close);
    let both = read_exact(&mut c, 2 * answer.len()).await;
    assert_eq!(both, [&answer[..], &answer[..]].concat());
    assert_closed(&mut c).await;
    assert_eq!(t.stats().framing_errors, 0);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_on_same_connection_and_reuse_by_address() {
    for ip in loopbacks() {
        let (t, mut rx) = start(config(ip)).await;
        let mut c = connect(addr_of(&t, TransportKind::Tcp)).await;
        c.write_all(&request("req", "")).await.unwrap();
        let got = recv(&mut rx).await;

        // peer.conn names the connection.
        let reply = Bytes::from(request("reply", "x"));
        t.send(&got.peer, reply.clone()).unwrap();
        assert_eq!(read_exact(&mut c, reply.len()).await, reply);

        // No conn id: the inbound connection from that address is reused (RFC 3261 §18).
        let again = Bytes::from(request("again", "yz"));
        t.send(&tcp_peer(got.peer.addr, None), again.clone())
            .unwrap();
        assert_eq!(read_exact(&mut c, again.len()).await, again);

        // A stale conn id falls back to the address.
        let stale = Bytes::from(request("stale", ""));
        t.send(
            &tcp_peer(got.peer.addr, Some(ConnectionId(u64::MAX))),
            stale.clone(),
        )
        .unwrap();
        assert_eq!(read_exact(&mut c, stale.len()).await, stale);

        assert_eq!(t.connection_count(), 1);
        t.shutdown().await; // waits for the writers
        assert_eq!(t.stats().tcp_tx, 3);
        assert_closed(&mut c).await;
        assert!(matches!(
            t.send(&got.peer, reply),
            Err(SendError::NoTransport(TransportKind::Tcp))
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_connect_and_reuse() {
    for ip in loopbacks() {
        let (t, mut rx) = start(config(ip)).await;
        let listener = std::net::TcpListener::bind(SocketAddr::new(ip, 0)).unwrap();
        let remote = listener.local_addr().unwrap();

        let m1 = Bytes::from(request("out1", "first"));
        let m2 = Bytes::from(request("out2", "second"));
        t.send(&tcp_peer(remote, None), m1.clone()).unwrap();
        // Queued behind the connect, on the same (pending) connection.
        t.send(&tcp_peer(remote, None), m2.clone()).unwrap();
        assert_eq!(t.connection_count(), 1);

        let expected = [m1.to_vec(), m2.to_vec()].concat();
        let (listener, mut accepted, got) = tokio::task::spawn_blocking(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(HANG_GUARD)).unwrap();
            let mut buf = vec![0u8; expected.len()];
            s.read_exact(&mut buf).unwrap();
            (listener, s, buf)
        })
        .await
        .unwrap();
        assert_eq!(got, [m1.to_vec(), m2.to_vec()].concat());

        // A message from the far end arrives tagged with the outbound connection.
        let answer = request("answer", "");
        accepted.write_all(&answer).unwrap();
        let r = recv(&mut rx).await;
        assert_eq!(r.data, answer);
        assert_eq!(r.peer.addr, remote);
        let conn = r.peer.conn.unwrap();

        // Later sends reuse it, with or without the id; no second connection is made.
        let m3 = Bytes::from(request("out3", ""));
        t.send(&tcp_peer(remote, Some(conn)), m3.clone()).unwrap();
        let m4 = Bytes::from(request("out4", ""));
        t.send(&tcp_peer(remote, None), m4.clone()).unwrap();
        let want = [m3.to_vec(), m4.to_vec()].concat();
        let (_accepted, got) = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; want.len()];
            accepted.read_exact(&mut buf).unwrap();
            (accepted, buf) // kept open until the end of the test
        })
        .await
        .unwrap();
        assert_eq!(got, [m3.to_vec(), m4.to_vec()].concat());
        listener.set_nonblocking(true).unwrap();
        assert_eq!(
            listener.accept().unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock,
            "a second connection was opened"
        );
        assert_eq!(t.connection_count(), 1);
        t.shutdown().await; // waits for the writers
        assert_eq!(t.stats().tcp_tx, 4);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_refuses_extra_inbound() {
    for ip in loopbacks() {
        let mut cfg = config(ip);
        cfg.max_connections = 1;
        let (t, mut rx) = start(cfg).await;
        let server = addr_of(&t, TransportKind::Tcp);

        let mut a = connect(server).await;
        a.write_all(&request("a", "")).await.unwrap();
        let from_a = recv(&mut rx).await; // a is in the table now
        assert_eq!(t.connection_count(), 1);

        let mut b = connect(server).await;
        assert_closed(&mut b).await;
        assert_eq!(t.stats().refused_connections, 1);
        assert_eq!(t.connection_count(), 1);

        // Outbound is bounded by the same table.
        let elsewhere = SocketAddr::new(ip, 9);
        assert!(matches!(
            t.send(&tcp_peer(elsewhere, None), Bytes::from_static(b"x")),
            Err(SendError::TooManyConnections)
        ));

        // a still works.
        let reply = Bytes::from(request("to-a", ""));
        t.send(&from_a.peer, reply.clone()).unwrap();
        assert_eq!(read_exact(&mut a, reply.len()).await, reply);
        t.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_is_closed() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let mut cfg = config(ip);
    cfg.tcp_idle_timeout = std::time::Duration::from_millis(50);
    let (t, mut rx) = start(cfg).await;
    let mut c = connect(addr_of(&t, TransportKind::Tcp)).await;
    c.write_all(&request("idle", "")).await.unwrap();
    recv(&mut rx).await;
    assert_closed(&mut c).await; // waits on the socket, not on a clock
    assert_eq!(t.connection_count(), 0);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_connect_is_counted_and_forgotten() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let (t, _rx) = start(config(ip)).await;
    let closed = {
        let l = std::net::TcpListener::bind(SocketAddr::new(ip, 0)).unwrap();
        l.local_addr().unwrap()
    }; // nothing listens there any more
    t.send(&tcp_peer(closed, None), Bytes::from(request("lost", "")))
        .unwrap();
    t.shutdown().await; // waits for the connecting task to finish either way
    assert_eq!(t.connection_count(), 0);
    assert_eq!(t.stats().send_errors, 1);
}

/// Issue 12 item 3: the handler hears of each message a failed connect lost, with its
/// bytes and destination, so the SIP layer can answer at once (RFC 3261 §17.1.4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_connect_is_reported_to_the_handler() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let (t, mut rx) = start_upcalls(config(ip)).await;
    let closed = {
        let l = std::net::TcpListener::bind(SocketAddr::new(ip, 0)).unwrap();
        l.local_addr().unwrap()
    }; // nothing listens there any more
    let (a, b) = (request("lost-a", ""), request("lost-b", "x"));
    t.send(&tcp_peer(closed, None), Bytes::from(a.clone()))
        .unwrap();
    t.send(&tcp_peer(closed, None), Bytes::from(b.clone()))
        .unwrap();
    for expected in [a, b] {
        let Upcall::SendFailed(f) = upcall(&mut rx).await else {
            panic!("a send failure");
        };
        assert_eq!(f.data, expected);
        assert_eq!(f.peer.addr, closed);
        assert_eq!(f.peer.transport, TransportKind::Tcp);
        assert_eq!(f.error, std::io::ErrorKind::ConnectionRefused);
    }
    assert_eq!(t.stats().send_errors, 2);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_is_reported() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    let mut cfg = config(ip);
    cfg.send_queue = 2;
    let (t, mut rx) = start(cfg).await;
    let mut c = connect(addr_of(&t, TransportKind::Tcp)).await;
    c.write_all(&request("slow-reader", "")).await.unwrap();
    let peer = recv(&mut rx).await.peer;

    // The client never reads: socket buffers fill, then the writer blocks, then the queue.
    let big = Bytes::from(request("big", &"x".repeat(60_000)));
    let mut full = false;
    for _ in 0..1_000_000 {
        match t.send(&peer, big.clone()) {
            Ok(()) => tokio::task::yield_now().await,
            Err(SendError::QueueFull) => {
                full = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(full, "queue never filled");
    assert!(t.stats().send_errors >= 1);
    drop(c);
    t.shutdown().await;
}
