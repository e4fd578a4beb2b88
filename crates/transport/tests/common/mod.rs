//! Test helpers: a handler forwarding into a channel, configs, loopbacks, messages.
#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use transport::{
    CloseAfter, Handler, Peer, Received, SendFailure, TransportConfig, TransportKind, Transports,
};

/// Only a guard against hangs; no assertion depends on it.
pub const HANG_GUARD: Duration = Duration::from_secs(10);

pub struct ChanHandler(pub mpsc::UnboundedSender<Received>);

impl Handler for ChanHandler {
    fn on_message(&self, msg: Received) {
        let _ = self.0.send(msg);
    }
}

/// Everything the transport tells its handler, in order.
#[derive(Debug)]
pub enum Upcall {
    Message(Received),
    Closing(Peer, CloseAfter),
    SendFailed(SendFailure),
}

/// A handler that passes every upcall on, including the connection-closing handle.
pub struct UpcallHandler(pub mpsc::UnboundedSender<Upcall>);

impl Handler for UpcallHandler {
    fn on_message(&self, msg: Received) {
        let _ = self.0.send(Upcall::Message(msg));
    }
    fn on_stream_closing(&self, peer: Peer, close: CloseAfter) {
        let _ = self.0.send(Upcall::Closing(peer, close));
    }
    fn on_send_failed(&self, failure: SendFailure) {
        let _ = self.0.send(Upcall::SendFailed(failure));
    }
}

pub async fn start_upcalls(
    config: TransportConfig,
) -> (Transports, mpsc::UnboundedReceiver<Upcall>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let t = Transports::start(config, Arc::new(UpcallHandler(tx)))
        .await
        .unwrap();
    (t, rx)
}

pub async fn upcall(rx: &mut mpsc::UnboundedReceiver<Upcall>) -> Upcall {
    tokio::time::timeout(HANG_GUARD, rx.recv())
        .await
        .expect("hang guard: no upcall")
        .expect("handler channel closed")
}

/// 127.0.0.1, and ::1 when IPv6 loopback works here.
pub fn loopbacks() -> Vec<IpAddr> {
    let mut ips = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    if std::net::UdpSocket::bind((v6, 0)).is_ok() && std::net::TcpListener::bind((v6, 0)).is_ok() {
        ips.push(v6);
    } else {
        eprintln!("IPv6 loopback unavailable: skipping the [::1] half of this test");
    }
    ips
}

pub fn config(ip: IpAddr) -> TransportConfig {
    TransportConfig {
        udp: vec![SocketAddr::new(ip, 0)],
        tcp: vec![SocketAddr::new(ip, 0)],
        udp_workers: 2,
        ..TransportConfig::default()
    }
}

pub async fn start(config: TransportConfig) -> (Transports, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let t = Transports::start(config, Arc::new(ChanHandler(tx)))
        .await
        .unwrap();
    (t, rx)
}

pub fn addr_of(t: &Transports, kind: TransportKind) -> SocketAddr {
    t.local_addrs()
        .into_iter()
        .find(|(k, _)| *k == kind)
        .unwrap()
        .1
}

pub async fn recv(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(HANG_GUARD, rx.recv())
        .await
        .expect("hang guard: no message")
        .expect("handler channel closed")
}

/// A framable request with a body.
pub fn request(tag: &str, body: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:{tag}@example.com SIP/2.0\r\n\
         Via: SIP/2.0/TCP client.example.com;branch=z9hG4bK{tag}\r\n\
         Call-ID: {tag}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
