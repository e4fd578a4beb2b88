//! In-process checks of what the proxy does when the network misbehaves, on a virtual
//! clock: a branch the transport could not send ends at once as a 503 (RFC 3261 §16.9)
//! unless it was on TCP only for its size (then it goes again over UDP, §18.1.1),
//! and UDP requests without `rport` are answered at their source port (`force_rport`).
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use proxy::{AuthConfig, Destination, ProxyConfig, Transport};
use testkit::proxy_net::{self, udp, Net};

/// A TCP peer at `addr` on connection 3.
fn tcp(addr: &str) -> Destination {
    proxy_net::tcp_on(addr, 3)
}

/// The shared in-process network with `force_rport` as given.
fn net(force_rport: bool) -> Net {
    let cfg = ProxyConfig {
        advertised_host: Some("192.0.2.10".into()),
        force_rport,
        auth: AuthConfig {
            enabled: false,
            ..AuthConfig::default()
        },
        ..ProxyConfig::default()
    };
    Net::with_config(cfg)
}

/// What the phones of these tests do on the network.
trait Phones {
    /// Registers bob's `contact` (a full Contact value) from `from`: the proxy reaches a
    /// phone where its REGISTER came from.
    fn register_bob(&mut self, n: u32, contact: &str, from: Destination);
    /// Alice's INVITE to bob arrives from 198.51.100.1:5060; returns the INVITE the proxy
    /// sends on (where to, and its bytes).
    fn alice_invites_bob(&mut self) -> (Destination, Bytes);
    /// The INVITE the proxy sends next (where to, and its bytes).
    fn next_invite(&mut self) -> (Destination, Bytes);
}

impl Phones for Net {
    fn register_bob(&mut self, n: u32, contact: &str, from: Destination) {
        let via = format!("SIP/2.0/{} {}", from.transport.as_str(), from.addr);
        self.send(
            from,
            &format!(
                "REGISTER sip:example.com SIP/2.0
Via: {via};rport;branch=z9hG4bKreg{n}
From: <sip:bob@example.com>;tag=r{n}
To: <sip:bob@example.com>
Call-ID: reg-bob-{n}
CSeq: 1 REGISTER
Contact: {contact}
Expires: 600
Content-Length: 0

"
            ),
        );
        let out = self.out();
        assert_eq!(out[0].1.status(), 200, "{}", out[0].1.head());
    }

    fn alice_invites_bob(&mut self) -> (Destination, Bytes) {
        self.send(udp("198.51.100.1:5060"), &proxy_net::invite("z9hG4bKcall"));
        self.next_invite()
    }

    fn next_invite(&mut self) -> (Destination, Bytes) {
        self.out_raw()
            .into_iter()
            .find(|(_, b)| b.starts_with(b"INVITE"))
            .unwrap()
    }
}

#[test]
fn rfc3261_16_9_tcp_branch_that_cannot_connect_is_answered_at_once() {
    let mut net = net(true);
    net.register_bob(
        1,
        "<sip:bob@203.0.113.5:5070;transport=tcp>",
        tcp("203.0.113.5:5070"),
    );
    // Alice calls: 100 Trying to her, and the INVITE leaves over TCP.
    let (dest, bytes) = net.alice_invites_bob();
    assert_eq!(dest.transport, Transport::Tcp);
    // The server reports the connect failure with the bytes it could not send, at the
    // same virtual instant: alice hears at once, not after Timer B (32 s).
    net.transport_error(dest, bytes.clone());
    let out = net.out();
    assert_eq!(out.len(), 1, "{out:?}");
    let (to, answer) = &out[0];
    assert_eq!(to.addr.to_string(), "198.51.100.1:5060");
    // RFC 3261 §16.7 step 6: the branch's 503 goes upstream as 500.
    assert_eq!(answer.status(), 500);
    assert_eq!(answer.reason(), "Next Hop Unavailable");
    // A second report of the same bytes (another queued copy) changes nothing.
    net.transport_error(dest, bytes);
    assert!(net.out_raw().is_empty());
    assert_eq!(net.proxy.forks(), 0);
}

#[test]
fn rfc3261_16_9_failed_serial_branch_moves_on_to_the_next_group_at_once() {
    let mut net = net(true);
    net.register_bob(
        1,
        "<sip:bob@203.0.113.5:5070;transport=tcp>;q=1.0",
        tcp("203.0.113.5:5070"),
    );
    net.register_bob(
        2,
        "<sip:bob@203.0.113.6:5062>;q=0.5",
        udp("203.0.113.6:5062"),
    );
    let (dest, bytes) = net.alice_invites_bob();
    assert_eq!(dest.addr.to_string(), "203.0.113.5:5070");
    net.transport_error(dest, bytes);
    let out = net.out();
    // No answer to alice yet: the next (UDP) contact rings instead.
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].1.is_request());
    assert_eq!(out[0].0.transport, Transport::Udp);
    assert_eq!(out[0].0.addr.to_string(), "203.0.113.6:5062");
}

#[test]
fn an_undeliverable_response_is_only_logged() {
    let mut net = net(true);
    let resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKx\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\nCall-ID: r\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    net.transport_error(udp("198.51.100.1:5060"), Bytes::from(resp));
    net.transport_error(udp("198.51.100.1:5060"), Bytes::from_static(b"garbage"));
    assert!(net.out_raw().is_empty());
    assert_eq!(net.proxy.transactions(), 0);
}

/// An OPTIONS to the server from a phone whose Via names port 5062 but whose packets
/// leave from 40000 (a NAT), without `rport`.
const OPTIONS: &str = "OPTIONS sip:example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.7:5062;branch=z9hG4bKnat
Max-Forwards: 70
From: <sip:alice@example.com>;tag=o1
To: <sip:example.com>
Call-ID: opt-1
CSeq: 1 OPTIONS
Content-Length: 0

";

#[test]
fn force_rport_answers_at_the_source_port() {
    let mut net = net(true);
    net.send(udp("198.51.100.1:40000"), OPTIONS);
    let out = net.out();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.addr.to_string(), "198.51.100.1:40000");
    assert_eq!(out[0].1.status(), 200);
    let via = out[0].1.top_via().unwrap();
    assert_eq!(via.rport(), Some(Some("40000")));
    assert_eq!(via.received(), Some("198.51.100.1"));
}

#[test]
fn without_force_rport_the_answer_goes_to_the_via_port() {
    let mut net = net(false);
    net.send(udp("198.51.100.1:40000"), OPTIONS);
    let out = net.out();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.addr.to_string(), "198.51.100.1:5062");
    let via = out[0].1.top_via().unwrap();
    assert_eq!(via.rport(), None);
    assert_eq!(via.received(), Some("198.51.100.1"));
}

/// Alice's INVITE with a 1,400-byte body (a browser's WebRTC offer is that large).
fn large_invite() -> String {
    let body = "v=0\r\n".to_string()
        + &"a=x-filler:0123456789abcdef0123456789abcdef0123456789\r\n".repeat(26);
    proxy_net::invite("z9hG4bKbig").replace(
        "Content-Length: 0",
        &format!(
            "Content-Type: application/sdp\nContent-Length: {}",
            body.len()
        ),
    ) + &body.replace("\r\n", "\n")
}

#[test]
fn rfc3261_18_1_1_a_large_request_whose_tcp_fails_goes_again_over_udp() {
    let mut net = net(true);
    // bob registered over UDP and listens on UDP only.
    net.register_bob(1, "<sip:bob@203.0.113.5:5062>", udp("203.0.113.5:5062"));
    net.send(udp("198.51.100.1:5060"), &large_invite());
    let (dest, bytes) = net.next_invite();
    // Too large for UDP: over TCP first.
    assert_eq!(dest.transport, Transport::Tcp);
    // bob refuses the TCP connection: the same request goes again, over UDP, with a
    // UDP Via; alice hears nothing yet.
    net.transport_error(dest, bytes);
    let out = net.out();
    assert_eq!(out.len(), 1, "{out:?}");
    let (to, again) = &out[0];
    assert!(again.is_request(), "{}", again.head());
    assert_eq!(to.transport, Transport::Udp);
    assert_eq!(to.addr.to_string(), "203.0.113.5:5062");
    assert_eq!(again.top_via().unwrap().transport, "UDP");
    assert!(again.to_vec().len() > 1300);
    // bob answers over UDP: alice gets the 200.
    net.send(udp("203.0.113.5:5062"), &proxy_net::answer(again, 200));
    let out = net.out();
    assert_eq!(proxy_net::statuses(&out), [200], "{out:?}");
}

#[test]
fn rfc3261_18_1_1_a_udp_retry_that_fails_too_ends_the_branch() {
    let mut net = net(true);
    net.register_bob(1, "<sip:bob@203.0.113.5:5062>", udp("203.0.113.5:5062"));
    net.send(udp("198.51.100.1:5060"), &large_invite());
    let (dest, bytes) = net.next_invite();
    net.transport_error(dest, bytes);
    let (dest, bytes) = net.next_invite();
    assert_eq!(dest.transport, Transport::Udp);
    net.transport_error(dest, bytes);
    let out = net.out();
    assert_eq!(proxy_net::statuses(&out), [500], "{out:?}");
    assert_eq!(net.proxy.forks(), 0);
}
