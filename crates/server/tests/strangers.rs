//! Issue 12, items 1 and 2, against the real server with authentication on: a stranger
//! (From in a domain not served here) probing names gets the same answer for a user that
//! exists and a name that does not, and cannot relay through a pre-loaded Route.
//!
//! ```text
//! Stranger (raw UDP)              Switchboard            Victim (127.0.0.1:V)
//!  |--- INVITE alice / nobody -------->|
//!  |<-- 480 / 480 (same headers) ------|
//!  |--- INVITE bob, Route: us, V ----->|
//!  |<-- 403 Relaying Denied -----------|                  (nothing arrives)
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::udp::{status_of, RawUdp};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

struct Stranger {
    sock: RawUdp,
    local: SocketAddr,
    server: SocketAddr,
    n: u32,
}

impl Stranger {
    fn new(node: &Server) -> Stranger {
        let local = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
        Stranger {
            sock: RawUdp::bind(local),
            local,
            server: SocketAddr::from((Ipv4Addr::LOCALHOST, node.port)),
            n: 0,
        }
    }

    /// Sends `method` to `ruri` with extra header lines; returns the final answer.
    fn ask(&mut self, method: &str, ruri: &str, extra: &str, from: &str) -> String {
        self.n += 1;
        let n = self.n;
        let local = self.local;
        let event = if method == "SUBSCRIBE" {
            "Event: dialog\r\nExpires: 60\r\n"
        } else {
            ""
        };
        let msg = format!(
            "{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKstr{n};rport\r\n\
             Max-Forwards: 70\r\n{extra}From: <sip:{from}>;tag=s{n}\r\nTo: <{ruri}>\r\n\
             Call-ID: stranger-{n}-{port}\r\nCSeq: 1 {method}\r\nContact: <sip:probe@{local}>\r\n\
             {event}Content-Length: 0\r\n\r\n",
            port = local.port(),
        );
        self.sock.send(self.server, msg.as_bytes());
        loop {
            let answer = self
                .sock
                .recv(Duration::from_secs(10))
                .unwrap_or_else(|| panic!("no answer to {method} {ruri}"));
            if status_of(&answer).is_some_and(|s| s >= 200) {
                if method == "INVITE" {
                    let ack = format!(
                        "ACK {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKstr{n};rport\r\n\
                         Max-Forwards: 70\r\nFrom: <sip:{from}>;tag=s{n}\r\nTo: <{ruri}>\r\n\
                         Call-ID: stranger-{n}-{port}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
                        port = local.port(),
                    );
                    self.sock.send(self.server, ack.as_bytes());
                }
                return answer;
            }
        }
    }
}

/// The status line and the header names in order: what may not tell names apart.
fn shape(answer: &str) -> (String, Vec<String>) {
    let mut lines = answer.lines();
    let status = lines.next().unwrap_or_default().to_string();
    let names = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            l.split_once(':')
                .map(|(n, _)| n.trim().to_ascii_lowercase())
        })
        .collect();
    (status, names)
}

#[test]
fn strangers_cannot_tell_users_from_absent_names() {
    let node = Server::start(BIN, Options::digest());
    let mut stranger = Stranger::new(&node);
    for method in ["INVITE", "OPTIONS", "MESSAGE", "SUBSCRIBE"] {
        let existing = stranger.ask(
            method,
            "sip:alice@example.com",
            "",
            "anonymous@foreign.invalid",
        );
        let absent = stranger.ask(
            method,
            "sip:nobody@example.com",
            "",
            "anonymous@foreign.invalid",
        );
        assert_eq!(
            shape(&existing),
            shape(&absent),
            "{method}:\n{existing}\n{absent}"
        );
        // The server answers dialog SUBSCRIBEs itself, and a stranger may not watch.
        let refused = if method == "SUBSCRIBE" { "403" } else { "480" };
        assert!(
            existing.starts_with(&format!("SIP/2.0 {refused} ")),
            "{method}: {existing}"
        );
    }
}

#[test]
fn strangers_cannot_relay_through_a_preloaded_route() {
    let node = Server::start(BIN, Options::digest());
    let victim_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
    let victim = RawUdp::bind(victim_addr);
    let mut stranger = Stranger::new(&node);
    let route = format!(
        "Route: <sip:127.0.0.1:{};lr>, <sip:{victim_addr};lr>\r\n",
        node.port
    );
    let answer = stranger.ask(
        "INVITE",
        "sip:bob@example.com",
        &route,
        "anonymous@foreign.invalid",
    );
    assert!(
        answer.starts_with("SIP/2.0 403 Relaying Denied"),
        "{answer}"
    );
    let direct = stranger.ask(
        "INVITE",
        &format!("sip:anyone@{victim_addr}"),
        "",
        "anonymous@foreign.invalid",
    );
    assert!(
        direct.starts_with("SIP/2.0 403 Relaying Denied"),
        "{direct}"
    );
    // A local name in From must prove it first: challenged, not forwarded.
    let claimed = stranger.ask("INVITE", "sip:bob@example.com", &route, "alice@example.com");
    assert!(claimed.starts_with("SIP/2.0 407 "), "{claimed}");
    // The server handles messages in order: a forward would have left before the answer.
    assert_eq!(victim.recv(Duration::from_millis(300)), None, "relayed");
}
