//! Issue 19, slice 3: SIP over WebSocket (RFC 7118). A WebSocket client in the test
//! (tokio-tungstenite, as a browser phone would: subprotocol `sip`, an `.invalid`
//! Contact, Via `SIP/2.0/WS`) registers, then a SIPp phone calls it: the INVITE reaches
//! the browser over the connection it registered from. An upgrade from an Origin not in
//! `[sip] ws_origins` is refused.
//!
//! ```text
//! carol (SIPp, UDP)          Switchboard (ws:127.0.0.1:W)        alice (WebSocket)
//!  |                               |<== REGISTER (Contact ...invalid) ==|
//!  |                               |=== 200 ==========================>|
//!  |-- INVITE alice -------------->|=== INVITE (same connection) =====>|
//!  |<-- 180, 200 ------------------|<== 180, 200 =======================|
//!  |-- ACK, BYE ------------------>|=== ACK, BYE =====================>|
//!  |<-- 200 -----------------------|<== 200 ===========================|
//! ```

#![allow(clippy::unwrap_used)] // helpers of the tests below

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use testkit::location::contacts;
use testkit::open::{caller, phone};
use testkit::ports::free_port;
use testkit::server::{Options, Server, DOMAIN};
use testkit::wait::HANG_GUARD;

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

const ORIGIN: &str = "https://phone.example.com";

type Ws = WebSocketStream<TcpStream>;

/// Opens a WebSocket to `port` offering the `sip` subprotocol from `origin`.
async fn connect(port: u16, origin: &str) -> Result<Ws, String> {
    let mut req = format!("ws://127.0.0.1:{port}")
        .into_client_request()
        .unwrap();
    let h = req.headers_mut();
    h.insert("sec-websocket-protocol", HeaderValue::from_static("sip"));
    h.insert("origin", HeaderValue::from_str(origin).unwrap());
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    match tokio_tungstenite::client_async(req, tcp).await {
        Ok((ws, resp)) => {
            assert_eq!(
                resp.headers()
                    .get("sec-websocket-protocol")
                    .map(|v| v.to_str().unwrap()),
                Some("sip")
            );
            Ok(ws)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The next SIP message on the socket (bounded wait).
async fn next(ws: &mut Ws) -> String {
    loop {
        let m = tokio::time::timeout(HANG_GUARD, ws.next())
            .await
            .expect("no message from the server")
            .expect("the server closed the WebSocket")
            .unwrap();
        match m {
            Message::Text(t) => return t.as_str().to_string(),
            Message::Binary(b) => return String::from_utf8_lossy(&b).to_string(),
            _ => continue,
        }
    }
}

async fn send(ws: &mut Ws, msg: String) {
    ws.send(Message::text(msg)).await.unwrap();
}

/// The header lines of `msg` named `name` (case-insensitive), whole.
fn lines<'a>(msg: &'a str, name: &str) -> Vec<&'a str> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    msg.split("\r\n")
        .take_while(|l| !l.is_empty())
        .filter(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .collect()
}

/// A response to `req` as a UA builds it (RFC 3261 §8.2.6): its Vias, From, Call-ID,
/// CSeq and Record-Routes, the To with our tag.
fn respond(req: &str, status: &str, extra: &str) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for name in ["Via", "Record-Route", "From", "Call-ID", "CSeq"] {
        for l in lines(req, name) {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    let to = lines(req, "To")[0];
    out.push_str(to);
    if !to.contains("tag=") {
        out.push_str(";tag=ws-alice");
    }
    out.push_str("\r\n");
    out.push_str(extra);
    out.push_str("Content-Length: 0\r\n\r\n");
    out
}

fn server() -> (Server, u16) {
    // This test's WebSocket phone speaks plain RTP/AVP, not WebRTC: the relay stage would
    // take it for a browser to bridge (issue 19, docs/webrtc.md).
    server_with("[relay]\nmode = \"never\"\n")
}

/// [`server`] with `extra` settings.
fn server_with(extra: &str) -> (Server, u16) {
    let ws = free_port();
    let node = Server::start(
        BIN,
        Options {
            extra_listen: vec![format!("ws:127.0.0.1:{ws}")],
            sip: format!("ws_origins = [{ORIGIN:?}]\n"),
            extra: extra.into(),
            ..Options::default()
        },
    );
    (node, ws)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_phone_registers_and_is_called_over_its_connection() {
    let (node, port) = server();
    let mut alice = connect(port, ORIGIN).await.unwrap();
    send(
        &mut alice,
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKws-reg-1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@example.com>;tag=ws-r1\r\n\
         To: <sip:alice@example.com>\r\n\
         Call-ID: ws-reg-1\r\n\
         CSeq: 1 REGISTER\r\n\
         Contact: <sip:k2l7@df7jal23ls0d.invalid;transport=ws>;expires=300\r\n\
         Content-Length: 0\r\n\r\n"
            .into(),
    )
    .await;
    let answer = next(&mut alice).await;
    assert!(answer.starts_with("SIP/2.0 200"), "{answer}");
    let bound = contacts(&node, "alice");
    assert_eq!(bound, ["sip:k2l7@df7jal23ls0d.invalid;transport=ws"]);

    // carol calls alice: the INVITE comes down alice's WebSocket.
    let carol = caller(
        &node,
        "carol-calls",
        "uac-invite-noauth-expect-200.xml",
        "alice",
    )
    .key("caller", "carol")
    .key("from_domain", DOMAIN)
    .key("to_domain", DOMAIN)
    .spawn();
    let invite = next(&mut alice).await;
    assert!(
        invite.starts_with("INVITE sip:k2l7@df7jal23ls0d.invalid;transport=ws SIP/2.0"),
        "{invite}"
    );
    let via = lines(&invite, "Via")[0];
    assert!(via.starts_with("Via: SIP/2.0/WS 127.0.0.1:"), "{via}");
    let rr = lines(&invite, "Record-Route").join("\n");
    assert!(rr.contains(&format!(":{port};transport=ws;lr")), "{rr}");
    send(&mut alice, respond(&invite, "180 Ringing", "")).await;
    let contact = "Contact: <sip:k2l7@df7jal23ls0d.invalid;transport=ws>\r\n";
    send(&mut alice, respond(&invite, "200 OK", contact)).await;
    let ack = next(&mut alice).await;
    assert!(ack.starts_with("ACK "), "{ack}");
    let bye = next(&mut alice).await;
    assert!(bye.starts_with("BYE "), "{bye}");
    send(&mut alice, respond(&bye, "200 OK", "")).await;
    let carol = tokio::task::spawn_blocking(move || carol.wait())
        .await
        .unwrap();
    carol.assert_ok("carol's call to the WebSocket phone");
    let log = node.log_text();
    assert!(log.contains("source=ws:127.0.0.1:"), "{log}");
    assert!(log.contains("call answered"), "{log}");
}

/// The WebSocket phone calls bob, a SIPp phone registered over UDP: INVITE, 180/200,
/// ACK and BYE cross from the WebSocket to UDP and back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_phone_calls_a_sipp_phone() {
    let (node, port) = server();
    let (_, bob) = phone(&node, "bob", "uas-answer-200.xml");
    let bob = bob.spawn();
    let mut alice = connect(port, ORIGIN).await.unwrap();
    let via = "Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKws-inv-1\r\n";
    let dialog = "From: <sip:alice@example.com>;tag=ws-c1\r\n\
                  Call-ID: ws-call-1\r\n";
    let sdp = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
               t=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    send(
        &mut alice,
        format!(
            "INVITE sip:bob@example.com SIP/2.0\r\n{via}Max-Forwards: 70\r\n{dialog}\
             To: <sip:bob@example.com>\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:k2l7@df7jal23ls0d.invalid;transport=ws>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        ),
    )
    .await;
    let ok = loop {
        let m = next(&mut alice).await;
        let status = &m[8..11];
        assert!(["100", "180", "200"].contains(&status), "{m}");
        if status == "200" {
            break m;
        }
    };
    // In the dialog: the route set from the 200's Record-Route, the target its Contact.
    let mut route: Vec<&str> = lines(&ok, "Record-Route")
        .iter()
        .map(|l| l.trim_start_matches("Record-Route:").trim())
        .collect();
    route.reverse();
    let target = lines(&ok, "Contact")[0]
        .trim_start_matches("Contact:")
        .trim()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    let to = lines(&ok, "To")[0];
    let in_dialog = |method: &str, cseq: u32, branch: &str| {
        format!(
            "{method} {target} SIP/2.0\r\n\
             Via: SIP/2.0/WS df7jal23ls0d.invalid;branch={branch}\r\n\
             Max-Forwards: 70\r\nRoute: {}\r\n{dialog}{to}\r\nCSeq: {cseq} {method}\r\n\
             Content-Length: 0\r\n\r\n",
            route.join(", ")
        )
    };
    send(&mut alice, in_dialog("ACK", 1, "z9hG4bKws-ack-1")).await;
    send(&mut alice, in_dialog("BYE", 2, "z9hG4bKws-bye-1")).await;
    let bye_ok = next(&mut alice).await;
    assert!(bye_ok.starts_with("SIP/2.0 200"), "{bye_ok}");
    assert!(bye_ok.contains("CSeq: 2 BYE"), "{bye_ok}");
    let bob = tokio::task::spawn_blocking(move || bob.wait())
        .await
        .unwrap();
    bob.assert_ok("bob answers the WebSocket phone's call");
    let invite = &bob.find(false, "INVITE")[0];
    assert!(invite.contains("Via: SIP/2.0/UDP"), "{invite}");
    assert!(node.log_text().contains("hangup=caller"));
}

/// A browser's offer (DTLS-SRTP, ICE) to a plain phone with the embedded relay, which
/// cannot bridge the two (issue 19): 488 naming the backend that can, and a log line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_offer_to_a_plain_phone_without_rtpengine_gets_488() {
    let (node, port) = server_with("");
    // bob is a plain phone registered over UDP (nobody answers: the call never gets there).
    testkit::open::register(&node, "bob", free_port(), 60);
    let mut alice = connect(port, ORIGIN).await.unwrap();
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
               m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n\
               a=ice-ufrag:x\r\na=ice-pwd:yyyyyyyyyyyyyyyyyyyyyy\r\n\
               a=fingerprint:sha-256 AB:CD\r\na=rtcp-mux\r\n";
    send(
        &mut alice,
        format!(
            "INVITE sip:bob@example.com SIP/2.0\r\n\
             Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKws-inv-9\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=ws-c9\r\n\
             Call-ID: ws-call-9\r\nTo: <sip:bob@example.com>\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:k2l7@df7jal23ls0d.invalid;transport=ws>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        ),
    )
    .await;
    let refusal = next(&mut alice).await;
    assert!(refusal.starts_with("SIP/2.0 488 "), "{refusal}");
    assert!(
        refusal.lines().next().unwrap().contains("rtpengine"),
        "{refusal}"
    );
    let log = node.log_text();
    assert!(
        log.contains("cannot talk without [relay] backend"),
        "no log line for the refused call:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_from_another_origin_is_refused() {
    let (node, port) = server();
    let refused = connect(port, "https://evil.example").await;
    let Err(e) = refused else {
        panic!("an upgrade from another origin was accepted");
    };
    assert!(e.contains("403"), "{e}");
    assert!(node.log_text().contains("ws: upgrade refused"));
}
