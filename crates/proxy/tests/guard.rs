//! The guard on a virtual clock: the flood limiter, bans from failed authentications,
//! silence (or an answer) for banned sources, and `ban list|remove` through the proxy's
//! public face. The same stories run with the real binary and SIPp in
//! crates/server/tests/bans.rs.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::Bytes;
use proxy::{AuthConfig, BanAction, BanTarget, FloodConfig, Proxy, ProxyConfig};
use sip_message::SipMessage;
use testkit::proxy_net::{self, udp};

/// The shared in-process network's proxy, from 100 s on its clock, with a counter that
/// makes each request's branch, tag and Call-ID new.
struct Net {
    proxy: Proxy,
    now: Duration,
    n: u32,
}

impl Net {
    fn new(auth: bool, action: BanAction) -> Net {
        let cfg = ProxyConfig {
            advertised_host: Some("192.0.2.10".into()),
            auth: AuthConfig {
                enabled: auth,
                max_failures_per_source_user: 3,
                max_unknown_per_source: 3,
                ban_secs: 300,
                ..AuthConfig::default()
            },
            flood: FloodConfig {
                max_requests: 20,
                ban_secs: 60,
                exempt: vec!["192.0.2.99/32".parse().unwrap()],
                ..FloodConfig::default()
            },
            ban_action: action,
            ..ProxyConfig::default()
        };
        let proxy_net::Net { proxy, .. } = proxy_net::Net::with_config(cfg);
        Net {
            proxy,
            now: Duration::from_secs(100),
            n: 0,
        }
    }

    /// Sends a request and returns the answers it got.
    fn send(&mut self, from: &str, text: &str) -> Vec<SipMessage> {
        let text = text.replace('\n', "\r\n");
        self.proxy
            .handle_message(self.now, 1_000_000, Bytes::from(text), udp(from));
        let mut v = Vec::new();
        while let Some((_, b)) = self.proxy.poll_transmit() {
            v.push(SipMessage::parse(b).unwrap());
        }
        v
    }

    fn options(&mut self, from: &str) -> Option<u16> {
        self.n += 1;
        let n = self.n;
        let out = self.send(
            from,
            &format!(
                "OPTIONS sip:192.0.2.10 SIP/2.0
Via: SIP/2.0/UDP {from};rport;branch=z9hG4bKo{n}
From: <sip:probe@example.net>;tag=o{n}
To: <sip:192.0.2.10>
Call-ID: o{n}
CSeq: 1 OPTIONS
Content-Length: 0

"
            ),
        );
        out.first().map(SipMessage::status)
    }

    /// A REGISTER for `user`, with credentials (a wrong response) on a fresh nonce when
    /// `creds`; returns the final status.
    fn register(&mut self, from: &str, user: &str, creds: bool) -> Option<u16> {
        self.n += 1;
        let n = self.n;
        let auth = if creds {
            let nonce = self.nonce(from, user)?;
            format!(
                "Authorization: Digest username=\"{user}\", realm=\"example.com\", nonce=\"{nonce}\", uri=\"sip:example.com\", response=\"00000000000000000000000000000000\", algorithm=MD5\n"
            )
        } else {
            String::new()
        };
        let out = self.send(
            from,
            &format!(
                "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP {from};rport;branch=z9hG4bKr{n}
From: <sip:{user}@example.com>;tag=r{n}
To: <sip:{user}@example.com>
Call-ID: r{n}
CSeq: 1 REGISTER
Contact: <sip:{user}@{from}>
{auth}Content-Length: 0

"
            ),
        );
        out.first().map(SipMessage::status)
    }

    fn nonce(&mut self, from: &str, user: &str) -> Option<String> {
        self.n += 1;
        let n = self.n;
        let out = self.send(
            from,
            &format!(
                "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP {from};rport;branch=z9hG4bKc{n}
From: <sip:{user}@example.com>;tag=c{n}
To: <sip:{user}@example.com>
Call-ID: c{n}
CSeq: 1 REGISTER
Contact: <sip:{user}@{from}>
Content-Length: 0

"
            ),
        );
        let head = out.first()?.head().to_string();
        let at = head.find("nonce=\"")? + 7;
        let len = head[at..].find('"')?;
        Some(head[at..at + len].to_string())
    }
}

#[test]
fn a_flood_is_cut_off_and_banned_while_others_are_served() {
    let mut net = Net::new(false, BanAction::Drop);
    let answered = (0..100)
        .filter(|_| {
            net.now += Duration::from_millis(1);
            net.options("203.0.113.7:5060") == Some(200)
        })
        .count();
    assert_eq!(answered, 20, "max_requests answered, then silence");
    assert_eq!(net.options("198.51.100.20:5060"), Some(200));
    // Exempt sources are never counted.
    assert!((0..100).all(|_| net.options("192.0.2.99:5060") == Some(200)));
    let bans = net.proxy.bans(net.now);
    assert_eq!(bans.len(), 1);
    assert_eq!((bans[0].kind, bans[0].reason), ("source", "flood"));
    assert_eq!(bans[0].remaining_secs, 60);
    let mut m = String::new();
    net.proxy.render_metrics(net.now, &mut m);
    assert!(m.contains("switchboard_flood_bans_total 1\n"), "{m}");
    assert!(m.contains("switchboard_bans_active 1\n"));
    assert!(m.contains("switchboard_banned_messages_total{action=\"dropped\"} 80\n"));
    // The ban ends after ban_secs.
    net.now += Duration::from_secs(61);
    net.proxy.handle_timeout(net.now);
    assert!(net.proxy.bans(net.now).is_empty());
    assert_eq!(net.options("203.0.113.7:5060"), Some(200));
}

#[test]
fn with_ban_action_reply_a_flood_gets_503() {
    let mut net = Net::new(false, BanAction::Reply);
    for _ in 0..20 {
        assert_eq!(net.options("203.0.113.7:5060"), Some(200));
    }
    let out = net.send(
        "203.0.113.7:5060",
        "OPTIONS sip:192.0.2.10 SIP/2.0
Via: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bKlast
From: <sip:probe@example.net>;tag=last
To: <sip:192.0.2.10>
Call-ID: last
CSeq: 1 OPTIONS
Content-Length: 0

",
    );
    assert_eq!(out[0].status(), 503);
    assert!(
        out[0].head().contains("Retry-After: 60\r\n"),
        "{}",
        out[0].head()
    );
}

#[test]
fn a_wrong_password_bans_that_phone_not_the_office() {
    let mut net = Net::new(true, BanAction::Drop);
    let office = "198.51.100.10:5060";
    for _ in 0..3 {
        assert_eq!(net.register(office, "alice", true), Some(401));
    }
    // alice from the office: refused without a challenge, even with no credentials.
    assert_eq!(net.register(office, "alice", false), Some(403));
    // bob behind the same address is still challenged, and OPTIONS still answered.
    assert_eq!(net.register(office, "bob", false), Some(401));
    assert_eq!(net.options(office), Some(200));
    // alice from home is not banned.
    assert_eq!(net.register("203.0.113.5:5060", "alice", false), Some(401));
    let bans = net.proxy.bans(net.now);
    assert_eq!(bans.len(), 1);
    assert_eq!(bans[0].kind, "source-user");
    assert_eq!(bans[0].user.as_deref(), Some("alice@example.com"));
    // An admin lifts it.
    let alice = BanTarget::parse("alice@example.com").unwrap();
    assert_eq!(net.proxy.unban(&alice), 1);
    assert_eq!(net.register(office, "alice", false), Some(401));
}

#[test]
fn unknown_users_ban_the_source_which_then_gets_silence() {
    let mut net = Net::new(true, BanAction::Drop);
    let scanner = "203.0.113.66:5060";
    for u in ["100", "101", "102"] {
        assert_eq!(net.register(scanner, u, true), Some(401));
    }
    assert_eq!(net.options(scanner), None, "dropped in silence");
    assert_eq!(net.register(scanner, "alice", false), None);
    let bans = net.proxy.bans(net.now);
    assert_eq!(
        (bans[0].kind, bans[0].reason, bans[0].source),
        (
            "source",
            "unknown-users",
            Some("203.0.113.66".parse().unwrap())
        )
    );
    assert_eq!(
        net.proxy.unban(&BanTarget::parse("203.0.113.66").unwrap()),
        1
    );
    assert_eq!(net.options(scanner), Some(200));
}
