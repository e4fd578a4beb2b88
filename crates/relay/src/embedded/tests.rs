//! The embedded relay on loopback: two UDP sockets play the parties.

#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::*;

const LO: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// A range of `pairs` free port pairs for one test (`slot` keeps tests apart).
fn relay(slot: u16, pairs: u16, timeout: Duration) -> EmbeddedRelay {
    let first = 41_000 + (std::process::id() % 400) as u16 * 40 + slot * 8;
    EmbeddedRelay::start(EmbeddedConfig {
        bind_address: LO,
        advertised_address: LO,
        first_port: first & !1,
        last_port: (first & !1) + pairs * 2 - 1,
        timeout,
        threads: 1,
    })
    .unwrap()
}

fn party() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

fn request(tag: &str, to_tag: Option<&str>, sdp: String) -> RelayRequest {
    RelayRequest {
        call: CallKey {
            call_id: "c1".into(),
            from_tag: tag.into(),
        },
        to_tag: to_tag.map(Into::into),
        sdp,
        signalled_from: "127.0.0.1:5060".parse().unwrap(),
        receiver: Profile::Rtp,
    }
}

fn block<T>(f: RelayFuture<'_, T>) -> Result<T, RelayError> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn rtp(seq: u16) -> [u8; 172] {
    let mut p = [0u8; 172];
    p[0] = 0x80;
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p
}

fn port_in(sdp: &str) -> u16 {
    sdp_rewrite::parse(sdp).unwrap()[0].rtp.port()
}

#[test]
fn relays_both_ways_latches_and_counts() {
    let r = relay(0, 4, Duration::from_secs(60));
    let alice = party();
    let bob = party();
    // Alice's SDP names a port nobody listens on: only latching gets bob's audio to her.
    let to_bob = block(r.offer(request("a", None, sdp(9)))).unwrap();
    let bob_rtcp = party();
    let bob_sdp = sdp(bob.local_addr().unwrap().port()).replace(
        "a=rtpmap:0 PCMU/8000\r\n",
        &format!(
            "a=rtpmap:0 PCMU/8000\r\na=rtcp:{}\r\n",
            bob_rtcp.local_addr().unwrap().port()
        ),
    );
    let to_alice = block(r.answer(request("a", Some("b"), bob_sdp))).unwrap();
    let relay_for_alice = SocketAddr::new(LO, port_in(&to_alice));
    let relay_for_bob = SocketAddr::new(LO, port_in(&to_bob));
    assert_ne!(relay_for_alice, relay_for_bob);
    assert_eq!(
        r.ports("c1", 0),
        Some((relay_for_alice.port(), relay_for_bob.port()))
    );

    let mut buf = [0u8; 2048];
    // Alice -> bob: seq 1, 2, then 5 (two lost).
    for seq in [1, 2, 5] {
        alice.send_to(&rtp(seq), relay_for_alice).unwrap();
        let (n, from) = bob.recv_from(&mut buf).unwrap();
        assert_eq!(n, 172);
        assert_eq!(
            from, relay_for_bob,
            "bob gets it from the relay's port for him"
        );
        assert_eq!(u16::from_be_bytes([buf[2], buf[3]]), seq);
    }
    // Bob -> alice reaches the address her packets came from, not her SDP's port 9.
    bob.send_to(&rtp(100), relay_for_bob).unwrap();
    let (n, from) = alice.recv_from(&mut buf).unwrap();
    assert_eq!((n, from), (172, relay_for_alice));
    assert_eq!(
        r.latched("c1", 0),
        Some((
            Some(alice.local_addr().unwrap()),
            Some(bob.local_addr().unwrap())
        ))
    );
    // RTCP on the port above, to where bob's a=rtcp says.
    alice
        .send_to(
            b"\x81\xc8rtcp",
            SocketAddr::new(LO, relay_for_alice.port() + 1),
        )
        .unwrap();
    let (n, from) = bob_rtcp.recv_from(&mut buf).unwrap();
    assert_eq!((n, from.port()), (6, relay_for_bob.port() + 1));

    let totals = r.totals();
    assert_eq!(totals.calls_active, 1);
    assert_eq!(totals.packets, 4);
    let stats = block(r.delete(CallKey {
        call_id: "c1".into(),
        from_tag: "a".into(),
    }))
    .unwrap();
    assert_eq!(stats.packets_to_callee, 3);
    assert_eq!(stats.packets_to_caller, 1);
    assert_eq!(stats.packets_lost, 2);
    assert_eq!(stats.bytes_to_callee, 3 * 172);
    assert_eq!(r.totals().calls_active, 0);
    assert_eq!(r.totals().calls_total, 1);
    assert_eq!(
        block(r.delete(CallKey {
            call_id: "c1".into(),
            from_tag: "a".into()
        })),
        Err(RelayError::UnknownCall)
    );
}

#[test]
fn a_reoffer_from_the_callee_is_relayed_the_other_way() {
    let r = relay(1, 4, Duration::from_secs(60));
    let to_bob = block(r.offer(request("a", None, sdp(4000)))).unwrap();
    let to_alice = block(r.answer(request("a", Some("b"), sdp(5000)))).unwrap();
    // Bob re-INVITEs: From tag b, To tag a. The SDP alice gets names her side again.
    let reoffer = block(r.offer(request("b", Some("a"), sdp(5002)))).unwrap();
    assert_eq!(port_in(&reoffer), port_in(&to_alice));
    let reanswer = block(r.answer(request("b", Some("a"), sdp(4002)))).unwrap();
    assert_eq!(port_in(&reanswer), port_in(&to_bob));
    // The callee's tag ends the call too.
    assert!(block(r.delete(CallKey {
        call_id: "c1".into(),
        from_tag: "b".into()
    }))
    .is_ok());
}

#[test]
fn refusals_know_their_answer() {
    let r = relay(2, 2, Duration::from_secs(60));
    assert_eq!(
        block(r.answer(request("a", Some("b"), sdp(4000)))),
        Err(RelayError::UnknownCall)
    );
    let mut webrtc = request("a", None, sdp(4000));
    webrtc.receiver = Profile::WebRtc;
    assert!(matches!(block(r.offer(webrtc)), Err(RelayError::BadSdp(_))));
    assert!(matches!(
        block(r.offer(request("a", None, "v=0\r\n".into()))),
        Err(RelayError::BadSdp(_))
    ));
    // Two pairs: one call. The second is refused (503) and holds nothing.
    block(r.offer(request("a", None, sdp(4000)))).unwrap();
    let mut other = request("x", None, sdp(4000));
    other.call.call_id = "c2".into();
    assert_eq!(block(r.offer(other)), Err(RelayError::NoPorts));
    assert_eq!(r.totals().refused_no_ports, 1);
    assert_eq!(r.totals().calls_active, 1);
}

#[test]
fn a_silent_call_times_out_and_gives_its_ports_back() {
    let r = relay(3, 2, Duration::from_millis(300));
    block(r.offer(request("a", None, sdp(4000)))).unwrap();
    let give_up = Instant::now() + Duration::from_secs(10);
    while r.totals().calls_timed_out == 0 {
        assert!(Instant::now() < give_up, "the silent call was not ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(r.totals().calls_active, 0);
    // Its ports are free again: a new call gets them.
    let mut next = request("x", None, sdp(4000));
    next.call.call_id = "c2".into();
    assert!(block(r.offer(next)).is_ok());
}
