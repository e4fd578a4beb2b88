//! Voicemail through the proxy, end to end on the real binary with real media, for each way
//! a call reaches the mailbox (bob **busy**: his phone answers 486; **no answer**: it rings
//! past the mailbox's `--after`; **unavailable**: no phone registered) and on each
//! database (SQLite, MariaDB, PostgreSQL).
//!
//! ```text
//! Alice (RtpPeer)        Switchboard (proxy + voicemail)          Bob's phone (SIPp)
//!  |--- INVITE bob -------->|--- INVITE ------------------------------->|
//!  |                        |<-- 486 Busy Here -------------------------|
//!  |                        |--- INVITE voicemail (in-process) --+      |
//!  |<-- 200 (Record-Route) -|<----------------------------------+      |
//!  |<== greeting, beep =====|                                           |
//!  |=== 3 s of 1 kHz ======>|  WAV + row; NOTIFY 1/0 -> bob's MWI phone |
//!  |--- BYE --------------->|                                           |
//! Bob: INVITE *98, PIN 1234# by RFC 4733, hears the 1 kHz, presses 7 -> NOTIFY "no".
//! ```
//!
//! Alice is testkit's SIP phone and in-process RTP peer; one variant has Debian's
//! `baresip` (its `aufile` module plays a 1 kHz WAV as microphone, `sndfile` keeps what it
//! decoded) as alice, through the proxy. Every variant checks that the caller heard the
//! greeting (what it decoded correlates with the prompt), that the stored WAV holds about
//! 3 s of 1 kHz (Goertzel), that the row is in the database (`voicemail list`), and that
//! bob's subscribed phone got `Voice-Message: 1/0`; every variant then retrieves and
//! deletes the message by `*98` (the baresip variant from bob's own baresip, keying DTMF
//! by its `sndcode` command over `ctrl_tcp`) and sees `Messages-Waiting: no`. A last test has the
//! refusals through the proxy: no common codec (`488`) and wrong PINs locking the mailbox.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use testkit::audio;
use testkit::database::TempDatabase;
use testkit::open::register;
use testkit::ports::free_port;
use testkit::rtp_peer::RtpPeer;
use testkit::server::{Options, Server, DOMAIN};
use testkit::sip_phone::SipPhone;
use testkit::sipp::{Background, Sipp};
use testkit::softphone::{write_tone, Baresip};
use testkit::udp::RawUdp;
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// How long the default greeting prompt is.
const GREETING_MS: u32 = 1500;

/// Why bob does not answer himself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Away {
    /// His phone answers 486 Busy Here.
    Busy,
    /// His phone rings and is never picked up (voicemail after `--after 1`).
    NoAnswer,
    /// No phone of his is registered.
    Unavailable,
}

/// Prompts: the default greeting is a chirp (found again by correlation), every other
/// prompt a short tone of its own, the digits short high tones.
fn write_prompts(dir: &std::path::Path) -> Vec<i16> {
    audio::write_test_prompts(dir, &services::VOICEMAIL_PROMPTS, GREETING_MS)
}

/// A server with the media service host and voicemail on, on `db` (SQLite when None),
/// with bob's mailbox (PIN 1234, ring time 1 s).
fn start_server(prompts: &std::path::Path, db: Option<&TempDatabase>) -> Server {
    // Tests of this binary run in parallel: each takes its own slice of RTP ports.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) % 8;
    let rtp = 24000 + (std::process::id() % 40) as u16 * 160 + n * 20;
    let services_port = free_port();
    let opts = Options {
        extra: format!(
            "[media]\nenabled = true\nservice_listen = \"127.0.0.1:{services_port}\"\n\
             bind_address = \"127.0.0.1\"\nrtp_ports = \"{rtp}-{}\"\n\n\
             [voicemail]\nprompts_dir = {:?}\n",
            rtp + 19,
            prompts.display().to_string()
        ),
        db_url: db.map(|d| d.url.clone()),
        ..Options::default()
    };
    let server = Server::start(BIN, opts);
    let bob = format!("bob@{DOMAIN}");
    server.cli(&["voicemail", "enable", &bob, "--pin", "1234", "--after", "1"]);
    server
}

/// Bob's phone, registered and playing the part `away` asks for (None: unavailable).
fn bobs_phone(server: &Server, away: Away) -> Option<Background> {
    let scenario = match away {
        Away::Busy => "uas-answer-486.xml",
        Away::NoAnswer => "uas-ring-cancel-487.xml",
        Away::Unavailable => return None,
    };
    let port = free_port();
    register(server, "bob", port, 300);
    Some(
        Sipp::new(server, &format!("bob-{port}"), scenario, port)
            .service("bob")
            .spawn(),
    )
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

/// Bob's mailbox as `voicemail list --json` shows it.
fn bobs_mailbox(server: &Server) -> serde_json::Value {
    let bob = format!("bob@{DOMAIN}");
    serde_json::from_str(&server.cli(&["--json", "voicemail", "list", &bob])).unwrap()
}

/// The one message in bob's mailbox (`voicemail list --json`): checks it is new, from
/// alice, about 3 s long and holds about 3 s of 1 kHz; returns its file.
fn the_new_message(server: &Server) -> std::path::PathBuf {
    let list = bobs_mailbox(server);
    let messages = list["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{list}");
    let m = &messages[0];
    assert_eq!(m["status"], "new", "{list}");
    assert_eq!(m["caller"], format!("sip:alice@{DOMAIN}"), "{list}");
    let file = std::path::PathBuf::from(m["file"].as_str().unwrap());
    let secs = audio::tone_seconds(&audio::read_wav(&file), 1000.0);
    let duration = m["duration"].as_u64().unwrap();
    assert!(file.exists(), "{list}");
    assert!(
        (2.8..=3.1).contains(&secs) && (3..=4).contains(&duration),
        "{secs} s of 1 kHz in the message, row says {duration} s: {list}"
    );
    file
}

/// The whole flow with alice as testkit's phone and RTP peer: deposit through the proxy
/// while bob is `away`, then retrieval by `*98` and deletion.
fn deposit_and_retrieve(away: Away, db: Option<&TempDatabase>) {
    let prompts = tempfile::tempdir().unwrap();
    let greeting = write_prompts(prompts.path());
    let server = start_server(prompts.path(), db);
    let proxy = server.socket_addr();

    // 1. Bob's phone subscribes to his mailbox: NOTIFY 0/0 at once.
    let mwi = MwiPhone::subscribe(proxy, "bob");
    let seen = mwi.wait_notify(0, "Voice-Message: 0/0");
    let phone = bobs_phone(&server, away);

    // 2. Alice calls bob through the proxy; he does not answer: voicemail does.
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
    if let Some(phone) = phone {
        // Bob's phone saw the call (and answered 486, or rang until the proxy's CANCEL).
        phone.wait().assert_ok(&format!("bob's phone, {away:?}"));
    }
    let media = ok.sdp_rtp_addr().unwrap();
    // The greeting, then the 400 ms beep, then recording starts.
    peer.heard_after_first_sound((GREETING_MS + 400 + 100) as usize);
    let c = audio::clip_correlation(&peer.heard().samples, &greeting, 8 * GREETING_MS as usize);
    assert!(c > 0.95, "alice did not hear the greeting: correlation {c}");
    peer.send_audio(media, &audio::tone(1000.0, 3000, 8000.0));
    assert_eq!(alice.bye(), 200);

    // 3. One new message holding ~3 s of 1 kHz; bob's phone is told.
    let seen = mwi.wait_notify(seen, "Voice-Message: 1/0");
    let file = the_new_message(&server);

    // 4. Bob dials *98 through the proxy, PIN by RFC 4733, hears the tone, deletes it.
    let mut peer = RtpPeer::bind();
    let mut phone = SipPhone::new(proxy, "bob");
    let ok = phone.invite(
        &format!("sip:*98@{DOMAIN}"),
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(ok.status(), 200, "{}", ok.text);
    let media = ok.sdp_rtp_addr().unwrap();
    peer.heard_after_first_sound(150); // "enter your PIN" started
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
    let list = bobs_mailbox(&server);
    assert_eq!(list["messages"].as_array().unwrap().len(), 0, "{list}");
    assert!(!file.exists(), "the message's file is removed");
    let log = server.log_text();
    for line in [
        "voicemail message left",
        "voicemail retrieval: mailbox opened",
        "voicemail message deleted",
        // The deposit's media session: RTCP statistics at hang-up.
        "media session closed",
        "rtcp_sent=",
    ] {
        assert!(log.contains(line), "no `{line}` in the server log:\n{log}");
    }
}

/// The whole flow on a new PostgreSQL (`postgres`) or MariaDB database; skipped when that
/// server is not configured (see `TempDatabase::create`).
fn on_a_database(postgres: bool, away: Away) {
    if let Some(db) = TempDatabase::create(postgres) {
        deposit_and_retrieve(away, Some(&db));
    }
}

#[test]
fn sqlite_busy_call_leaves_a_message_that_bob_hears_and_deletes() {
    deposit_and_retrieve(Away::Busy, None);
}

#[test]
fn sqlite_unavailable_call_leaves_a_message() {
    deposit_and_retrieve(Away::Unavailable, None);
}

#[test]
fn mariadb_busy_call_leaves_a_message_that_bob_hears_and_deletes() {
    on_a_database(false, Away::Busy);
}

#[test]
fn mariadb_unanswered_call_leaves_a_message() {
    on_a_database(false, Away::NoAnswer);
}

#[test]
fn postgres_busy_call_leaves_a_message_that_bob_hears_and_deletes() {
    on_a_database(true, Away::Busy);
}

#[test]
fn postgres_unavailable_call_leaves_a_message() {
    on_a_database(true, Away::Unavailable);
}

/// Debian's baresip as alice, through the proxy, calling busy bob: it hears the greeting
/// and leaves the 1 kHz tone its `aufile` plays; then bob's own baresip dials `*98`, keys
/// the PIN by RFC 4733, hears the tone played back and deletes it (`7`).
#[test]
fn baresip_calls_busy_bob_through_the_proxy_and_leaves_its_tone() {
    if std::process::Command::new("baresip")
        .arg("-h")
        .output()
        .is_err()
    {
        panic!("baresip not installed (apt-get install baresip-core)");
    }
    let prompts = tempfile::tempdir().unwrap();
    let greeting = write_prompts(prompts.path());
    let server = start_server(prompts.path(), None);
    let mwi = MwiPhone::subscribe(server.socket_addr(), "bob");
    let seen = mwi.wait_notify(0, "Voice-Message: 0/0");
    let phone = bobs_phone(&server, Away::Busy);

    let dir = server.dir.path();
    let tone = dir.join("tone-1k.wav");
    write_tone(&tone, 1000.0, 20);
    let mut alice = Baresip::new(
        &dir.join("baresip-alice"),
        "alice",
        DOMAIN,
        "unused",
        &format!("sip:{}", server.addr()),
        &tone,
        false,
    )
    .unregistered_on_loopback();
    // The call lasts until baresip quits (it hangs up then): greeting 1.5 s, beep 0.4 s,
    // then about 5 s of message (the mailbox keeps at most what the limits allow).
    alice.start(
        Duration::from_secs(8),
        &[&format!("/dial sip:bob@{DOMAIN}")],
    );
    alice.wait(HANG_GUARD);
    if let Some(phone) = phone {
        phone.wait().assert_ok("bob's phone answers 486");
    }
    let seen = mwi.wait_notify(seen, "Voice-Message: 1/0");

    let heard = alice.heard();
    let c = audio::clip_correlation(&heard, &greeting, 8 * GREETING_MS as usize);
    assert!(
        c > 0.9,
        "baresip did not hear the greeting: correlation {c}\n{}",
        alice.output()
    );
    let list = bobs_mailbox(&server);
    let messages = list["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{list}");
    assert_eq!(
        messages[0]["caller"],
        format!("sip:alice@{DOMAIN}"),
        "{list}"
    );
    let file = std::path::PathBuf::from(messages[0]["file"].as_str().unwrap());
    let secs = audio::tone_seconds(&audio::read_wav(&file), 1000.0);
    assert!(
        secs >= 3.0,
        "{secs} s of 1 kHz in the message; baresip said:\n{}",
        alice.output()
    );

    // Bob's own baresip dials *98 and keys the PIN, then 7, by RFC 4733 (its `sndcode`
    // command, sent over its `ctrl_tcp` control socket while the call runs).
    let silence = dir.join("silence.wav");
    write_tone(&silence, 0.0, 60);
    let control = free_port();
    let mut bob_phone = Baresip::new(
        &dir.join("baresip-bob"),
        "bob",
        DOMAIN,
        "unused",
        &format!("sip:{}", server.addr()),
        &silence,
        false,
    )
    .unregistered_on_loopback()
    .with_control(control);
    bob_phone.start(HANG_GUARD, &[&format!("/dial sip:*98@{DOMAIN}")]);
    wait_until("bob's baresip to hear the PIN prompt", HANG_GUARD, || {
        bob_phone
            .heard_so_far()
            .iter()
            .any(|s| s.unsigned_abs() > 200)
    });
    for d in ["1", "2", "3", "4", "#"] {
        let answer = Baresip::command(control, &format!("sndcode {d}"));
        assert!(answer.contains("true"), "sndcode {d}: {answer}");
    }
    wait_until(
        "the message's 1 kHz tone played back to bob's baresip",
        HANG_GUARD,
        || audio::tone_seconds(&bob_phone.heard_so_far(), 1000.0) >= 2.5,
    );
    Baresip::command(control, "sndcode 7");
    mwi.wait_notify(seen, "Messages-Waiting: no");
    let list = bobs_mailbox(&server);
    assert_eq!(list["messages"].as_array().unwrap().len(), 0, "{list}");
    assert!(!file.exists(), "the message's file is removed");
    let log = server.log_text();
    for line in [
        "voicemail retrieval: mailbox opened",
        "voicemail message deleted",
    ] {
        assert!(log.contains(line), "no `{line}` in the server log:\n{log}");
    }
}

/// Refusals through the proxy: a caller offering no common codec reaches busy bob's
/// mailbox and gets the service's `488` (with its `Warning: 305`) relayed by the proxy; then
/// three wrong PINs at `*98` lock bob's mailbox (the service hangs up, and the right PIN
/// is refused while it is locked), each a log line.
#[test]
fn sqlite_refusals_through_the_proxy_no_common_codec_and_wrong_pins() {
    let prompts = tempfile::tempdir().unwrap();
    write_prompts(prompts.path());
    let server = start_server(prompts.path(), None);
    let proxy = server.socket_addr();

    // 488: G.722 only.
    let phone = bobs_phone(&server, Away::Busy);
    let peer = RtpPeer::bind();
    let mut alice = SipPhone::new(proxy, "alice");
    let offer = SipPhone::offer(peer.addr(), "9", "a=rtpmap:9 G722/8000\r\n");
    let r = alice.invite(&format!("sip:bob@{DOMAIN}"), &offer);
    assert_eq!(r.status(), 488, "{}", r.text);
    assert!(
        r.header("Warning").is_some_and(|w| w.starts_with("305")),
        "{}",
        r.text
    );
    if let Some(phone) = phone {
        phone.wait().assert_ok("bob's phone answers 486");
    }

    // Wrong PINs: three lock the mailbox.
    for attempt in 0..2 {
        let mut peer = RtpPeer::bind();
        let mut bob = SipPhone::new(proxy, "bob");
        let ok = bob.invite(
            &format!("sip:*98@{DOMAIN}"),
            &SipPhone::pcmu_offer(peer.addr()),
        );
        assert_eq!(ok.status(), 200, "{}", ok.text);
        let media = ok.sdp_rtp_addr().unwrap();
        peer.heard_after_first_sound(150);
        let digits = if attempt == 0 {
            "9999#9999#9999#"
        } else {
            "1234#"
        };
        for d in digits.chars() {
            peer.send_digit(media, d, 101);
        }
        assert!(
            bob.expect_request("BYE", HANG_GUARD).is_some(),
            "attempt {attempt}: the service did not hang up"
        );
    }
    let log = server.log_text();
    assert!(
        log.contains("service call refused") && log.contains("status=488"),
        "the 488 is the voicemail service's:\n{log}"
    );
    assert_eq!(
        log.matches("voicemail: wrong PIN").count(),
        3,
        "three wrong PINs logged:\n{log}"
    );
    assert!(log.contains("locked=true"), "{log}");
    assert!(
        log.contains("voicemail PIN refused: mailbox locked after wrong PINs"),
        "{log}"
    );
    assert!(
        !log.contains("voicemail retrieval: mailbox opened"),
        "a wrong or locked-out PIN opened the mailbox:\n{log}"
    );
}
