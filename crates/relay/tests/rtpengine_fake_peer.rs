//! The rtpengine `ng` client against a fake rtpengine on loopback: a UDP socket in the
//! test that reads each request, checks it, and answers as the script says (or not at
//! all). Offer, answer and delete; a lost request resent with the same cookie; a silent
//! rtpengine turned into a 503; an rtpengine error turned into its SIP meaning.
//!
//! ```text
//! client (RtpEngine)                         fake rtpengine (test)
//!  |-- "COOKIE d7:command5:offer..." --------->|
//!  |<- "COOKIE d6:result2:ok3:sdp..." ---------|
//! ```

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use relay::rtpengine::bencode::{dict, Value};
use relay::rtpengine::{ng, RtpEngine, RtpEngineConfig};
use relay::{CallKey, MediaRelay, Profile, RelayError, RelayRequest};
use tokio::net::UdpSocket;

/// A fake rtpengine: its socket and address.
struct Fake {
    socket: UdpSocket,
}

impl Fake {
    async fn start() -> (Fake, SocketAddr) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        (Fake { socket }, addr)
    }

    /// The next request: its raw bytes, cookie, dictionary and sender.
    async fn next(&self) -> (Vec<u8>, String, Value, SocketAddr) {
        let mut buf = vec![0u8; 65_535];
        let (n, from) =
            tokio::time::timeout(Duration::from_secs(30), self.socket.recv_from(&mut buf))
                .await
                .expect("no request reached the fake rtpengine")
                .unwrap();
        let raw = buf[..n].to_vec();
        let (cookie, v) = ng::unframe(&raw).unwrap();
        (raw, cookie, v, from)
    }

    async fn reply(&self, to: SocketAddr, cookie: &str, v: &Value) {
        self.socket
            .send_to(&ng::frame(cookie, v), to)
            .await
            .unwrap();
    }
}

fn config(addr: SocketAddr) -> RtpEngineConfig {
    RtpEngineConfig {
        retransmit: Duration::from_millis(50),
        timeout: Duration::from_millis(400),
        ..RtpEngineConfig::new(addr)
    }
}

fn call() -> CallKey {
    CallKey {
        call_id: "call-1@example.com".into(),
        from_tag: "alice-tag".into(),
    }
}

fn request(to_tag: Option<&str>, receiver: Profile) -> RelayRequest {
    RelayRequest {
        call: call(),
        to_tag: to_tag.map(str::to_string),
        sdp: "v=0\r\nc=IN IP4 10.0.0.7\r\nm=audio 4000 RTP/AVP 0\r\n".into(),
        signalled_from: "127.0.0.1:5070".parse().unwrap(),
        receiver,
    }
}

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn ok_sdp(sdp: &str) -> Value {
    dict([("result", Value::text("ok")), ("sdp", Value::text(sdp))])
}

#[tokio::test]
async fn offer_answer_and_delete_go_through_the_ng_protocol() {
    let (fake, addr) = Fake::start().await;
    let client = Arc::new(RtpEngine::connect(config(addr)).await.unwrap());
    assert_eq!(client.name(), "rtpengine");

    let offer = tokio::spawn({
        let c2 = client.clone();
        async move { c2.offer(request(None, Profile::WebRtc)).await }
    });
    let (_, cookie, v, from) = fake.next().await;
    assert_eq!(field(&v, "command"), "offer");
    assert_eq!(field(&v, "call-id"), "call-1@example.com");
    assert_eq!(field(&v, "from-tag"), "alice-tag");
    assert_eq!(field(&v, "transport-protocol"), "UDP/TLS/RTP/SAVPF");
    assert!(field(&v, "sdp").contains("m=audio 4000"));
    fake.reply(from, &cookie, &ok_sdp("v=0\r\nrelayed offer\r\n"))
        .await;
    assert_eq!(offer.await.unwrap().unwrap(), "v=0\r\nrelayed offer\r\n");

    let answer = tokio::spawn({
        let c2 = client.clone();
        async move { c2.answer(request(Some("bob-tag"), Profile::Rtp)).await }
    });
    let (_, cookie2, v, from) = fake.next().await;
    assert_ne!(cookie2, cookie, "each request has its own cookie");
    assert_eq!(field(&v, "command"), "answer");
    assert_eq!(field(&v, "to-tag"), "bob-tag");
    assert_eq!(field(&v, "transport-protocol"), "RTP/AVP");
    fake.reply(from, &cookie2, &ok_sdp("v=0\r\nrelayed answer\r\n"))
        .await;
    assert_eq!(answer.await.unwrap().unwrap(), "v=0\r\nrelayed answer\r\n");

    let delete = tokio::spawn({
        let c2 = client.clone();
        async move { c2.delete(call()).await }
    });
    let (_, cookie3, v, from) = fake.next().await;
    assert_eq!(field(&v, "command"), "delete");
    let streams = |n: i64| {
        dict([(
            "medias",
            Value::List(vec![dict([(
                "streams",
                Value::List(vec![dict([("stats", dict([("packets", Value::Int(n))]))])]),
            )])]),
        )])
    };
    let reply = dict([
        ("result", Value::text("ok")),
        (
            "tags",
            dict([("alice-tag", streams(150)), ("bob-tag", streams(149))]),
        ),
    ]);
    fake.reply(from, &cookie3, &reply).await;
    let stats = delete.await.unwrap().unwrap();
    assert_eq!(stats.packets_to_callee, 150);
    assert_eq!(stats.packets_to_caller, 149);
    assert_eq!(client.pending(), 0);
}

#[tokio::test]
async fn a_lost_request_is_resent_with_the_same_cookie() {
    let (fake, addr) = Fake::start().await;
    let client = Arc::new(
        RtpEngine::connect(RtpEngineConfig {
            timeout: Duration::from_secs(20),
            ..config(addr)
        })
        .await
        .unwrap(),
    );
    let c2 = client.clone();
    let ping = tokio::spawn(async move { c2.ping().await });
    // The first datagram is "lost": not answered. The resend is byte for byte the same.
    let (first, _, _, _) = fake.next().await;
    let (second, cookie, v, from) = fake.next().await;
    assert_eq!(first, second);
    assert_eq!(field(&v, "command"), "ping");
    fake.reply(from, &cookie, &dict([("result", Value::text("pong"))]))
        .await;
    assert_eq!(ping.await.unwrap(), Ok(()));
    assert_eq!(client.pending(), 0);
}

#[tokio::test]
async fn a_silent_rtpengine_makes_the_call_fail_with_503() {
    let (fake, addr) = Fake::start().await;
    let client = RtpEngine::connect(config(addr)).await.unwrap();
    let err = client.offer(request(None, Profile::Rtp)).await.unwrap_err();
    assert!(matches!(err, RelayError::Unavailable(_)), "{err:?}");
    assert_eq!(err.status(), 503);
    assert!(
        err.to_string().contains("no answer from rtpengine"),
        "{err}"
    );
    assert_eq!(client.pending(), 0, "the given-up request left the table");
    // It was resent meanwhile: more than one datagram reached the (silent) peer.
    let (a, ..) = fake.next().await;
    let (b, ..) = fake.next().await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn rtpengine_errors_keep_their_sip_meaning() {
    let (fake, addr) = Fake::start().await;
    let client = Arc::new(RtpEngine::connect(config(addr)).await.unwrap());
    let c2 = client.clone();
    let delete = tokio::spawn(async move { c2.delete(call()).await });
    let (_, cookie, _, from) = fake.next().await;
    let refusal = dict([
        ("result", Value::text("error")),
        ("error-reason", Value::text("Unknown call-id")),
    ]);
    fake.reply(from, &cookie, &refusal).await;
    // A garbage datagram and a reply to an unknown cookie are dropped, not fatal.
    fake.socket.send_to(b"garbage", from).await.unwrap();
    assert_eq!(delete.await.unwrap(), Err(RelayError::UnknownCall));

    let c3 = client.clone();
    let offer = tokio::spawn(async move { c3.offer(request(None, Profile::Rtp)).await });
    let (_, cookie, _, from) = fake.next().await;
    fake.reply(from, "someone-else", &ok_sdp("v=0\r\n")).await;
    let bad = dict([
        ("result", Value::text("error")),
        ("error-reason", Value::text("Failed to parse SDP")),
    ]);
    fake.reply(from, &cookie, &bad).await;
    let err = offer.await.unwrap().unwrap_err();
    assert_eq!(err.status(), 488, "{err:?}");
}
