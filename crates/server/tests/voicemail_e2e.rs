//! Voicemail through the proxy, end to end on the real binary with real media: bob has a
//! mailbox and no phone registered, and his phone subscribes to message-waiting (RFC 3842).
//! Alice (testkit's SIP phone and RTP peer) calls `sip:bob@example.com` at the server's
//! SIP port; the proxy sends the unavailable call to the voicemail service, alice hears the
//! greeting (the RTP she receives decodes to the prompt), leaves 3 s of 1 kHz and hangs up.
//! The CLI lists one new message whose WAV holds that tone (Goertzel), and bob's
//! subscription gets `Voice-Message: 1/0`. Then bob dials `*98` through the proxy, enters
//! his PIN by RFC 4733, hears the tone played back, deletes it with `7`, and the next
//! NOTIFY says `Messages-Waiting: no`.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use testkit::audio;
use testkit::rtp_peer::RtpPeer;
use testkit::server::{Options, Server, DOMAIN};
use testkit::sip_phone::SipPhone;
use testkit::udp::RawUdp;
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// How long the default greeting prompt is.
const GREETING_MS: u32 = 1500;

/// Prompts: the default greeting is a chirp (found again by correlation), every other
/// prompt a short tone of its own, the digits short high tones.
fn write_prompts(dir: &std::path::Path) -> Vec<i16> {
    audio::write_test_prompts(dir, &services::VOICEMAIL_PROMPTS, GREETING_MS)
}

/// Bob's phone subscribed to his own mailbox (`Event: message-summary`), by hand over UDP:
/// it answers every NOTIFY 200 and keeps them (and a refusal of the SUBSCRIBE).
struct MwiPhone {
    notifies: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    listener: Option<JoinHandle<()>>,
}

impl MwiPhone {
    fn subscribe(server: SocketAddr, user: &str) -> MwiPhone {
        let udp = RawUdp::bind("127.0.0.1:0".parse().unwrap());
        let me = udp.sock.local_addr().unwrap();
        let subscribe = format!(
            "SUBSCRIBE sip:{user}@{DOMAIN} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {me};branch=z9hG4bK-mwi-{}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:{user}@{DOMAIN}>;tag=mwi{}\r\n\
             To: <sip:{user}@{DOMAIN}>\r\n\
             Call-ID: mwi-{}-{}\r\n\
             CSeq: 1 SUBSCRIBE\r\n\
             Contact: <sip:{user}@{me}>\r\n\
             Event: message-summary\r\n\
             Accept: application/simple-message-summary\r\n\
             Expires: 3600\r\n\
             Content-Length: 0\r\n\r\n",
            me.port(),
            me.port(),
            me.port(),
            std::process::id()
        );
        udp.send(server, subscribe.as_bytes());
        let notifies = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (n, s) = (notifies.clone(), stop.clone());
        let listener = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Some(msg) = udp.recv(Duration::from_millis(200)) else {
                    continue;
                };
                if let Some(status) = testkit::udp::status_of(&msg) {
                    if status >= 300 {
                        // wait_notify fails the test with it.
                        n.lock().unwrap().push(msg);
                    }
                    continue;
                }
                if !msg.starts_with("NOTIFY ") {
                    continue;
                }
                let mut answer = String::from("SIP/2.0 200 OK\r\n");
                let head = msg.split("\r\n\r\n").next().unwrap_or("");
                for line in head.lines().skip(1) {
                    let name = line.split(':').next().unwrap_or("").trim();
                    if ["Via", "From", "To", "Call-ID", "CSeq"]
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(name))
                    {
                        answer.push_str(line);
                        answer.push_str("\r\n");
                    }
                }
                answer.push_str("Content-Length: 0\r\n\r\n");
                udp.send(server, answer.as_bytes());
                n.lock().unwrap().push(msg);
            }
        });
        MwiPhone {
            notifies,
            stop,
            listener: Some(listener),
        }
    }

    /// Waits until a NOTIFY holding `needle` has come, after the first `after` NOTIFYs;
    /// returns how many NOTIFYs there are by then.
    fn wait_notify(&self, after: usize, needle: &str) -> usize {
        let mut count = 0;
        wait_until(&format!("a NOTIFY with {needle:?}"), HANG_GUARD, || {
            let n = self.notifies.lock().unwrap();
            if let Some(refusal) = n.iter().find(|m| m.starts_with("SIP/2.0")) {
                panic!("SUBSCRIBE refused: {refusal}");
            }
            count = n.len();
            n.iter().skip(after).any(|m| m.contains(needle))
        });
        count
    }
}

impl Drop for MwiPhone {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(l) = self.listener.take() {
            let _ = l.join();
        }
    }
}

/// Waits until the phone has heard `ms` of audio after the first sound.
fn heard_after_first_sound(peer: &RtpPeer, ms: u32) {
    wait_until("the phone to hear the prompt", HANG_GUARD, || {
        let h = peer.heard();
        let first = h.samples.iter().position(|s| s.unsigned_abs() > 200);
        first.is_some_and(|f| h.samples.len() >= f + (ms * 8) as usize)
    });
}

#[test]
fn a_call_through_the_proxy_leaves_a_message_that_bob_hears_and_deletes() {
    let prompts = tempfile::tempdir().unwrap();
    let greeting = write_prompts(prompts.path());
    let services_port = testkit::ports::free_port();
    let rtp = 24000 + (std::process::id() % 300) as u16 * 20;
    let opts = Options {
        extra: format!(
            "[media]\nenabled = true\nservice_listen = \"127.0.0.1:{services_port}\"\n\
             bind_address = \"127.0.0.1\"\nrtp_ports = \"{rtp}-{}\"\n\n\
             [voicemail]\nprompts_dir = {:?}\n",
            rtp + 19,
            prompts.path().display().to_string()
        ),
        ..Options::default()
    };
    let server = Server::start(BIN, opts);
    let proxy = server.socket_addr();
    let bob = format!("bob@{DOMAIN}");
    server.cli(&["voicemail", "enable", &bob, "--pin", "1234"]);

    // 1. Bob's phone subscribes to his mailbox: NOTIFY 0/0 at once.
    let mwi = MwiPhone::subscribe(proxy, "bob");
    let seen = mwi.wait_notify(0, "Voice-Message: 0/0");

    // 2. Alice calls bob through the proxy; no phone of his is registered: voicemail.
    let mut peer = RtpPeer::bind();
    let mut alice = SipPhone::new(proxy, "alice");
    let ok = alice.invite(
        &format!("sip:bob@{DOMAIN}"),
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(ok.status(), 200, "{}", ok.text);
    assert!(
        !ok.headers("Record-Route").is_empty(),
        "the 200 came through the proxy: {}",
        ok.text
    );
    let media = ok.sdp_rtp_addr().unwrap();
    // The greeting, then the 400 ms beep, then recording starts.
    heard_after_first_sound(&peer, GREETING_MS + 400 + 100);
    let c = audio::clip_correlation(&peer.heard().samples, &greeting, 8 * GREETING_MS as usize);
    assert!(c > 0.95, "alice did not hear the greeting: correlation {c}");
    peer.send_audio(media, &audio::tone(1000.0, 3000, 8000.0));
    assert_eq!(alice.bye(), 200);

    // 3. One new message holding ~3 s of 1 kHz; bob's phone is told.
    let seen = mwi.wait_notify(seen, "Voice-Message: 1/0");
    let list: serde_json::Value =
        serde_json::from_str(&server.cli(&["--json", "voicemail", "list", &bob])).unwrap();
    let messages = list["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{list}");
    let m = &messages[0];
    assert_eq!(m["status"], "new", "{list}");
    assert_eq!(m["caller"], format!("sip:alice@{DOMAIN}"), "{list}");
    let duration = m["duration"].as_u64().unwrap();
    assert!((3..=4).contains(&duration), "{list}");
    let file = std::path::PathBuf::from(m["file"].as_str().unwrap());
    let secs = audio::tone_seconds(&audio::read_wav(&file), 1000.0);
    assert!(
        (2.8..=3.1).contains(&secs),
        "{secs} s of 1 kHz in the message"
    );

    // 4. Bob dials *98 through the proxy, PIN by RFC 4733, hears the tone, deletes it.
    let mut peer = RtpPeer::bind();
    let mut phone = SipPhone::new(proxy, "bob");
    let ok = phone.invite(
        &format!("sip:*98@{DOMAIN}"),
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(ok.status(), 200, "{}", ok.text);
    let media = ok.sdp_rtp_addr().unwrap();
    heard_after_first_sound(&peer, 150); // "enter your PIN" started
    for d in ['1', '2', '3', '4', '#'] {
        peer.send_digit(media, d, 101);
    }
    wait_until("the message's 1 kHz tone played back", HANG_GUARD, || {
        audio::tone_seconds(&peer.heard().samples, 1000.0) >= 2.5
    });
    peer.send_digit(media, '7', 101);
    mwi.wait_notify(seen, "Messages-Waiting: no");
    mwi.wait_notify(seen, "Voice-Message: 0/0");
    // After the last message: goodbye, and the service hangs up through the proxy.
    assert!(phone.expect_request("BYE", HANG_GUARD).is_some());
    let list: serde_json::Value =
        serde_json::from_str(&server.cli(&["--json", "voicemail", "list", &bob])).unwrap();
    assert_eq!(list["messages"].as_array().unwrap().len(), 0, "{list}");
    assert!(!file.exists(), "the message's file is removed");
}
