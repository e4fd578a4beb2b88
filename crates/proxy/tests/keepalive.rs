//! Keep-alives to phones behind NAT (issue 19), on the sans-IO proxy with a virtual clock:
//! who is pinged, when, with what, and what a silent phone does to the counters. The same
//! keep-alives keep a real router's pinhole open in crates/server/tests/nat_keepalive.rs.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use proxy::{KeepAliveConfig, KeepAliveMode, ProxyConfig};
use sip_message::SipMessage;
use testkit::proxy_net::{answer, config, tcp, udp, Net};

const NAT: &str = "203.0.113.7:61000";

fn net(mode: KeepAliveMode, secs: u64) -> Net {
    let cfg = ProxyConfig {
        keepalive: KeepAliveConfig {
            interval: Duration::from_secs(secs),
            mode,
        },
        ..config(Duration::from_secs(60), false)
    };
    Net::with_config(cfg)
}

/// Everything sent within `d` of virtual time, a second at a time.
fn run_for(net: &mut Net, d: Duration) -> Vec<(Duration, proxy::Destination, bytes::Bytes)> {
    let mut sent = Vec::new();
    let end = net.now + d;
    while net.now < end {
        net.advance(Duration::from_secs(1));
        let now = net.now;
        sent.extend(net.out_raw().into_iter().map(|(dst, b)| (now, dst, b)));
    }
    sent
}

/// The branches of the OPTIONS among `sent`.
fn options_branches(
    sent: &[(Duration, proxy::Destination, bytes::Bytes)],
) -> std::collections::BTreeSet<String> {
    sent.iter()
        .filter_map(|(_, _, b)| SipMessage::parse(b.clone()).ok())
        .filter(|m| m.is_request() && m.method_str() == "OPTIONS")
        .filter_map(|m| m.branch().map(str::to_string))
        .collect()
}

#[test]
fn a_natted_udp_phone_gets_an_options_every_interval_and_answers_it() {
    let mut net = net(KeepAliveMode::Options, 25);
    // Contact and Via say 192.168.1.2, the datagram comes from the router: NATed.
    net.register("bob", "192.168.1.2:5060", udp(NAT));
    // Not NATed (Contact is its source), and over TCP: no pings for either.
    net.register("alice", "198.51.100.1:5060", udp("198.51.100.1:5060"));
    net.register("alice", "192.168.7.7:5060", tcp("198.51.100.2:40000"));
    assert_eq!(net.proxy.keepalive_counts().0, 1);

    let sent = run_for(&mut net, Duration::from_secs(25));
    // One OPTIONS (retransmitted by Timer E until answered).
    assert_eq!(options_branches(&sent).len(), 1, "{sent:?}");
    let (at, dest, bytes) = &sent[0];
    // The first ping falls in the interval's second half (spread by source).
    assert!(
        *at >= Duration::from_secs(12) && *at <= Duration::from_secs(25),
        "{at:?}"
    );
    assert_eq!(
        dest.addr.to_string(),
        NAT,
        "to the pinhole, not the Contact"
    );
    let options = SipMessage::parse(bytes.clone()).unwrap();
    assert_eq!(options.method_str(), "OPTIONS");
    assert_eq!(options.request_uri_str(), "sip:bob@192.168.1.2:5060");
    net.send(udp(NAT), &answer(&options, 200));
    assert!(net.out().is_empty());

    // Every interval after that, one more; answered each time: nothing failed.
    for _ in 0..3 {
        let sent = run_for(&mut net, Duration::from_secs(25));
        assert_eq!(options_branches(&sent).len(), 1, "{sent:?}");
        let pings: Vec<SipMessage> = sent
            .iter()
            .map(|(_, _, b)| SipMessage::parse(b.clone()).unwrap())
            .collect();
        net.send(udp(NAT), &answer(&pings[0], 200));
    }
    let (pinholes, sent, failed) = net.proxy.keepalive_counts();
    assert_eq!((pinholes, sent, failed), (1, 4, 0));
    let mut text = String::new();
    net.proxy.render_metrics(net.now, &mut text);
    assert!(
        text.contains("switchboard_nat_keepalive_pinholes 1"),
        "{text}"
    );
    assert!(text.contains("switchboard_nat_keepalives_total{outcome=\"sent\"} 4"));
}

#[test]
fn crlf_pings_are_a_bare_double_crlf() {
    let mut net = net(KeepAliveMode::Crlf, 10);
    net.register("bob", "192.168.1.2:5060", udp(NAT));
    let sent = run_for(&mut net, Duration::from_secs(30));
    assert_eq!(sent.len(), 3, "{sent:?}");
    for (_, dest, bytes) in &sent {
        assert_eq!(dest.addr.to_string(), NAT);
        assert_eq!(&bytes[..], b"\r\n\r\n");
    }
    assert_eq!(net.proxy.keepalive_counts(), (1, 3, 0));
}

#[test]
fn a_silent_phone_is_counted_and_pings_end_with_its_binding() {
    let mut net = net(KeepAliveMode::Options, 5);
    net.register("bob", "192.168.1.2:5060", udp(NAT));
    // Nobody answers: each unanswered OPTIONS is a failure when the next one is due.
    let sent = run_for(&mut net, Duration::from_secs(30));
    // Timer E retransmits each OPTIONS: count the distinct branches.
    let pings = options_branches(&sent);
    assert!(pings.len() >= 5, "{pings:?}");
    let (_, sent_n, failed) = net.proxy.keepalive_counts();
    assert_eq!(sent_n as usize, pings.len());
    assert!(failed >= 4, "failed {failed}");

    // The phone unregisters: its pinhole is dropped at its next turn, no more pings.
    net.send(
        udp(NAT),
        "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 192.168.1.2:5060;branch=z9hG4bKunreg
From: <sip:bob@example.com>;tag=r1
To: <sip:bob@example.com>
Call-ID: reg-bob-192.168.1.2:5060
CSeq: 2 REGISTER
Contact: <sip:bob@192.168.1.2:5060>;expires=0
Content-Length: 0

",
    );
    assert_eq!(net.out()[0].1.status(), 200);
    run_for(&mut net, Duration::from_secs(6));
    assert_eq!(net.proxy.keepalive_counts().0, 0);
    let later = run_for(&mut net, Duration::from_secs(60));
    assert!(
        options_branches(&later).is_subset(&pings),
        "new pings after the binding went: {later:?}"
    );
}

#[test]
fn keepalives_off_send_nothing() {
    let mut net = net(KeepAliveMode::Options, 0);
    net.register("bob", "192.168.1.2:5060", udp(NAT));
    assert_eq!(net.proxy.keepalive_counts().0, 0);
    assert!(run_for(&mut net, Duration::from_secs(120)).is_empty());
}
