//! Routing to voicemail through the sans-IO proxy on a virtual clock: a call to a user with
//! a mailbox reaches the service host with the contract's Request-URI when the user is
//! busy, does not answer within the mailbox's ring time, has no phone registered, or
//! forwards to `voicemail`; `*98` and `*99` reach retrieval; the service's URIs are
//! refused to anyone outside.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use model::{AddressOfRecord, UserSettings};
use proxy::{
    AuthConfig, Destination, ProxyConfig, ServicesConfig, StaticDirectory, VoicemailRoute,
};
use sip_message::SipMessage;
use testkit::proxy_net::{self, answer, udp, PROXY};

const ALICE: &str = "198.51.100.1:5060";
const BOB: &str = "203.0.113.5:5062";
/// The service host (in the server: in-process, on loopback).
const HOST: &str = "127.0.0.1:5099";

/// Users alice..dave of example.com; bob has a mailbox ringing `after` seconds first
/// (no PIN at home), carol has one with default settings, dave none. `settings` are
/// forwarding rows (user, name, value).
fn net(settings: &[(&str, &str, &str)], host: bool) -> proxy_net::Net {
    let dir: StaticDirectory = proxy_net::directory(&["alice", "bob", "carol", "dave"]);
    dir.replace_settings(UserSettings::group(settings.iter().map(|(u, n, v)| {
        (
            AddressOfRecord::new(u, "example.com"),
            n.to_string(),
            v.to_string(),
        )
    })));
    dir.set_voicemail(
        AddressOfRecord::new("bob", "example.com"),
        Some(VoicemailRoute {
            after_secs: 7,
            no_pin_at_home: true,
        }),
    );
    dir.set_voicemail(
        AddressOfRecord::new("carol", "example.com"),
        Some(VoicemailRoute {
            after_secs: 20,
            no_pin_at_home: false,
        }),
    );
    let cfg = ProxyConfig {
        advertised_host: Some(PROXY.into()),
        advertised_port: 5060,
        no_answer_timeout: Duration::from_secs(60),
        auth: AuthConfig {
            enabled: false,
            ..AuthConfig::default()
        },
        services: ServicesConfig {
            host: host.then(|| udp(HOST)),
            ..ServicesConfig::default()
        },
        ..ProxyConfig::default()
    };
    proxy_net::Net::with_directory(cfg, dir)
}

/// `from_user`'s INVITE (from ALICE's address) to `callee`'s Request-URI.
fn call(
    net: &mut proxy_net::Net,
    ruri: &str,
    from: &str,
    n: u32,
) -> Vec<(Destination, SipMessage)> {
    net.send(
        udp(ALICE),
        &format!(
            "INVITE {ruri} SIP/2.0
Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKvm{n};rport
Max-Forwards: 70
From: <{from}>;tag=a{n}
To: <{ruri}>
Call-ID: vm-call-{n}
CSeq: 1 INVITE
Contact: <sip:alice@{ALICE}>
Content-Length: 0

"
        ),
    );
    net.out()
}

fn statuses(out: &[(Destination, SipMessage)]) -> Vec<u16> {
    out.iter()
        .filter(|(_, m)| !m.is_request())
        .map(|(_, m)| m.status())
        .collect()
}

/// The INVITE that went to the service host, if one did.
fn to_host(out: &[(Destination, SipMessage)]) -> Option<SipMessage> {
    out.iter()
        .find(|(d, m)| m.is_request() && m.method_str() == "INVITE" && d.addr.to_string() == HOST)
        .map(|(_, m)| m.clone())
}

fn invite_to(out: &[(Destination, SipMessage)], addr: &str) -> SipMessage {
    out.iter()
        .find(|(d, m)| m.is_request() && m.method_str() == "INVITE" && d.addr.to_string() == addr)
        .map(|(_, m)| m.clone())
        .unwrap()
}

const DEPOSIT_BOB: &str = "sip:voicemail@example.com;mode=deposit;mailbox=bob";

#[test]
fn busy_goes_to_the_mailbox() {
    let mut net = net(&[], true);
    net.register("bob", BOB, udp(BOB));
    let out = call(&mut net, "sip:bob@example.com", "sip:alice@example.com", 1);
    let to_bob = invite_to(&out, BOB);
    net.send(udp(BOB), &answer(&to_bob, 486));
    let out = net.out();
    assert_eq!(statuses(&out), [181]);
    let vm = to_host(&out).expect("an INVITE to the service host");
    assert_eq!(vm.request_uri_str(), DEPOSIT_BOB);
    // The service answers: the caller gets its 200.
    net.send(udp(HOST), &answer(&vm, 200));
    assert_eq!(statuses(&net.out()), [200]);
}

#[test]
fn no_answer_within_the_mailbox_ring_time_goes_to_the_mailbox() {
    let mut net = net(&[], true);
    net.register("bob", BOB, udp(BOB));
    let out = call(&mut net, "sip:bob@example.com", "sip:alice@example.com", 1);
    let to_bob = invite_to(&out, BOB);
    net.send(udp(BOB), &answer(&to_bob, 180));
    assert_eq!(statuses(&net.out()), [180]);
    net.advance(Duration::from_secs(6));
    assert!(to_host(&net.out()).is_none());
    net.advance(Duration::from_secs(1));
    let out = net.out();
    assert!(out
        .iter()
        .any(|(d, m)| m.is_request() && m.method_str() == "CANCEL" && d.addr.to_string() == BOB));
    assert_eq!(to_host(&out).unwrap().request_uri_str(), DEPOSIT_BOB);
}

#[test]
fn no_registered_phone_goes_to_the_mailbox_at_once() {
    let mut net = net(&[], true);
    let out = call(
        &mut net,
        "sip:bob@example.com",
        "sip:stranger@example.net",
        1,
    );
    assert_eq!(statuses(&out), [100, 181]);
    let vm = to_host(&out).unwrap();
    assert_eq!(vm.request_uri_str(), DEPOSIT_BOB);
    // History-Info says why (RFC 4458 cause 404: unavailable).
    let hi: Vec<&str> = (0..vm.fields().len())
        .filter(|&i| vm.name_of(i).eq_ignore_ascii_case("History-Info"))
        .map(|i| vm.value(i))
        .collect();
    assert_eq!(
        hi,
        [
            "<sip:bob@example.com>;index=1",
            "<sip:voicemail@example.com;mode=deposit;mailbox=bob;cause=404>;index=1.1;mp=1"
        ]
    );
}

#[test]
fn the_users_own_rules_come_first_and_may_name_voicemail() {
    // Bob forwards busy calls to carol: not to his mailbox.
    let mut net = net(&[("bob", "forward.busy", "carol@example.com")], true);
    net.register("bob", BOB, udp(BOB));
    let out = call(&mut net, "sip:bob@example.com", "sip:alice@example.com", 1);
    net.send(udp(BOB), &answer(&invite_to(&out, BOB), 486));
    // Carol has no phone: her own mailbox takes the call.
    let vm = to_host(&net.out()).unwrap();
    assert_eq!(
        vm.request_uri_str(),
        "sip:voicemail@example.com;mode=deposit;mailbox=carol"
    );

    // Dave has no voicemail enabled: forwarding to `voicemail` finds no mailbox (480).
    // Carol sends every call to voicemail.
    let mut net = net_with(&[("carol", "forward.always", "voicemail")]);
    let out = call(
        &mut net,
        "sip:carol@example.com",
        "sip:alice@example.com",
        2,
    );
    assert_eq!(
        to_host(&out).unwrap().request_uri_str(),
        "sip:voicemail@example.com;mode=deposit;mailbox=carol"
    );
    let out = call(&mut net, "sip:dave@example.com", "sip:alice@example.com", 3);
    assert_eq!(statuses(&out), [480]);
    assert!(to_host(&out).is_none());
}

fn net_with(settings: &[(&str, &str, &str)]) -> proxy_net::Net {
    let mut settings = settings.to_vec();
    settings.push(("dave", "forward.always", "voicemail"));
    net(&settings, true)
}

#[test]
fn without_a_mailbox_or_a_service_host_calls_end_as_before() {
    let mut net = net(&[], true);
    net.register("dave", BOB, udp(BOB));
    let out = call(&mut net, "sip:dave@example.com", "sip:alice@example.com", 1);
    net.send(udp(BOB), &answer(&invite_to(&out, BOB), 486));
    assert_eq!(statuses(&net.out()), [486]);

    let mut net = self::net(&[], false);
    let out = call(&mut net, "sip:bob@example.com", "sip:alice@example.com", 2);
    assert_eq!(statuses(&out), [480]);
    let out = call(&mut net, "sip:*98@example.com", "sip:bob@example.com", 3);
    assert_eq!(statuses(&out), [480]);
}

#[test]
fn star98_from_the_own_phone_and_star99_from_any_local_phone_reach_retrieval() {
    let mut net = net(&[], true);
    let out = call(&mut net, "sip:*98@example.com", "sip:bob@example.com", 1);
    assert_eq!(
        to_host(&out).unwrap().request_uri_str(),
        "sip:voicemail@example.com;mode=retrieve;mailbox=bob;home"
    );
    let out = call(&mut net, "sip:*98@example.com", "sip:carol@example.com", 2);
    assert_eq!(
        to_host(&out).unwrap().request_uri_str(),
        "sip:voicemail@example.com;mode=retrieve;mailbox=carol"
    );
    // Dave has no mailbox.
    let out = call(&mut net, "sip:*98@example.com", "sip:dave@example.com", 3);
    assert_eq!(statuses(&out), [404]);
    let out = call(&mut net, "sip:*99@example.com", "sip:dave@example.com", 4);
    assert_eq!(
        to_host(&out).unwrap().request_uri_str(),
        "sip:voicemail@example.com;mode=retrieve"
    );
}

#[test]
fn outsiders_reach_neither_the_service_uris_nor_the_access_codes() {
    let mut net = net(&[], true);
    for (n, ruri) in [
        DEPOSIT_BOB,
        "sip:voicemail@example.com;mode=retrieve;mailbox=bob;home",
        "sip:voicemail@example.com;mode=retrieve",
    ]
    .into_iter()
    .enumerate()
    {
        // Even a local caller may not name a mode: only the proxy produces these.
        for from in ["sip:mallory@example.net", "sip:bob@example.com"] {
            let out = call(
                &mut net,
                ruri,
                from,
                n as u32 * 2 + u32::from(from.contains("bob")),
            );
            assert_eq!(statuses(&out), [403], "{ruri} from {from}");
            assert!(to_host(&out).is_none());
        }
    }
    // A foreign caller dialling the codes reaches no retrieval.
    let out = call(
        &mut net,
        "sip:*98@example.com",
        "sip:mallory@example.net",
        10,
    );
    assert!(to_host(&out).is_none());
    assert_eq!(statuses(&out), [480]);
    let out = call(
        &mut net,
        "sip:*99@example.com",
        "sip:mallory@example.net",
        11,
    );
    assert!(to_host(&out).is_none());
}
