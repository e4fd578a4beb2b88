//! Issue 12 items 3, 4 and 7 against the real binary: a branch whose TCP connect fails is
//! answered at once; a valid request followed by garbage (and RFC 4475 `dblreq`) over TCP
//! is answered on its connection before the close; UDP requests without `rport` are
//! answered at their source port unless `[sip] force_rport = false`.
//!
//! No assertion depends on time: Timer B is made an hour long where "at once" matters,
//! and SIPp's own timeout (seconds) fails the run if the answer waits for a timer.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Instant;
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::sipp::Sipp;
use testkit::udp::{status_of, RawUdp};
use testkit::wait::HANG_GUARD;

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A TCP connection to the server, with reads bounded by the hang guard.
fn tcp_connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(server.socket_addr()).unwrap();
    s.set_read_timeout(Some(HANG_GUARD)).unwrap();
    s
}

/// Everything the server sends until it closes the connection.
fn read_to_close(s: &mut TcpStream) -> String {
    let mut all = Vec::new();
    s.read_to_end(&mut all)
        .expect("the server closes the connection (hang guard)");
    String::from_utf8_lossy(&all).into_owned()
}

/// The status lines of a stream of responses.
fn statuses(stream: &str) -> Vec<u16> {
    stream
        .split("\r\n")
        .filter(|l| l.starts_with("SIP/2.0 "))
        .filter_map(status_of)
        .collect()
}

fn options_tcp(server: &Server, local: SocketAddr) -> String {
    format!(
        "OPTIONS sip:{srv} SIP/2.0\r\n\
         Via: SIP/2.0/TCP {local};branch=z9hG4bK-tcp-options\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@example.com>;tag=probe\r\n\
         To: <sip:{srv}>\r\n\
         Call-ID: tcp-garbage\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
        srv = server.socket_addr()
    )
}

/// Issue 12 item 4: `OPTIONS ...` and `C\r\n\r\n` in one write: the OPTIONS gets its 200
/// on the connection, then the server closes it (and opens none to the client's port).
#[test]
fn valid_request_then_garbage_over_tcp_is_answered_then_closed() {
    let server = Server::start(BIN, Options::default());
    let mut c = tcp_connect(&server);
    let local = c.local_addr().unwrap();
    let wire = options_tcp(&server, local) + "C\r\n\r\n";
    c.write_all(wire.as_bytes()).unwrap();
    let got = read_to_close(&mut c);
    assert_eq!(statuses(&got), [200], "{got}\n{}", server.log_text());
    assert!(got.contains("Call-ID: tcp-garbage"), "{got}");
    let log = server.log_text();
    assert!(!log.contains("connect failed"), "{log}");
}

fn rfc4475_dir() -> PathBuf {
    let dir = std::env::var_os("SWITCHBOARD_RFC4475_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/rfc4475")
        });
    assert!(
        dir.join("dblreq.dat").is_file(),
        "RFC 4475 torture messages not found in {} (set SWITCHBOARD_RFC4475_DIR)",
        dir.display()
    );
    dir
}

/// Issue 12 item 4, RFC 4475 §3.1.2.11 over TCP: the REGISTER and the INVITE behind it
/// are both answered on the connection, which the client has half-closed; the server
/// then closes it and never tries the client's ephemeral port.
#[test]
fn rfc4475_dblreq_over_tcp_is_answered_on_the_connection() {
    let wire = std::fs::read(rfc4475_dir().join("dblreq.dat")).unwrap();
    let server = Server::start(BIN, Options::default());
    let mut c = tcp_connect(&server);
    c.write_all(&wire).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let got = read_to_close(&mut c);
    let log = server.log_text();
    assert!(got.contains("CSeq: 8 REGISTER"), "{got}\n{log}");
    assert!(got.contains("CSeq: 8 INVITE"), "{got}\n{log}");
    assert!(statuses(&got).iter().all(|s| *s >= 200), "{got}");
    assert!(!log.contains("connect failed"), "{log}");
}

/// Registers bob over TCP from a connection that then closes: his binding's source (where
/// the proxy reaches him) is a TCP port where nothing listens any more.
fn register_bob_over_tcp_then_close(server: &Server) -> SocketAddr {
    let mut c = tcp_connect(server);
    let local = c.local_addr().unwrap();
    let reg = format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/TCP {local};branch=z9hG4bK-tcp-reg\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:bob@example.com>;tag=reg\r\n\
         To: <sip:bob@example.com>\r\n\
         Call-ID: tcp-reg-bob\r\n\
         CSeq: 1 REGISTER\r\n\
         Contact: <sip:bob@{local};transport=tcp>\r\n\
         Expires: 300\r\n\
         Content-Length: 0\r\n\r\n"
    );
    c.write_all(reg.as_bytes()).unwrap();
    let mut buf = [0u8; 4096];
    let n = c.read(&mut buf).unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert_eq!(status_of(&answer), Some(200), "{answer}");
    c.shutdown(Shutdown::Write).unwrap();
    // The server closes its side too: nothing is left at `local`.
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    local
}

/// Issue 12 item 3: a call to a user whose only contact is a TCP address where nothing
/// listens. The connect is refused; the branch ends as 503 at once and the caller gets 500
/// (RFC 3261 §16.7 step 6: a 503 is not forwarded). T1 is one minute, so Timer B would
/// answer after 64 minutes: SIPp's 10-second timeout fails the test if the answer waits
/// for it.
#[test]
fn invite_to_an_unreachable_tcp_contact_is_answered_at_once() {
    let server = server_with_minute_timers();
    let gone = register_bob_over_tcp_then_close(&server);
    alice_gets_500_at_once(
        &server,
        "alice",
        &format!("unreachable tcp:{gone}"),
        "500 at once for an unreachable TCP contact",
    );
    let log = server.log_text();
    assert!(log.contains("tcp: connect failed"), "{log}");
}

/// Issue 12 item 3 over UDP (Linux): bob registered from a UDP port that is then closed.
/// The forwarded INVITE draws an ICMP port unreachable, which ends the branch as a 503 at
/// once: the caller gets 500 long before Timer B (64 minutes with this T1).
#[cfg(target_os = "linux")]
#[test]
fn invite_to_a_closed_udp_port_is_answered_at_once() {
    let server = server_with_minute_timers();
    let phone = RawUdp::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    let local = phone.sock.local_addr().unwrap();
    let reg = format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};rport;branch=z9hG4bK-udp-reg\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:bob@example.com>;tag=reg\r\n\
         To: <sip:bob@example.com>\r\n\
         Call-ID: udp-reg-bob\r\n\
         CSeq: 1 REGISTER\r\n\
         Contact: <sip:bob@{local}>\r\n\
         Expires: 300\r\n\
         Content-Length: 0\r\n\r\n"
    );
    phone.send(server.socket_addr(), reg.as_bytes());
    let answer = phone.recv(HANG_GUARD).expect("the REGISTER's answer");
    assert_eq!(status_of(&answer), Some(200), "{answer}");
    drop(phone); // nothing listens at `local` any more
    alice_gets_500_at_once(
        &server,
        "alice-udp",
        &format!("closed udp:{local}"),
        "500 at once for a closed UDP port",
    );
}

/// A server whose T1 and T2 are one minute: Timer B would answer an INVITE after 64
/// minutes.
fn server_with_minute_timers() -> Server {
    Server::start(
        BIN,
        Options {
            transaction: "t1_ms = 60000\nt2_ms = 60000\n".into(),
            ..Options::default()
        },
    )
}

/// Alice (SIPp run `name`) calls bob, whose contact is `contact`, and must get a 500 within
/// SIPp's 10-second timeout (`what` names the check); how long it took goes to stderr.
fn alice_gets_500_at_once(server: &Server, name: &str, contact: &str, what: &str) {
    let started = Instant::now();
    let alice = Sipp::new(
        server,
        name,
        "uac-invite-unreachable-expect-500.xml",
        free_port(),
    )
    .remote(&server.addr())
    .service("bob")
    .timeout(10)
    .run();
    eprintln!("INVITE to {contact} answered in {:?}", started.elapsed());
    alice.assert_ok(what);
}

/// An OPTIONS to the server whose Via names `via` but which is sent from `from`, without
/// `rport` (a phone behind NAT that does not ask for symmetric answers).
fn options_without_rport(server: &Server, via: SocketAddr, call_id: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:{srv} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {via};branch=z9hG4bK-{call_id}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@example.com>;tag=nat\r\n\
         To: <sip:{srv}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
        srv = server.socket_addr()
    )
    .into_bytes()
}

fn udp_pair() -> (RawUdp, RawUdp) {
    let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    (RawUdp::bind(any), RawUdp::bind(any))
}

/// Issue 12 item 7, default `force_rport = true`: the answer goes to the source port, and
/// its Via records `rport` and `received` as if the client had asked.
#[test]
fn force_rport_answers_a_udp_request_at_its_source_port() {
    let server = Server::start(BIN, Options::default());
    let (source, via_port) = udp_pair();
    let via = via_port.sock.local_addr().unwrap();
    source.send(
        server.socket_addr(),
        &options_without_rport(&server, via, "nat-forced"),
    );
    let answer = source
        .recv(HANG_GUARD)
        .expect("the answer at the source port");
    assert_eq!(status_of(&answer), Some(200), "{answer}");
    let port = source.sock.local_addr().unwrap().port();
    assert!(
        answer.contains(&format!(";rport={port};received=127.0.0.1")),
        "{answer}"
    );
}

/// Issue 12 item 7, `force_rport = false`: RFC 3261 §18.2.2, the answer goes to the port
/// in the Via.
#[test]
fn without_force_rport_a_udp_request_is_answered_at_its_via_port() {
    let server = Server::start(
        BIN,
        Options {
            sip: "force_rport = false\n".into(),
            ..Options::default()
        },
    );
    let (source, via_port) = udp_pair();
    let via = via_port.sock.local_addr().unwrap();
    source.send(
        server.socket_addr(),
        &options_without_rport(&server, via, "nat-rfc3261"),
    );
    let answer = via_port
        .recv(HANG_GUARD)
        .expect("the answer at the Via port");
    assert_eq!(status_of(&answer), Some(200), "{answer}");
    assert!(!answer.contains("rport"), "{answer}");
}
