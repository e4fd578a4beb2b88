//! A real softphone leaves a voicemail: Debian's baresip (its `aufile` module plays a
//! 1 kHz tone as microphone, `sndfile` dumps what it decoded) calls the service host's
//! deposit URI directly (the proxy's routing to voicemail comes with its own branch; the
//! lead adds the test through the proxy at merge). It must hear the greeting (the chirp
//! prompt, found by correlation in what it decoded), and the stored message must hold
//! seconds of 1 kHz (Goertzel).
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use media::{MediaConfig, MediaEngine};
use services::{
    HostConfig, MailboxId, Mailboxes, MemoryMailboxes, Prompts, ServiceHost, VoicemailConfig,
};
use testkit::audio;
use testkit::softphone::{write_tone, Baresip};

#[test]
fn baresip_leaves_a_message_of_its_tone() {
    if std::process::Command::new("baresip")
        .arg("-h")
        .output()
        .is_err()
    {
        panic!("baresip not installed (apt-get install baresip-core)");
    }
    let dir = tempfile::tempdir().unwrap();
    let prompts = dir.path().join("prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    let greeting = audio::signature(1500);
    audio::write_wav(&prompts.join("greeting-default.wav"), &greeting);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = 45000 + (std::process::id() % 200) as u16 * 20;
    let engine = MediaEngine::start(MediaConfig {
        bind_address: IpAddr::from([127, 0, 0, 1]),
        first_port: base,
        last_port: base + 19,
        ..MediaConfig::default()
    })
    .unwrap();
    let mailboxes = Arc::new(MemoryMailboxes::new());
    let alice = MailboxId::new("alice", "example.com");
    mailboxes.create(&alice, "1234", 10);
    let (tx, mut changes) = tokio::sync::mpsc::channel(4);
    let host = rt
        .block_on(ServiceHost::start(
            HostConfig {
                voicemail: VoicemailConfig {
                    storage_dir: dir.path().join("voicemail"),
                    ..VoicemailConfig::default()
                },
                ..HostConfig::default()
            },
            engine.clone(),
            mailboxes.clone(),
            Arc::new(Prompts::new(prompts)),
            tx,
        ))
        .unwrap();

    let tone = dir.path().join("tone.wav");
    write_tone(&tone, 1000.0, 20);
    let proxy = format!("sip:{}", host.local_addr());
    let mut phone = Baresip::new(
        &dir.path().join("baresip"),
        "bob",
        "example.com",
        "unused",
        &proxy,
        &tone,
        false,
    )
    .unregistered_on_loopback();
    // The call lasts until baresip quits (it hangs up then): greeting 1.5 s, beep 0.4 s,
    // then about 5 s of message.
    phone.start(
        Duration::from_secs(8),
        &["/dial sip:voicemail@example.com;mode=deposit;mailbox=alice"],
    );
    phone.wait(Duration::from_secs(30));
    let changed = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(15), changes.recv()).await })
        .unwrap_or_else(|_| panic!("no message stored; baresip said:\n{}", phone.output()))
        .unwrap();
    assert_eq!(changed.mailbox, alice);

    let heard = phone.heard();
    let c = audio::clip_correlation(&heard, &greeting, 8 * 1500);
    assert!(
        c > 0.9,
        "baresip did not hear the greeting: correlation {c}"
    );

    let msgs = rt.block_on(mailboxes.messages(&alice)).unwrap();
    assert_eq!(msgs.len(), 1);
    let stored = audio::read_wav(&msgs[0].path);
    let secs = audio::tone_seconds(&stored, 1000.0);
    assert!(
        secs >= 3.0,
        "{secs} s of 1 kHz in the message; baresip said:\n{}",
        phone.output()
    );
    host.shutdown();
    engine.shutdown();
}
