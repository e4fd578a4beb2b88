//! The rtpengine `ng` client against a real rtpengine (Debian's `rtpengine-daemon`),
//! started by the test in the foreground, in userspace mode (`--table=-1`, no kernel
//! module), on loopback only. Two RTP peers in the test offer and answer through it,
//! then send RTP both ways: each receives the other's packets, relayed by rtpengine
//! from the ports the rewritten SDPs name; `delete` counts them per direction.
//!
//! Without rtpengine installed the test says it did not run, unless
//! `SWITCHBOARD_REQUIRE_RTPENGINE=1` (scripts/test.sh) makes that a failure
//! (`testkit::rtpengine`).
//!
//! ```text
//! alice (UDP :A)            rtpengine (127.0.0.1)              bob (UDP :B)
//!  | offer (m=audio A) ------> X (to bob)                          |
//!  |                          Y (to alice) <------ answer (m=audio B)
//!  |== RTP ==> Y ............ X ==> B ============================>|
//!  |<========= A <== Y ...... X <============================ RTP ==|
//! ```

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use relay::rtpengine::{RtpEngine, RtpEngineConfig};
use relay::{CallKey, MediaRelay, Profile, RelayRequest};
use testkit::rtpengine::Rtpengine;
use tokio::net::UdpSocket;

/// The `m=audio` port of `sdp`.
fn media_port(sdp: &str) -> u16 {
    testkit::sip_phone::sdp_audio_port(sdp).unwrap_or_else(|| panic!("no m=audio in {sdp}"))
}

fn sdp(user: &str, port: u16) -> String {
    format!(
        "v=0\r\no={user} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
    )
}

/// An RTP packet (PCMU) with sequence `seq` whose payload names `who`.
fn rtp(seq: u16, ssrc: u32, who: u8) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend(std::iter::repeat_n(who, 160));
    p
}

/// Sends `count` packets from `from` to `to` and waits until `at` has received them all
/// (each answered by the next, so no send outruns the relay's latching); returns the
/// payload bytes seen.
async fn stream(from: &UdpSocket, to: SocketAddr, at: &UdpSocket, count: u16, who: u8) {
    let mut buf = [0u8; 2048];
    for seq in 0..count {
        from.send_to(&rtp(seq, u32::from(who), who), to)
            .await
            .unwrap();
        let (n, _) = tokio::time::timeout(Duration::from_secs(10), at.recv_from(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("packet {seq} from {who} was not relayed"))
            .unwrap();
        assert_eq!(n, 172, "an RTP header and 160 bytes of PCMU");
        assert_eq!(u16::from_be_bytes([buf[2], buf[3]]), seq);
        assert!(buf[12..n].iter().all(|&b| b == who), "payload changed");
    }
}

#[tokio::test]
async fn rtp_flows_both_ways_through_rtpengine() {
    let Some(daemon) = Rtpengine::start() else {
        return;
    };
    let client = RtpEngine::connect(RtpEngineConfig {
        timeout: Duration::from_secs(20),
        ..RtpEngineConfig::new(daemon.ng)
    })
    .await
    .unwrap();
    // rtpengine is up when it answers (the ping is resent until it does).
    client.ping().await.unwrap();

    let alice = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let bob = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let call = CallKey {
        call_id: format!("daemon-{}", std::process::id()),
        from_tag: "alice-tag".into(),
    };
    let from_alice = client
        .offer(RelayRequest {
            call: call.clone(),
            to_tag: None,
            sdp: sdp("alice", alice.local_addr().unwrap().port()),
            signalled_from: "127.0.0.1:5070".parse().unwrap(),
            receiver: Profile::Rtp,
        })
        .await
        .unwrap();
    assert!(from_alice.contains("RTP/AVP"), "{from_alice}");
    assert!(
        !from_alice.contains("a=candidate"),
        "ICE removed: {from_alice}"
    );
    let to_bob_port = media_port(&from_alice);
    assert_ne!(to_bob_port, alice.local_addr().unwrap().port());

    let from_bob = client
        .answer(RelayRequest {
            call: call.clone(),
            to_tag: Some("bob-tag".into()),
            sdp: sdp("bob", bob.local_addr().unwrap().port()),
            signalled_from: "127.0.0.1:5080".parse().unwrap(),
            receiver: Profile::Rtp,
        })
        .await
        .unwrap();
    let to_alice_port = media_port(&from_bob);
    assert_ne!(to_alice_port, bob.local_addr().unwrap().port());

    // alice sends to the port the answer gave her; bob gets it. And back.
    let relay_for_alice: SocketAddr = ([127, 0, 0, 1], to_alice_port).into();
    let relay_for_bob: SocketAddr = ([127, 0, 0, 1], to_bob_port).into();
    stream(&alice, relay_for_alice, &bob, 50, b'a').await;
    stream(&bob, relay_for_bob, &alice, 40, b'b').await;

    let stats = client.delete(call.clone()).await.unwrap();
    assert_eq!(stats.packets_to_callee, 50, "{stats:?}");
    assert_eq!(stats.packets_to_caller, 40, "{stats:?}");
    // A call rtpengine never saw is an unknown call (481).
    let stranger = CallKey {
        call_id: "never-offered".into(),
        from_tag: "x".into(),
    };
    let unknown = client.delete(stranger).await.unwrap_err();
    assert_eq!(unknown.status(), 481, "{unknown:?}");
    drop(daemon);
}
