//! Call services (RFC 5359) through the sans-IO proxy on a virtual clock: forwarding and
//! its bounds, History-Info, no-answer timing, screening. The same flows run with SIPp in
//! crates/server/tests/services.rs.
#![allow(clippy::unwrap_used)]

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use proxy::{Destination, ProxyConfig, ServicesConfig};
use sip_message::SipMessage;
use testkit::proxy_net::{self, answer, requests, statuses, udp};

const ALICE: &str = "198.51.100.1:5060";
const BOB: &str = "203.0.113.5:5062";
const CAROL: &str = "203.0.113.6:5062";

/// The shared in-process network, with users alice..erin and their service settings, and
/// a count of alice's calls.
struct Net {
    net: proxy_net::Net,
    calls: u32,
}

impl Deref for Net {
    type Target = proxy_net::Net;
    fn deref(&self) -> &proxy_net::Net {
        &self.net
    }
}

impl DerefMut for Net {
    fn deref_mut(&mut self) -> &mut proxy_net::Net {
        &mut self.net
    }
}

impl Net {
    /// Users alice..erin of example.com with `settings` rows (user, name, value).
    fn new(settings: &[(&str, &str, &str)], max_chain: u32) -> Net {
        let dir = proxy_net::directory(&["alice", "bob", "carol", "dave", "erin"]);
        proxy_net::set_settings(&dir, settings);
        let cfg = ProxyConfig {
            services: ServicesConfig {
                screening_announcement: Some("sip:announcement@192.0.2.10".into()),
                max_chain,
                ..ServicesConfig::default()
            },
            ..proxy_net::config(Duration::from_secs(60), false)
        };
        Net {
            net: proxy_net::Net::with_directory(cfg, dir),
            calls: 0,
        }
    }

    fn send(&mut self, from: &str, text: &str) {
        self.net.send(udp(from), text);
    }

    fn register(&mut self, user: &str, contact: &str) {
        self.send(
            contact,
            &format!(
                "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP {contact};branch=z9hG4bKreg{user}
From: <sip:{user}@example.com>;tag=r1
To: <sip:{user}@example.com>
Call-ID: reg-{user}
CSeq: 1 REGISTER
Contact: <sip:{user}@{contact}>
Expires: 600
Content-Length: 0

"
            ),
        );
        assert_eq!(self.out()[0].1.status(), 200);
    }

    /// Alice's INVITE to `callee` with `extra` header lines; returns what went out.
    fn call(&mut self, callee: &str, from: &str, extra: &str) -> Vec<(Destination, SipMessage)> {
        self.calls += 1;
        let n = self.calls;
        self.send(
            ALICE,
            &format!(
                "INVITE sip:{callee}@example.com SIP/2.0
Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKa{n};rport
Max-Forwards: 70
From: <{from}>;tag=a1
To: <sip:{callee}@example.com>
Call-ID: call-{n}
CSeq: 1 INVITE
Contact: <sip:alice@{ALICE}>
{extra}Content-Length: 0

"
            ),
        );
        self.out()
    }
}

fn history(m: &SipMessage) -> Vec<String> {
    (0..m.fields().len())
        .filter(|&i| m.name_of(i).eq_ignore_ascii_case("History-Info"))
        .map(|i| m.value(i).to_string())
        .collect()
}

#[test]
fn rfc5359_2_7_unconditional_to_a_local_user() {
    let mut net = Net::new(&[("bob", "forward.always", "carol@example.com")], 5);
    net.register("carol", CAROL);
    let out = net.call("bob", "sip:alice@example.com", "");
    assert_eq!(statuses(&out), [100, 181]);
    let reqs = requests(&out);
    assert_eq!(reqs, [("INVITE".to_string(), CAROL.to_string())]);
    let inv = &out.iter().find(|(_, m)| m.is_request()).unwrap().1;
    assert!(inv.request_uri_str().starts_with("sip:carol@203.0.113.6"));
    assert_eq!(inv.max_forwards(), Some(68));
    assert_eq!(
        history(inv),
        [
            "<sip:bob@example.com>;index=1",
            "<sip:carol@example.com;cause=302>;index=1.1;mp=1"
        ]
    );
}

#[test]
fn loops_and_long_chains_end_without_a_storm() {
    let mut net = Net::new(
        &[
            ("bob", "forward.always", "carol@example.com"),
            ("carol", "forward.always", "bob@example.com"),
        ],
        5,
    );
    let out = net.call("bob", "sip:alice@example.com", "");
    assert_eq!(statuses(&out), [482]);
    assert!(requests(&out).is_empty());

    // bob -> carol -> dave -> erin with at most 2 hops: 483.
    let mut net = Net::new(
        &[
            ("bob", "forward.always", "carol@example.com"),
            ("carol", "forward.always", "dave@example.com"),
            ("dave", "forward.always", "erin@example.com"),
        ],
        2,
    );
    net.register("erin", CAROL);
    let out = net.call("bob", "sip:alice@example.com", "");
    assert_eq!(statuses(&out), [483]);

    // A call that already went through bob (History-Info, e.g. forwarded out and back
    // in) loops when it reaches bob again.
    let mut net = Net::new(&[("bob", "forward.always", "carol@example.com")], 5);
    let out = net.call(
        "bob",
        "sip:alice@example.net",
        "History-Info: <sip:bob@example.com>;index=1, <sip:x@192.0.2.50;cause=302>;index=1.1;mp=1\n",
    );
    assert_eq!(statuses(&out), [482]);
}

#[test]
fn rfc5359_2_9_no_answer_then_busy_chain() {
    let mut net = Net::new(
        &[
            ("bob", "forward.no-answer", "3 carol@example.com"),
            ("carol", "forward.busy", "sip:vm@192.0.2.99:5080"),
        ],
        5,
    );
    net.register("bob", BOB);
    net.register("carol", CAROL);
    let out = net.call("bob", "sip:alice@example.com", "");
    let to_bob = out.iter().find(|(_, m)| m.is_request()).unwrap().1.clone();
    net.send(BOB, &answer(&to_bob, 180));
    assert_eq!(statuses(&net.out()), [180]);
    net.advance(Duration::from_secs(2));
    assert!(net.out().is_empty());
    net.advance(Duration::from_secs(1));
    let out = net.out();
    assert_eq!(statuses(&out), [181]);
    assert_eq!(
        requests(&out),
        [
            ("CANCEL".to_string(), BOB.to_string()),
            ("INVITE".to_string(), CAROL.to_string())
        ]
    );
    let to_carol = out
        .iter()
        .find(|(d, m)| m.is_request() && d.addr.to_string() == CAROL)
        .unwrap()
        .1
        .clone();
    // Bob's 487 is absorbed (ACKed, not relayed).
    net.send(BOB, &answer(&to_bob, 487));
    let out = net.out();
    assert!(statuses(&out).is_empty(), "{:?}", statuses(&out));
    assert_eq!(requests(&out), [("ACK".to_string(), BOB.to_string())]);
    // Carol is busy: 181 again, on to voicemail, History-Info one level deeper.
    net.send(CAROL, &answer(&to_carol, 486));
    let out = net.out();
    assert_eq!(statuses(&out), [181]);
    assert_eq!(
        requests(&out),
        [
            ("ACK".to_string(), CAROL.to_string()),
            ("INVITE".to_string(), "192.0.2.99:5080".to_string())
        ]
    );
    let to_vm = &out
        .iter()
        .find(|(_, m)| m.is_request() && m.method_str() == "INVITE")
        .unwrap()
        .1;
    assert_eq!(to_vm.request_uri_str(), "sip:vm@192.0.2.99:5080");
    assert_eq!(to_vm.max_forwards(), Some(67));
    assert_eq!(
        history(to_vm),
        [
            "<sip:bob@example.com>;index=1",
            "<sip:carol@example.com;cause=408>;index=1.1;mp=1",
            "<sip:vm@192.0.2.99:5080;cause=486>;index=1.1.1;mp=1.1"
        ]
    );
    // Voicemail answers: the 200 goes to alice.
    net.send("192.0.2.99:5080", &answer(to_vm, 200));
    assert_eq!(statuses(&net.out()), [200]);
}

#[test]
fn screening_uses_privacy_and_the_announcement() {
    let mut net = Net::new(
        &[
            ("bob", "screen.incoming", "anonymous\n@spam.example"),
            ("alice", "screen.outgoing", "+1900*"),
        ],
        5,
    );
    net.register("bob", BOB);
    for (from, extra) in [
        ("sip:anonymous@anonymous.invalid", ""),
        ("sip:carol@example.net", "Privacy: id\n"),
        ("sip:mallory@spam.example", ""),
    ] {
        let out = net.call("bob", from, extra);
        assert_eq!(statuses(&out), [403], "{from}");
        assert_eq!(
            out[0].1.header_by_name("Error-Info"),
            Some("<sip:announcement@192.0.2.10>")
        );
        assert!(requests(&out).is_empty());
    }
    let out = net.call("+19005550000", "sip:alice@example.com", "");
    assert_eq!(statuses(&out), [403]);
    // Not screened: a plain outside caller.
    let out = net.call("bob", "sip:carol@example.net", "");
    assert_eq!(statuses(&out), [100]);
}

#[test]
fn invite_with_replaces_is_not_forwarded() {
    let mut net = Net::new(&[("bob", "forward.always", "carol@example.com")], 5);
    net.register("bob", BOB);
    let out = net.call(
        "bob",
        "sip:alice@example.com",
        "Replaces: abc@host;to-tag=1;from-tag=2\n",
    );
    assert_eq!(statuses(&out), [100]);
    assert_eq!(requests(&out), [("INVITE".to_string(), BOB.to_string())]);
}

#[test]
fn rfc5359_2_12_find_me_moves_on_after_486_and_ends_after_the_last_ring_time() {
    let mut net = Net::new(&[("bob", "findme", "carol@example.com:5")], 5);
    net.register("bob", BOB);
    net.register("carol", CAROL);
    let out = net.call("bob", "sip:alice@example.com", "");
    assert_eq!(statuses(&out), [100]);
    let to_bob = out.iter().find(|(_, m)| m.is_request()).unwrap().1.clone();
    // Bob's phone is busy: the next step (carol) starts at once, no 181, no 486 upstream.
    net.send(BOB, &answer(&to_bob, 486));
    let out = net.out();
    assert!(statuses(&out).is_empty(), "{:?}", statuses(&out));
    assert_eq!(
        requests(&out),
        [
            ("ACK".to_string(), BOB.to_string()),
            ("INVITE".to_string(), CAROL.to_string())
        ]
    );
    let to_carol = out
        .iter()
        .find(|(_, m)| m.is_request() && m.method_str() == "INVITE")
        .unwrap()
        .1
        .clone();
    assert!(history(&to_carol).is_empty(), "find-me is not forwarding");
    net.send(CAROL, &answer(&to_carol, 180));
    assert_eq!(statuses(&net.out()), [180]);
    // Carol's ring time (5 s) runs out: CANCEL, then the caller gets the best answer of
    // the whole search: bob's 486 (408 when nobody had answered).
    net.advance(Duration::from_secs(5));
    let out = net.out();
    assert_eq!(requests(&out), [("CANCEL".to_string(), CAROL.to_string())]);
    net.send(CAROL, &answer(&to_carol, 487));
    let up = statuses(&net.out());
    assert_eq!(up, [486]);
}

#[test]
fn unavailable_when_every_phone_answers_480() {
    let mut net = Net::new(
        &[("bob", "forward.unavailable", "sip:vm@192.0.2.99:5080")],
        5,
    );
    net.register("bob", BOB);
    let out = net.call("bob", "sip:alice@example.com", "");
    let to_bob = out.iter().find(|(_, m)| m.is_request()).unwrap().1.clone();
    net.send(BOB, &answer(&to_bob, 480));
    let out = net.out();
    assert_eq!(statuses(&out), [181]);
    let to_vm = &out
        .iter()
        .find(|(_, m)| m.is_request() && m.method_str() == "INVITE")
        .unwrap()
        .1;
    assert_eq!(
        history(to_vm)[1],
        "<sip:vm@192.0.2.99:5080;cause=404>;index=1.1;mp=1"
    );
}
