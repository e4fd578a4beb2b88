//! RFC 4475 torture messages over the wire: each of the 50 messages of the RFC archive is
//! sent to the running server over UDP, and its answer (or silence) is checked; the server
//! must still answer OPTIONS afterwards.
//!
//! The client socket is bound to port 5060 of a random 127.x.y.z address: the messages'
//! Vias name port 5060 (or nothing) without `rport`, so RFC 3261 §18.2.2 sends the answer
//! to the source IP at that port, which is then this socket. After each message an OPTIONS
//! probe (with `rport`) follows on the same socket; its 200 marks the end of the answers to
//! the message before it, so silence is observed without waiting on a timer.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use testkit::server::{Options, Server};
use testkit::udp::{options_ping, status_of, RawUdp};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// What the RFC expects of a proxy/registrar for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// This final status.
    Status(u16),
    /// No answer at all (responses).
    Silence,
    /// Any answer: the message is valid and its fate depends on routing; only "the server
    /// survives" is asserted.
    Any,
}

fn expected(file: &str, kind: &str, validity: &str) -> Expect {
    match file {
        "badvers.dat" => Expect::Status(505),
        "unkscm.dat" | "novelsc.dat" => Expect::Status(416),
        "bext01.dat" => Expect::Status(420),
        "zeromf.dat" => Expect::Status(483),
        "unksm2.dat" => Expect::Status(400),
        // Documented choice (docs/rfc4475.md): refused by the parser, 400 (RFC: 501, 400
        // acceptable).
        "mismatch02.dat" => Expect::Status(400),
        // Not described by the RFC; a Request-Line without SIP-Version and no Via, so no
        // answer can be addressed: index.tsv expects "400 or drop".
        "test.dat" => Expect::Silence,
        // The RFC allows ignoring an invalid Date; Switchboard does (docs/rfc4475.md).
        "baddate.dat" => Expect::Any,
        _ if kind == "response" => Expect::Silence,
        _ if validity == "invalid" => Expect::Status(400),
        _ => Expect::Any,
    }
}

/// The top Via value and the CSeq method: two messages equal in both are one transaction
/// to the server (RFC 3261 §17.2.3), the second a retransmission of the first.
fn transaction_key(msg: &str) -> Option<String> {
    let head = msg.split("\r\n\r\n").next()?;
    let field = |names: [&str; 2]| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            let n = n.trim();
            names
                .iter()
                .any(|x| n.eq_ignore_ascii_case(x))
                .then(|| v.trim().to_ascii_lowercase())
        })
    };
    let via = field(["via", "v"])?;
    let cseq = field(["cseq", "cseq"])?;
    Some(format!(
        "{via} {}",
        cseq.split_whitespace().nth(1).unwrap_or("")
    ))
}

fn start_server() -> Server {
    let server = Server::start(BIN, Options::default());
    // Most torture messages are addressed to user@example.com: with that user provisioned
    // they reach the stage they exercise instead of stopping at "404 unknown user".
    server.cli(&["user", "add", "user@example.com", "--password", "pw-user"]);
    server
}

/// The Call-ID of a message (long or compact form), if it has one.
fn call_id(msg: &str) -> Option<String> {
    msg.split("\r\n\r\n").next()?.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        let n = n.trim();
        (n.eq_ignore_ascii_case("call-id") || n.eq_ignore_ascii_case("i"))
            .then(|| v.trim().to_string())
    })
}

fn data_dir() -> PathBuf {
    let dir = std::env::var_os("SWITCHBOARD_RFC4475_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/rfc4475")
        });
    assert!(
        dir.join("index.tsv").is_file(),
        "RFC 4475 torture messages not found in {} (set SWITCHBOARD_RFC4475_DIR)",
        dir.display()
    );
    dir
}

/// A loopback address of our own (127.x.y.z), so port 5060 on it is ours.
fn client_socket() -> RawUdp {
    let seed = u64::from(std::process::id()) ^ (u64::from(testkit::ports::free_port()) * 7919);
    for i in 0..200u64 {
        let v = seed.wrapping_add(i * 104_729);
        let ip = Ipv4Addr::new(
            127,
            10 + (v % 200) as u8,
            (v >> 8) as u8,
            2 + (v >> 16) as u8 % 250,
        );
        if let Ok(s) = std::net::UdpSocket::bind((ip, 5060)) {
            drop(s);
            return RawUdp::bind(SocketAddr::from((ip, 5060)));
        }
    }
    panic!("no free 127.x.y.z:5060");
}

#[test]
fn rfc4475_torture_messages_over_udp() {
    let dir = data_dir();
    let index = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
    let mut server = start_server();
    let mut to = server.socket_addr();
    let mut seen = std::collections::HashSet::new();
    let client = client_socket();
    let me = client.sock.local_addr().unwrap();

    let mut rows = 0;
    let mut failures = Vec::new();
    for (n, line) in index.lines().skip(1).enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, section, kind, validity) = (cols[0], cols[1], cols[3], cols[4]);
        rows += 1;
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let expect = expected(file, kind, validity);
        let text = String::from_utf8_lossy(&bytes);
        let own_call_id = call_id(&text);
        // unkscm and novelsc share Via and branch: to one server the second is a
        // retransmission of the first. Each message meets a server that has not seen it.
        if let Some(key) = transaction_key(&text) {
            if !seen.insert(key.clone()) {
                server = start_server();
                to = server.socket_addr();
                seen.clear();
                seen.insert(key);
            }
        }
        client.send(to, &bytes);
        let probe_id = format!("probe-{n}-{}", std::process::id());
        client.send(to, &options_ping(me, to, &probe_id));

        // Everything before the probe's 200 answers the torture message.
        let mut answers: Vec<String> = Vec::new();
        loop {
            let m = client
                .recv(testkit::wait::HANG_GUARD)
                .unwrap_or_else(|| panic!("{file}: the server stopped answering (probe lost)"));
            if m.contains(&probe_id) {
                assert_eq!(status_of(&m), Some(200), "probe after {file}: {m}");
                break;
            }
            // Final answers to earlier INVITEs are retransmitted until ACKed (we never
            // ACK them): only what carries this message's Call-ID answers it.
            if call_id(&m) == own_call_id {
                answers.push(m);
            }
        }
        // A request that went through the proxy may be answered later than the probe.
        if matches!(expect, Expect::Status(_))
            && !answers
                .iter()
                .any(|a| status_of(a).is_some_and(|s| s >= 200))
        {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                match client.recv(Duration::from_secs(1)) {
                    Some(m) if call_id(&m) == own_call_id => {
                        let done = status_of(&m).is_some_and(|s| s >= 200);
                        answers.push(m);
                        if done {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
        let finals: Vec<u16> = answers
            .iter()
            .filter_map(|a| status_of(a))
            .filter(|s| *s >= 200)
            .collect();
        let ok = match expect {
            Expect::Status(s) => finals == [s],
            Expect::Silence => answers.is_empty(),
            Expect::Any => true,
        };
        eprintln!("{file} (§{section}, {validity} {kind}): expected {expect:?}, got {finals:?}");
        if !ok {
            failures.push(format!(
                "{file} (RFC 4475 §{section}): expected {expect:?}, got {finals:?}: {:?}",
                answers
                    .iter()
                    .map(|a| a.lines().next().unwrap_or(""))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert_eq!(rows, 50, "index.tsv should list the 50 archive messages");
    assert!(
        failures.is_empty(),
        "answers differ from RFC 4475:\n{}",
        failures.join("\n")
    );

    // Never a crash: still there, still answering.
    assert!(server.is_running(), "the server died");
    client.send(to, &options_ping(me, to, "final-probe"));
    loop {
        let m = client
            .recv(testkit::wait::HANG_GUARD)
            .expect("no answer to the final OPTIONS");
        if m.contains("final-probe") {
            assert_eq!(status_of(&m), Some(200), "{m}");
            break;
        }
    }
}
