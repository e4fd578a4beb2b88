//! The relay stage for calls between a browser (WebRTC: ICE, DTLS-SRTP) and a plain RTP
//! phone (issue 19), through the sans-IO proxy: such a call is relayed without any NAT,
//! each relay query names the profile its receiver speaks (the offer the callee's, the
//! answer the caller's; a re-INVITE's by its From tag), a callee with a browser and a
//! desk phone gets the bridged offer on the browser's branch only, and without a relay
//! that can bridge (the embedded one) the call gets 488. The service host is a plain RTP
//! party: a browser calling a conference room and the host calling a browser are bridged
//! (488 without rtpengine), a plain phone's call to the host is never relayed. End to end with Chromium, rtpengine and an RTP phone:
//! crates/server/tests/webrtc_rtpengine.rs.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use proxy::{
    Destination, MediaProfile, ProxyConfig, Query, QueryAnswer, RelayMode, RelayOp, ServicesConfig,
};
use sip_message::{ConnectionId, SipMessage, Transport};
use testkit::proxy_net::{self, answer, requests, statuses, udp};

const ALICE: &str = "198.51.100.1:5060";
/// Carol's browser: where its WebSocket connection comes from.
const BROWSER: &str = "198.51.100.9:40000";
/// Bob's desk phone (no NAT: Contact and source agree).
const DESK: &str = "198.51.100.2:5062";

const PHONE_SDP: &str =
    "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n";
const BROWSER_SDP: &str = "v=0\no=- 2 2 IN IP4 127.0.0.1\ns=-\nt=0 0\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\nc=IN IP4 0.0.0.0\na=ice-ufrag:x\na=fingerprint:sha-256 AB:CD\na=rtcp-mux\n";
const RELAYED: &str =
    "v=0\no=- 3 3 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 30000 RTP/AVP 0\n";

fn ws(addr: &str) -> Destination {
    Destination {
        transport: Transport::Wss,
        addr: addr.parse().unwrap(),
        conn: Some(ConnectionId(9)),
    }
}

/// The media service host (voicemail, conference, music on hold).
const HOST: &str = "198.51.100.50:5070";

/// A proxy with a relay in `mode`; `bridges`: the relay is rtpengine.
fn net(mode: RelayMode, bridges: bool) -> proxy_net::Net {
    net_with(mode, bridges, None)
}

/// [`net`] with the service host at [`HOST`].
fn net_with_host(mode: RelayMode, bridges: bool) -> proxy_net::Net {
    net_with(mode, bridges, Some(udp(HOST)))
}

fn net_with(mode: RelayMode, bridges: bool, host: Option<Destination>) -> proxy_net::Net {
    let base = proxy_net::config(Duration::from_secs(60), false);
    let cfg = ProxyConfig {
        relay: mode,
        relay_bridges_webrtc: bridges,
        services: ServicesConfig {
            host,
            ..base.services
        },
        ..base
    };
    // dave has a mailbox and no phone registered: his calls go to voicemail at once.
    let dir = proxy_net::directory(&["alice", "bob", "carol", "dave"]);
    dir.set_voicemail(
        model::AddressOfRecord::new("dave", "example.com"),
        Some(proxy::VoicemailRoute {
            after_secs: 20,
            no_pin_at_home: false,
        }),
    );
    let mut net = proxy_net::Net::with_directory(cfg, dir);
    net.register("bob", DESK, udp(DESK));
    register_browser(&mut net, "carol");
    net
}

/// `user` registers from a browser over WSS (a `.invalid` Contact, as JsSIP writes).
fn register_browser(net: &mut proxy_net::Net, user: &str) {
    net.send(
        ws(BROWSER),
        &format!(
            "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/WSS k3j2.invalid;branch=z9hG4bKws{user}
From: <sip:{user}@example.com>;tag=r1
To: <sip:{user}@example.com>
Call-ID: reg-ws-{user}
CSeq: 1 REGISTER
Contact: <sip:{user}@k3j2.invalid;transport=ws>
Expires: 600
Content-Length: 0

"
        ),
    );
    assert_eq!(statuses(&net.out()), [200]);
}

/// `head` (ending in `Content-Length: 0\n\n`) with `body` as SDP.
fn with_sdp(head: &str, body: &str) -> String {
    let len = body.replace('\n', "\r\n").len();
    head.replace(
        "Content-Length: 0\n\n",
        &format!("Content-Type: application/sdp\nContent-Length: {len}\n\n{body}"),
    )
}

/// An INVITE to `callee` with `sdp` (Call-ID `call-1`).
fn invite(callee: &str, sdp: &str) -> String {
    with_sdp(
        &proxy_net::invite("z9hG4bKb1").replace("sip:bob@", &format!("sip:{callee}@")),
        sdp,
    )
}

/// `invite` as a browser writes it: Via and Contact with a `.invalid` host (JsSIP).
fn from_browser(invite: &str) -> String {
    invite
        .replace("SIP/2.0/UDP 198.51.100.1:5060", "SIP/2.0/WSS k3j2.invalid")
        .replace(
            "<sip:alice@198.51.100.1:5060>",
            "<sip:alice@k3j2.invalid;transport=ws>",
        )
}

fn relay_query(net: &mut proxy_net::Net) -> (u64, proxy::RelayQuery) {
    let q = net.proxy.poll_query().expect("a relay query");
    match q.query {
        Query::Relay(r) => (q.token, *r),
        other => panic!("unexpected query {other:?}"),
    }
}

fn body(m: &SipMessage) -> String {
    String::from_utf8_lossy(m.body()).into_owned()
}

#[test]
fn a_browser_calling_a_phone_is_bridged_without_any_nat() {
    let mut net = net(RelayMode::Nat, true);
    // The browser (over WSS) calls bob's desk phone: nobody is behind NAT.
    net.send(ws(BROWSER), &from_browser(&invite("bob", BROWSER_SDP)));
    assert!(requests(&net.out()).is_empty(), "forwarded unbridged");
    let (token, q) = relay_query(&mut net);
    assert_eq!((q.op, q.receiver), (RelayOp::Offer, MediaProfile::Rtp));
    net.proxy
        .handle_query(net.now, net.wall, token, QueryAnswer::Sdp(RELAYED.into()));
    let out = net.out();
    assert_eq!(requests(&out), [("INVITE".into(), DESK.into())]);
    let to_bob = out.iter().find(|(_, m)| m.is_request()).unwrap().1.clone();
    assert_eq!(body(&to_bob), RELAYED);
    // Bob's plain answer goes back through the relay, to be turned into WebRTC.
    net.send(udp(DESK), &with_sdp(&answer(&to_bob, 200), PHONE_SDP));
    assert!(statuses(&net.out()).is_empty());
    let (_, q) = relay_query(&mut net);
    assert_eq!((q.op, q.receiver), (RelayOp::Answer, MediaProfile::WebRtc));
}

#[test]
fn a_phone_calling_a_browser_is_bridged() {
    let mut net = net(RelayMode::Nat, true);
    net.send(udp(ALICE), &invite("carol", PHONE_SDP));
    let (token, q) = relay_query(&mut net);
    assert_eq!((q.op, q.receiver), (RelayOp::Offer, MediaProfile::WebRtc));
    net.proxy.handle_query(
        net.now,
        net.wall,
        token,
        QueryAnswer::Sdp(BROWSER_SDP.into()),
    );
    let out = net.out();
    let (to, to_carol) = out.iter().find(|(_, m)| m.is_request()).unwrap().clone();
    assert_eq!(to.transport, Transport::Wss);
    net.send(ws(BROWSER), &with_sdp(&answer(&to_carol, 200), BROWSER_SDP));
    let _ = net.out();
    let (token, q) = relay_query(&mut net);
    assert_eq!((q.op, q.receiver), (RelayOp::Answer, MediaProfile::Rtp));
    net.proxy
        .handle_query(net.now, net.wall, token, QueryAnswer::Sdp(RELAYED.into()));
    let out = net.out();
    assert_eq!(statuses(&out), [200]);
    assert_eq!(net.proxy.relayed_calls(), 1);

    // The browser re-INVITEs (its tag): the offer is for alice's phone, so RTP; alice's
    // answer goes back to the browser, so WebRTC.
    let rr = out[0]
        .1
        .header(sip_message::HeaderName::RecordRoute)
        .map(|r| format!("Route: {r}\n"))
        .unwrap_or_default();
    let reinvite = format!(
        "INVITE sip:alice@198.51.100.1:5060 SIP/2.0
Via: SIP/2.0/WSS k3j2.invalid;branch=z9hG4bKre2
Max-Forwards: 70
{rr}From: <sip:carol@example.com>;tag=b200
To: <sip:alice@example.com>;tag=a1
Call-ID: call-1
CSeq: 9 INVITE
Contact: <sip:carol@k3j2.invalid;transport=ws>
Content-Length: 0

"
    );
    net.send(ws(BROWSER), &with_sdp(&reinvite, BROWSER_SDP));
    let _ = net.out();
    let (token, q) = relay_query(&mut net);
    assert_eq!((q.op, q.receiver), (RelayOp::Offer, MediaProfile::Rtp));
    assert_eq!(q.from_tag, "b200");
    net.proxy
        .handle_query(net.now, net.wall, token, QueryAnswer::Sdp(RELAYED.into()));
    let out = net.out();
    let to_alice = out.iter().find(|(_, m)| m.is_request()).unwrap().1.clone();
    let ok = answer(&to_alice, 200).replace("tag=a1;tag=b200", "tag=a1");
    net.send(udp(ALICE), &with_sdp(&ok, PHONE_SDP));
    let _ = net.out();
    let (_, q) = relay_query(&mut net);
    assert_eq!((q.op, q.receiver), (RelayOp::Answer, MediaProfile::WebRtc));
}

#[test]
fn without_a_relay_that_bridges_such_a_call_gets_488() {
    let mut net = net(RelayMode::Nat, false);
    net.send(udp(ALICE), &invite("carol", PHONE_SDP));
    let out = net.out();
    assert!(net.proxy.poll_query().is_none());
    assert!(requests(&out).is_empty());
    let refusal = &out.iter().find(|(_, m)| m.status() == 488).unwrap().1;
    assert!(refusal.head().contains("rtpengine"), "{}", refusal.head());
    // Two browsers, two phones: nothing to bridge, no relay without NAT.
    let second = from_browser(&invite("carol", BROWSER_SDP))
        .replace("z9hG4bKb1", "z9hG4bKb2")
        .replace("call-1", "call-2");
    net.send(ws(BROWSER), &second);
    let out = net.out();
    assert_eq!(requests(&out).len(), 1, "{:?}", statuses(&out));
    assert!(net.proxy.poll_query().is_none());
    // `never`: the relay is off, the call goes as it is (the operator's choice).
    let mut net = net_never();
    net.send(udp(ALICE), &invite("carol", PHONE_SDP));
    assert_eq!(requests(&net.out()).len(), 1);
    assert!(net.proxy.poll_query().is_none());
}

fn net_never() -> proxy_net::Net {
    net(RelayMode::Never, true)
}

#[test]
fn a_user_with_a_browser_and_a_desk_phone_gets_the_bridged_offer_on_the_browser_only() {
    let mut net = net(RelayMode::Nat, true);
    register_browser(&mut net, "bob");
    net.send(udp(ALICE), &invite("bob", PHONE_SDP));
    let (token, q) = relay_query(&mut net);
    assert_eq!(q.receiver, MediaProfile::WebRtc);
    net.proxy.handle_query(
        net.now,
        net.wall,
        token,
        QueryAnswer::Sdp(BROWSER_SDP.into()),
    );
    let out = net.out();
    let branches: Vec<_> = out.iter().filter(|(_, m)| m.is_request()).collect();
    assert_eq!(branches.len(), 2);
    for (to, m) in &branches {
        let expected = if to.transport == Transport::Wss {
            BROWSER_SDP
        } else {
            PHONE_SDP
        };
        assert_eq!(body(m).replace("\r\n", "\n"), expected, "to {to}");
    }
    // The desk phone answers: no relay query for its plain SDP, and the relay's half-
    // opened call is deleted.
    let to_desk = &branches
        .iter()
        .find(|(to, _)| to.transport == Transport::Udp)
        .unwrap()
        .1;
    net.send(udp(DESK), &with_sdp(&answer(to_desk, 200), PHONE_SDP));
    let out = net.out();
    assert!(statuses(&out).contains(&200), "{:?}", statuses(&out));
    assert!(net.proxy.poll_query().is_none());
    let d = net.proxy.poll_relay_delete().expect("the relay released");
    assert_eq!(d.call_id, "call-1");
    assert_eq!(net.proxy.relayed_calls(), 0);
}

#[test]
fn without_a_relay_that_bridges_only_the_devices_alike_ring() {
    let mut net = net(RelayMode::Nat, false);
    register_browser(&mut net, "bob");
    net.send(udp(ALICE), &invite("bob", PHONE_SDP));
    let out = net.out();
    assert!(net.proxy.poll_query().is_none());
    assert_eq!(requests(&out), [("INVITE".into(), DESK.into())]);
}

#[test]
fn a_browser_calling_a_conference_room_is_bridged_to_the_service_host() {
    let mut net = net_with_host(RelayMode::Nat, true);
    net.send(
        ws(BROWSER),
        &from_browser(&invite("conf-room", BROWSER_SDP)),
    );
    assert!(requests(&net.out()).is_empty(), "forwarded unbridged");
    let (token, q) = relay_query(&mut net);
    assert_eq!((q.op, q.receiver), (RelayOp::Offer, MediaProfile::Rtp));
    // rtpengine's plain offer lists many codecs: over 1,300 bytes, yet it goes over UDP
    // (the host listens on nothing else), not TCP first as to a phone.
    let relayed = format!(
        "{RELAYED}{}",
        "a=rtpmap:96 telephone-event/8000\n".repeat(40)
    );
    net.proxy
        .handle_query(net.now, net.wall, token, QueryAnswer::Sdp(relayed.clone()));
    let out = net.out();
    assert_eq!(requests(&out), [("INVITE".into(), HOST.into())]);
    let (to, to_host) = out.iter().find(|(_, m)| m.is_request()).unwrap().clone();
    assert_eq!(to.transport, Transport::Udp);
    assert!(to_host.head().contains(";room=room"), "{}", to_host.head());
    assert_eq!(body(&to_host), relayed);
    // The media engine's plain answer goes back through the relay, turned into WebRTC.
    net.send(udp(HOST), &with_sdp(&answer(&to_host, 200), PHONE_SDP));
    assert!(statuses(&net.out()).is_empty());
    let (_, q) = relay_query(&mut net);
    assert_eq!((q.op, q.receiver), (RelayOp::Answer, MediaProfile::WebRtc));
    assert_eq!(net.proxy.relayed_calls(), 1);
}

#[test]
fn the_service_host_calling_a_browser_is_bridged() {
    // A conference dial-out or a parked call's ring-back: the host offers plain RTP.
    let mut net = net_with_host(RelayMode::Nat, true);
    net.send(udp(HOST), &invite("carol", PHONE_SDP));
    let (token, q) = relay_query(&mut net);
    assert_eq!((q.op, q.receiver), (RelayOp::Offer, MediaProfile::WebRtc));
    assert_eq!(q.signalled_from.to_string(), HOST);
    net.proxy.handle_query(
        net.now,
        net.wall,
        token,
        QueryAnswer::Sdp(BROWSER_SDP.into()),
    );
    let out = net.out();
    let (to, _) = out.iter().find(|(_, m)| m.is_request()).unwrap();
    assert_eq!(to.transport, Transport::Wss);
}

#[test]
fn the_service_host_and_a_plain_phone_are_never_relayed() {
    // Not for NAT, not with `always`: the host is on this machine.
    let mut net = net_with_host(RelayMode::Always, true);
    net.send(udp(ALICE), &invite("conf-room", PHONE_SDP));
    assert_eq!(requests(&net.out()), [("INVITE".into(), HOST.into())]);
    assert!(net.proxy.poll_query().is_none());
    net.send(
        udp(HOST),
        &invite("bob", PHONE_SDP)
            .replace("z9hG4bKb1", "z9hG4bKh2")
            .replace("call-1", "call-2"),
    );
    assert_eq!(requests(&net.out()), [("INVITE".into(), DESK.into())]);
    assert!(net.proxy.poll_query().is_none());
    assert_eq!(net.proxy.relayed_calls(), 0);
}

#[test]
fn without_a_relay_that_bridges_a_browser_calling_the_service_host_gets_488() {
    let mut net = net_with_host(RelayMode::Nat, false);
    net.send(
        ws(BROWSER),
        &from_browser(&invite("conf-room", BROWSER_SDP)),
    );
    let out = net.out();
    assert!(net.proxy.poll_query().is_none());
    assert!(requests(&out).is_empty(), "{:?}", requests(&out));
    let refusal = &out.iter().find(|(_, m)| m.status() == 488).unwrap().1;
    assert!(refusal.head().contains("rtpengine"), "{}", refusal.head());
    // And the host's call to a browser is refused the same way.
    net.send(
        udp(HOST),
        &invite("carol", PHONE_SDP)
            .replace("z9hG4bKb1", "z9hG4bKh2")
            .replace("call-1", "call-2"),
    );
    let out = net.out();
    assert!(requests(&out).is_empty());
    assert!(out.iter().any(|(_, m)| m.status() == 488));
}

#[test]
fn a_browser_calling_a_user_who_is_away_reaches_his_mailbox_bridged() {
    // Decided on the request side (no phone registered): the leg to the mailbox is the
    // call's first, so its offer passes the relay stage.
    let mut net = net_with_host(RelayMode::Nat, true);
    net.send(ws(BROWSER), &from_browser(&invite("dave", BROWSER_SDP)));
    let (token, q) = relay_query(&mut net);
    assert_eq!((q.op, q.receiver), (RelayOp::Offer, MediaProfile::Rtp));
    net.proxy
        .handle_query(net.now, net.wall, token, QueryAnswer::Sdp(RELAYED.into()));
    let out = net.out();
    assert_eq!(requests(&out), [("INVITE".into(), HOST.into())]);
    let to_host = out.iter().find(|(_, m)| m.is_request()).unwrap().1.clone();
    assert!(
        to_host.request_uri_str().contains("mailbox=dave"),
        "{}",
        to_host.head()
    );
    assert_eq!(body(&to_host), RELAYED);
}
