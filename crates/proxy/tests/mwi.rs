//! Message-waiting (RFC 3842 over RFC 6665) through the sans-IO proxy on a virtual clock:
//! a phone subscribes to its own address of record, gets 200 and a NOTIFY with the counts
//! at once, another on every change, refreshes and ends the subscription; nobody else may
//! subscribe to it; a NOTIFY answered 481 ends it; `unsolicited_mwi` NOTIFYs registered
//! phones that did not subscribe. The same flow runs with SIPp against the real server in
//! crates/server/tests/voicemail_mwi.rs.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use model::{AddressOfRecord, MessageCounts};
use proxy::{AuthConfig, Destination, ProxyConfig, ServicesConfig, VoicemailConfig};
use sip_message::SipMessage;
use testkit::proxy_net::{
    self, answer, body_text as body, first_request, first_response as response, udp, Subscribe,
    PROXY,
};

const ALICE: &str = "198.51.100.1:5060";
const BOB: &str = "203.0.113.5:5062";

fn net(unsolicited: bool) -> proxy_net::Net {
    let cfg = ProxyConfig {
        advertised_host: Some(PROXY.into()),
        advertised_port: 5060,
        auth: AuthConfig {
            enabled: false,
            ..AuthConfig::default()
        },
        services: ServicesConfig {
            voicemail: VoicemailConfig {
                unsolicited_mwi: unsolicited,
                max_subscriptions: 2,
                ..VoicemailConfig::default()
            },
            ..ServicesConfig::default()
        },
        ..ProxyConfig::default()
    };
    proxy_net::Net::with_directory(cfg, proxy_net::directory(&["alice", "bob"]))
}

/// `user`'s SUBSCRIBE from `addr` to `target`'s AOR; `to_tag` for a refresh.
fn subscribe(
    net: &mut proxy_net::Net,
    user: &str,
    addr: &str,
    target: &str,
    expires: u32,
    to_tag: Option<&str>,
    cseq: u32,
) -> Vec<(Destination, SipMessage)> {
    Subscribe {
        watcher: user,
        addr,
        target,
        from_tag: format!("p{user}"),
        call_id: &format!("mwi-{user}"),
        event: "message-summary",
        accept: "application/simple-message-summary",
        expires,
        to_tag,
        cseq,
    }
    .send(net)
}

fn notify(out: &[(Destination, SipMessage)]) -> &SipMessage {
    &first_request(out, "NOTIFY").1
}

#[test]
fn a_phone_subscribes_to_its_own_mailbox_and_hears_every_change() {
    let mut net = net(false);
    let alice = AddressOfRecord::new("alice", "example.com");
    let out = subscribe(&mut net, "alice", ALICE, "alice", 600, None, 1);
    let ok = response(&out);
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.expires(), Some(600));
    let tag = ok.to_tag().unwrap().to_string();
    let n = notify(&out);
    assert_eq!(
        out.iter().find(|(_, m)| m.is_request()).unwrap().0,
        udp(ALICE)
    );
    assert_eq!(n.request_uri_str(), format!("sip:alice@{ALICE}"));
    assert_eq!(n.header_by_name("Event"), Some("message-summary"));
    assert_eq!(
        n.header_by_name("Subscription-State"),
        Some("active;expires=600")
    );
    assert_eq!(n.from_tag(), Some(tag.as_str()));
    assert_eq!(n.to_tag(), Some("palice"));
    assert_eq!(n.call_id(), "mwi-alice");
    assert!(body(n).contains("Messages-Waiting: no\r\n"), "{}", body(n));
    assert!(body(n).contains("Voice-Message: 0/0"), "{}", body(n));
    net.send(udp(ALICE), &answer(n, 200));
    assert!(net.out().is_empty());

    // A message arrives: NOTIFY 1/0, next CSeq.
    let (now, wall) = (net.now, net.wall);
    net.proxy
        .mailbox_changed(now, wall, &alice, MessageCounts { new: 1, old: 0 });
    let out = net.out();
    let n = notify(&out);
    assert!(body(n).contains("Messages-Waiting: yes\r\n"));
    assert!(body(n).contains("Voice-Message: 1/0"));
    assert_eq!(n.cseq().seq, 2);
    net.send(udp(ALICE), &answer(n, 200));
    // The same counts again: nothing to say.
    net.proxy
        .mailbox_changed(now, wall, &alice, MessageCounts { new: 1, old: 0 });
    assert!(net.out().is_empty());

    // Refresh in the dialog: 200 and the state again; Expires: 0 ends it.
    net.advance(Duration::from_secs(100));
    let out = subscribe(&mut net, "alice", ALICE, "alice", 600, Some(&tag), 2);
    assert_eq!(response(&out).status(), 200);
    assert_eq!(response(&out).to_tag(), Some(tag.as_str()));
    net.send(udp(ALICE), &answer(notify(&out), 200));
    let out = subscribe(&mut net, "alice", ALICE, "alice", 0, Some(&tag), 3);
    assert_eq!(response(&out).status(), 200);
    let n = notify(&out);
    assert_eq!(
        n.header_by_name("Subscription-State"),
        Some("terminated;reason=timeout")
    );
    net.send(udp(ALICE), &answer(n, 200));
    assert_eq!(net.proxy.mwi_subscriptions(), 0);
    let out = subscribe(&mut net, "alice", ALICE, "alice", 600, Some(&tag), 4);
    assert_eq!(response(&out).status(), 481);
}

#[test]
fn nobody_learns_another_users_mailbox_and_the_table_is_bounded() {
    let mut net = net(false);
    let out = subscribe(&mut net, "bob", BOB, "alice", 600, None, 1);
    assert_eq!(response(&out).status(), 403);
    assert!(out.iter().all(|(_, m)| !m.is_request()));
    // A stranger (From outside the served domains) neither.
    net.send(
        udp("192.0.2.66:5060"),
        "SUBSCRIBE sip:alice@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.66:5060;branch=z9hG4bKx1
Max-Forwards: 70
From: <sip:mallory@evil.example>;tag=m
To: <sip:alice@example.com>
Call-ID: x
CSeq: 1 SUBSCRIBE
Contact: <sip:mallory@192.0.2.66>
Event: message-summary
Content-Length: 0

",
    );
    assert_eq!(response(&net.out()).status(), 403);

    // Two subscriptions fit (max_subscriptions = 2); the third is refused with 503.
    for (n, user, addr) in [(1, "alice", ALICE), (2, "bob", BOB)] {
        let out = subscribe(&mut net, user, addr, user, 600, None, n);
        assert_eq!(response(&out).status(), 200);
    }
    let out = subscribe(
        &mut net,
        "alice",
        "198.51.100.2:5060",
        "alice",
        600,
        None,
        9,
    );
    let r = response(&out);
    assert_eq!(r.status(), 503);
    assert_eq!(r.header_by_name("Retry-After"), Some("60"));
}

#[test]
fn a_notify_answered_481_ends_the_subscription() {
    let mut net = net(false);
    let out = subscribe(&mut net, "alice", ALICE, "alice", 600, None, 1);
    net.send(udp(ALICE), &answer(notify(&out), 481));
    assert_eq!(net.proxy.mwi_subscriptions(), 0);
}

#[test]
fn unsolicited_notifies_reach_registered_phones_that_did_not_subscribe() {
    let mut net = net(true);
    net.register("alice", ALICE, udp(ALICE));
    net.register("alice", "198.51.100.2:5060", udp("198.51.100.2:5060"));
    // One of alice's phones subscribes: it gets its in-dialog NOTIFY only.
    let out = subscribe(&mut net, "alice", ALICE, "alice", 600, None, 1);
    net.send(udp(ALICE), &answer(notify(&out), 200));
    let (now, wall) = (net.now, net.wall);
    net.proxy.mailbox_changed(
        now,
        wall,
        &AddressOfRecord::new("alice", "example.com"),
        MessageCounts { new: 2, old: 1 },
    );
    let out = net.out();
    let notifies: Vec<(String, Option<String>)> = out
        .iter()
        .filter(|(_, m)| m.is_request())
        .map(|(d, m)| (d.addr.to_string(), m.to_tag().map(str::to_string)))
        .collect();
    assert_eq!(notifies.len(), 2, "{notifies:?}");
    assert!(notifies.contains(&(ALICE.to_string(), Some("palice".to_string()))));
    assert!(notifies.contains(&("198.51.100.2:5060".to_string(), None)));
    for (_, m) in &out {
        assert!(body(m).contains("Voice-Message: 2/1"));
    }
}
