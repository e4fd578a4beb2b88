//! NOTIFY fan-out of the dialog event package (issue 17): 10,000 dialog subscriptions (100
//! users, each watched by 100 BLF keys) while calls run. One iteration is one call to a
//! watched user through the sans-IO proxy on a virtual clock: INVITE, 180, 200, BYE, four
//! dialog state changes, each NOTIFYing the user's 100 watchers, every NOTIFY answered 200.
//! `calls_unwatched` is the same call with no subscription; the difference, divided by 400,
//! is the CPU per NOTIFY (building, sending, and handling its 200), an upper bound since
//! the bench's own parsing of the NOTIFYs and printing of their answers is included.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use proxy::{Destination, PresenceConfig};
use sip_message::SipMessage;
use testkit::proxy_net::{self, answer, udp, Net};

const USERS: usize = 100;
const WATCHERS_PER_USER: usize = 100;
const ALICE: &str = "198.51.100.1:5060";

fn net(watched: bool) -> Net {
    let cfg = proxy_net::config_with_presence(PresenceConfig {
        max_subscriptions: 20_000,
        max_per_user: 20_000,
        ..PresenceConfig::default()
    });
    let mut names: Vec<String> = (0..USERS).map(|i| format!("u{i}")).collect();
    names.push("alice".into());
    names.push("carol".into());
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut net = Net::with_directory(cfg, proxy_net::directory(&refs));
    for i in 0..USERS {
        let addr = format!("203.0.113.{}:5060", 1 + i);
        net.register(&format!("u{i}"), &addr, udp(&addr));
        if !watched {
            continue;
        }
        for w in 0..WATCHERS_PER_USER {
            let src = format!("192.0.2.{}:{}", 1 + w % 200, 5060 + i);
            net.send(
                udp(&src),
                &format!(
                    "SUBSCRIBE sip:u{i}@example.com SIP/2.0
Via: SIP/2.0/UDP {src};branch=z9hG4bKs{i}x{w};rport
Max-Forwards: 70
From: <sip:carol@example.com>;tag=w{w}
To: <sip:u{i}@example.com>
Call-ID: blf-{i}-{w}
CSeq: 1 SUBSCRIBE
Contact: <sip:carol@{src}>
Event: dialog
Expires: 3600
Content-Length: 0

"
                ),
            );
            answer_notifies(&mut net);
        }
    }
    net
}

/// Answers every NOTIFY the proxy sent with 200; returns how many there were.
fn answer_notifies(net: &mut Net) -> usize {
    let out = net.out();
    let mut n = 0;
    for (dest, m) in out {
        if m.is_request() && m.method_str() == "NOTIFY" {
            net.send(dest, &answer(&m, 200));
            n += 1;
        }
    }
    n
}

/// One call from alice to `user` (call number `k`): INVITE, 180, 200, ACK, BYE.
fn one_call(net: &mut Net, user: usize, k: u64) -> usize {
    let mut notifies = 0;
    let alice = udp(ALICE);
    net.send(
        alice,
        &format!(
            "INVITE sip:u{user}@example.com SIP/2.0
Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKc{k};rport
Max-Forwards: 70
From: <sip:alice@example.com>;tag=a{k}
To: <sip:u{user}@example.com>
Call-ID: call-{k}
CSeq: 1 INVITE
Contact: <sip:alice@{ALICE}>
Content-Length: 0

"
        ),
    );
    let mut fwd: Option<(Destination, SipMessage)> = None;
    for (dest, m) in net.out() {
        match (m.is_request(), m.method_str()) {
            (true, "INVITE") => fwd = Some((dest, m)),
            (true, "NOTIFY") => {
                net.send(dest, &answer(&m, 200));
                notifies += 1;
            }
            _ => {}
        }
    }
    let (dest, fwd) = fwd.unwrap();
    net.send(dest, &answer(&fwd, 180));
    notifies += answer_notifies(net);
    net.send(dest, &answer(&fwd, 200));
    notifies += answer_notifies(net);
    net.send(
        alice,
        &format!(
            "BYE sip:u{user}@{} SIP/2.0
Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKb{k};rport
Max-Forwards: 70
From: <sip:alice@example.com>;tag=a{k}
To: <sip:u{user}@example.com>;tag=b200
Call-ID: call-{k}
CSeq: 2 BYE
Content-Length: 0

",
            dest.addr
        ),
    );
    notifies += answer_notifies(net);
    net.out();
    notifies
}

fn fanout(c: &mut Criterion) {
    for watched in [false, true] {
        let mut net = net(watched);
        let mut k = 0u64;
        // Each call NOTIFYs 4 x 100 watchers when watched.
        let n = one_call(&mut net, 0, u64::MAX);
        assert_eq!(n, if watched { 4 * WATCHERS_PER_USER } else { 0 });
        let name = if watched {
            "calls_watched_by_100_of_10000_subscriptions"
        } else {
            "calls_unwatched"
        };
        c.bench_function(name, |b| {
            b.iter(|| {
                k += 1;
                // Transactions end (Timer K/J) as the virtual clock moves on; bindings never
                // expire (their clock is the wall clock, which stays).
                net.advance(Duration::from_millis(100));
                one_call(&mut net, (k as usize) % USERS, k)
            })
        });
    }
}

criterion_group!(benches, fanout);
criterion_main!(benches);
