//! Voicemail deposit and retrieval end to end, with real media: a phone in the test
//! process (hand-written SIP over UDP, `testkit::sip_phone`, and an RTP peer,
//! `testkit::rtp_peer`) calls the service host directly with the Request-URIs the proxy
//! produces (the same flow through the proxy, on the real binary, is
//! `crates/server/tests/voicemail_e2e.rs`). Every check is on decoded audio: the greeting
//! the phone hears is the prompt (correlation), the stored WAV holds the 1 kHz tone sent
//! (Goertzel), and retrieval plays the same tone back.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use media::{MediaConfig, MediaEngine};
use services::{
    HostConfig, MailboxChanged, MailboxId, Mailboxes, MemoryMailboxes, MessageStatus, Prompts,
    ServiceHost, VoicemailConfig, VOICEMAIL_PROMPTS,
};
use testkit::audio;
use testkit::rtp_peer::RtpPeer;
use testkit::sip_phone::SipPhone;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

const GREETING_MS: u32 = 1500;

struct Fixture {
    rt: Runtime,
    host: ServiceHost,
    mailboxes: Arc<MemoryMailboxes>,
    changes: mpsc::Receiver<MailboxChanged>,
    greeting: Vec<i16>,
    dir: tempfile::TempDir,
    _engine: MediaEngine,
}

fn alice() -> MailboxId {
    MailboxId::new("alice", "example.com")
}

/// Prompts: the default greeting is a chirp (found again by correlation), every other
/// prompt a short tone of its own, the digits short high tones.
fn write_prompts(dir: &std::path::Path) -> Vec<i16> {
    audio::write_test_prompts(dir, &VOICEMAIL_PROMPTS, GREETING_MS)
}

fn fixture(rtp_timeout: Duration, max_messages: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let greeting = write_prompts(&dir.path().join("prompts"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = 40000 + (std::process::id() % 400) as u16 * 50;
    let engine = MediaEngine::start(MediaConfig {
        bind_address: IpAddr::from([127, 0, 0, 1]),
        first_port: base,
        last_port: base + 49,
        rtp_timeout,
        ..MediaConfig::default()
    })
    .unwrap();
    let mailboxes = Arc::new(MemoryMailboxes::new());
    mailboxes.create(&alice(), "1234", max_messages);
    let (tx, changes) = mpsc::channel(16);
    let config = HostConfig {
        voicemail: VoicemailConfig {
            storage_dir: dir.path().join("voicemail"),
            silence: Duration::from_secs(5),
            digit_timeout: Duration::from_secs(5),
            ..VoicemailConfig::default()
        },
        ..HostConfig::default()
    };
    let prompts = Arc::new(Prompts::new(dir.path().join("prompts")));
    let host = rt
        .block_on(ServiceHost::start(
            config,
            engine.clone(),
            mailboxes.clone(),
            prompts,
            tx,
        ))
        .unwrap();
    Fixture {
        rt,
        host,
        mailboxes,
        changes,
        greeting,
        dir,
        _engine: engine,
    }
}

impl Fixture {
    fn addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    fn changed(&mut self) -> MailboxChanged {
        let changes = &mut self.changes;
        self.rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), changes.recv()).await })
            .expect("no mailbox change within 10 s")
            .unwrap()
    }

    fn messages(&self) -> Vec<services::Message> {
        self.rt.block_on(self.mailboxes.messages(&alice())).unwrap()
    }
}

/// The Request-URI the proxy sends a caller to alice's voicemail with.
const DEPOSIT: &str = "sip:voicemail@example.com;mode=deposit;mailbox=alice";
/// The Request-URI the proxy sends alice to her own mailbox with.
const RETRIEVE: &str = "sip:voicemail@example.com;mode=retrieve;mailbox=alice";

/// A call the service host answered: the phone, its RTP peer and where the host wants RTP.
struct Answered {
    phone: SipPhone,
    peer: RtpPeer,
    rtp: SocketAddr,
}

/// Calls `uri` from `user`'s phone with a PCMU offer and expects a 200 OK with SDP.
fn answered_call(f: &Fixture, user: &str, uri: &str) -> Answered {
    let peer = RtpPeer::bind();
    let mut phone = SipPhone::new(f.addr(), user);
    let ok = phone.invite(uri, &SipPhone::pcmu_offer(peer.addr()));
    assert_eq!(ok.status(), 200, "{}", ok.text);
    let rtp = ok.sdp_rtp_addr().unwrap();
    // RFC 3605: the answer names the RTCP port, the one above the RTP port.
    let rtcp = format!("a=rtcp:{}\r\n", rtp.port() + 1);
    assert!(ok.body().contains(&rtcp), "no {rtcp:?} in {}", ok.text);
    Answered { phone, peer, rtp }
}

/// Sends `digits` by RFC 4733 (payload type 101).
fn send_digits(peer: &mut RtpPeer, rtp: SocketAddr, digits: &str) {
    for d in digits.chars() {
        peer.send_digit(rtp, d, 101);
    }
}

/// Asserts the host hangs up (sends BYE) within `limit`.
fn expect_hang_up(phone: &SipPhone, limit: Duration, what: &str) {
    assert!(
        phone.expect_request("BYE", limit).is_some(),
        "{what}: no BYE"
    );
}

/// Calls the deposit URI, checks the greeting, sends `tone_ms` of 1 kHz, hangs up.
fn deposit(f: &Fixture, tone_ms: u32) {
    let Answered {
        mut phone,
        mut peer,
        rtp,
    } = answered_call(f, "2000", DEPOSIT);
    // The greeting, then the 400 ms beep, then recording starts.
    peer.heard_after_first_sound((GREETING_MS + 400 + 100) as usize);
    let heard = peer.heard().samples;
    let c = audio::clip_correlation(&heard, &f.greeting, 8 * GREETING_MS as usize);
    assert!(
        c > 0.95,
        "the greeting heard is not the prompt: correlation {c}"
    );
    peer.send_audio(rtp, &audio::tone(1000.0, tone_ms, 8000.0));
    assert_eq!(phone.bye(), 200);
}

#[test]
fn deposit_then_retrieve_with_rfc4733_pin_and_delete() {
    let mut f = fixture(Duration::from_secs(60), 10);
    deposit(&f, 3000);
    assert_eq!(f.changed().mailbox, alice());
    let msgs = f.messages();
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m.status, MessageStatus::New);
    assert_eq!(m.caller, "sip:2000@example.com");
    assert!(m
        .path
        .starts_with(f.dir.path().join("voicemail/example.com/alice")));
    let stored = audio::read_wav(&m.path);
    let secs = audio::tone_seconds(&stored, 1000.0);
    assert!(
        (2.8..=3.1).contains(&secs),
        "{secs} s of 1 kHz in the message"
    );
    assert!((3..=4).contains(&m.duration_secs), "{}", m.duration_secs);

    // Retrieval from the owner's phone, PIN by RFC 4733.
    let Answered {
        phone,
        mut peer,
        rtp,
    } = answered_call(&f, "alice", RETRIEVE);
    peer.heard_after_first_sound(150); // "enter your PIN" started
    send_digits(&mut peer, rtp, "1234#");
    // The message plays after the announcements: wait for 2.5 s of 1 kHz.
    testkit::wait::wait_until(
        "the message's 1 kHz tone played back",
        Duration::from_secs(20),
        || audio::tone_seconds(&peer.heard().samples, 1000.0) >= 2.5,
    );
    peer.send_digit(rtp, '7', 101);
    assert_eq!(f.changed().mailbox, alice());
    assert!(f.messages().is_empty(), "message deleted");
    assert!(!m.path.exists(), "its file removed");
    // After the last message: goodbye and the service hangs up.
    expect_hang_up(&phone, Duration::from_secs(10), "after the last message");
}

#[test]
fn wrong_pins_are_throttled() {
    let f = fixture(Duration::from_secs(60), 10);
    for attempt in 0..2 {
        let Answered {
            phone,
            mut peer,
            rtp,
        } = answered_call(&f, "mallory", RETRIEVE);
        if attempt == 0 {
            // Three wrong PINs lock the mailbox; the service hangs up.
            send_digits(&mut peer, rtp, "9999#9999#9999#");
        } else {
            // Locked: the right PIN does not open the mailbox; the PIN is not even asked.
            send_digits(&mut peer, rtp, "1234#");
        }
        expect_hang_up(
            &phone,
            Duration::from_secs(20),
            &format!("attempt {attempt}"),
        );
        // Prompts are tones: enter-pin 300 Hz, wrong-pin 340 Hz, no-messages 380 Hz.
        let heard = peer.heard().samples;
        let secs = |hz| audio::tone_seconds(&heard, hz);
        assert!(secs(340.0) >= 0.1, "attempt {attempt}: wrong-pin not heard");
        assert_eq!(
            secs(380.0),
            0.0,
            "attempt {attempt}: the mailbox was opened"
        );
        if attempt == 1 {
            assert_eq!(secs(300.0), 0.0, "a locked mailbox asks for no PIN");
        }
    }
}

#[test]
fn no_common_codec_is_488() {
    let f = fixture(Duration::from_secs(60), 10);
    let peer = RtpPeer::bind();
    let mut phone = SipPhone::new(f.addr(), "2000");
    let offer = SipPhone::offer(peer.addr(), "9", "a=rtpmap:9 G722/8000\r\n");
    let r = phone.invite(DEPOSIT, &offer);
    assert_eq!(r.status(), 488, "{}", r.text);
    assert!(r.header("Warning").unwrap().starts_with("305"));
    assert_eq!(f.host.stats().refused, 1);
}

#[test]
fn a_caller_that_sends_no_rtp_is_hung_up() {
    let f = fixture(Duration::from_secs(1), 10);
    let call = answered_call(&f, "2000", DEPOSIT);
    // No RTP from us: the host gives up after rtp_timeout and sends BYE.
    expect_hang_up(&call.phone, Duration::from_secs(10), "no RTP");
    assert!(f.messages().is_empty());
}

#[test]
fn a_full_mailbox_takes_no_message() {
    let mut f = fixture(Duration::from_secs(60), 1);
    deposit(&f, 1000);
    f.changed();
    assert_eq!(f.messages().len(), 1);
    // Second caller: "mailbox full", goodbye, BYE; nothing recorded.
    let call = answered_call(&f, "3000", DEPOSIT);
    expect_hang_up(&call.phone, Duration::from_secs(10), "mailbox full");
    assert_eq!(f.messages().len(), 1);
}

#[test]
fn untrusted_uris_are_refused() {
    let f = fixture(Duration::from_secs(60), 10);
    let peer = RtpPeer::bind();
    let mut phone = SipPhone::new(f.addr(), "2000");
    let r = phone.invite(
        "sip:voicemail@example.com",
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(r.status(), 400);
    let mut phone = SipPhone::new(f.addr(), "2000");
    let r = phone.invite(
        "sip:nothing@example.com",
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(r.status(), 404);
}

#[test]
fn hold_by_reinvite_stops_our_audio_and_resume_restarts_it() {
    let f = fixture(Duration::from_secs(60), 10);
    let Answered {
        mut phone,
        mut peer,
        rtp,
    } = answered_call(&f, "2000", DEPOSIT);
    assert!(peer.wait_samples(1600, Duration::from_secs(5)));
    // Hold (RFC 3264 section 8.4): we offer sendonly, the host answers recvonly and stops sending.
    let hold = format!("{}a=sendonly\r\n", SipPhone::pcmu_offer(peer.addr()));
    let r = phone.request("INVITE", &hold, "application/sdp");
    assert_eq!(r.status(), 200, "{}", r.text);
    assert!(r.body().contains("a=recvonly"), "{}", r.text);
    // The held phone keeps sending (music on hold, here a tone): the host must not time out.
    let before = peer.heard().samples.len();
    peer.send_audio(rtp, &audio::tone(1000.0, 500, 8000.0));
    let held = peer.heard().samples.len() - before;
    assert!(held <= 2 * 160, "{held} samples sent to a phone on hold");
    // Resume.
    let resume = format!("{}a=sendrecv\r\n", SipPhone::pcmu_offer(peer.addr()));
    let r = phone.request("INVITE", &resume, "application/sdp");
    assert_eq!(r.status(), 200);
    assert!(r.body().contains("a=sendrecv"), "{}", r.text);
    let before = peer.heard().samples.len();
    assert!(
        peer.wait_samples(before + 1600, Duration::from_secs(5)),
        "no audio after resume"
    );
    assert_eq!(phone.bye(), 200);
}

#[test]
fn sipp_leaves_a_message_by_pcap_play() {
    let mut f = fixture(Duration::from_secs(60), 10);
    let dir = f.dir.path().to_path_buf();
    let port = testkit::ports::free_port();
    let sipp = testkit::sipp::Sipp::in_dir(
        &dir,
        "deposit",
        "uac-invite-voicemail-pcap-expect-200.xml",
        port,
    )
    .remote(&f.addr().to_string())
    .key("service_uri", DEPOSIT)
    .key("greeting_ms", GREETING_MS + 600)
    .arg("-mp")
    .arg(&testkit::ports::free_port().to_string());
    audio::write_rtp_pcap(
        &sipp.workdir.join("tone.pcap"),
        &audio::tone(1000.0, 3000, 8000.0),
    );
    sipp.run().assert_ok("SIPp deposit");
    assert_eq!(f.changed().mailbox, alice());
    let msgs = f.messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].caller, "sip:3000@example.com");
    let secs = audio::tone_seconds(&audio::read_wav(&msgs[0].path), 1000.0);
    assert!(
        (2.8..=3.1).contains(&secs),
        "{secs} s of 1 kHz in the message SIPp played"
    );
}

#[test]
fn pin_by_sip_info_then_a_new_greeting_that_callers_hear() {
    let f = fixture(Duration::from_secs(60), 10);
    let Answered {
        mut phone,
        mut peer,
        rtp,
    } = answered_call(&f, "alice", RETRIEVE);
    peer.heard_after_first_sound(150);
    // The PIN by SIP INFO (application/dtmf-relay) this time.
    for d in ['1', '2', '3', '4', '#'] {
        let body = format!("Signal={d}\r\nDuration=160\r\n");
        assert_eq!(
            phone
                .request("INFO", &body, "application/dtmf-relay")
                .status(),
            200
        );
    }
    // No messages (380 Hz prompt); 0 records a greeting: prompt, beep (800 Hz), speak, #.
    testkit::wait::wait_until("the no-messages prompt", Duration::from_secs(10), || {
        audio::tone_seconds(&peer.heard().samples, 380.0) >= 0.1
    });
    peer.send_digit(rtp, '0', 101);
    testkit::wait::wait_until("the beep", Duration::from_secs(10), || {
        audio::tone_seconds(&peer.heard().samples, 800.0) >= 0.3
    });
    peer.send_audio(rtp, &audio::tone(1000.0, 2000, 8000.0));
    peer.send_digit(rtp, '#', 101);
    expect_hang_up(
        &phone,
        Duration::from_secs(20),
        "after the greeting is recorded",
    );
    let greeting =
        f.rt.block_on(f.mailboxes.settings(&alice()))
            .unwrap()
            .unwrap()
            .greeting
            .expect("greeting recorded");
    let secs = audio::tone_seconds(&audio::read_wav(&greeting), 1000.0);
    assert!(
        (1.8..=2.1).contains(&secs),
        "{secs} s of 1 kHz in the greeting"
    );

    // The next caller hears the new greeting, not the default prompt.
    let Answered {
        phone: mut caller,
        peer,
        ..
    } = answered_call(&f, "2000", DEPOSIT);
    testkit::wait::wait_until("the new greeting", Duration::from_secs(10), || {
        audio::tone_seconds(&peer.heard().samples, 1000.0) >= 1.5
    });
    let c = audio::clip_correlation(&peer.heard().samples, &f.greeting, 8000);
    assert!(c < 0.5, "the default greeting was played: {c}");
    assert_eq!(caller.bye(), 200);
}
