//! `switchboard voicemail ...` through the real binary on SQLite: enable (PIN checked and
//! stored hashed), list, greeting (a 44.1 kHz stereo WAV converted to 8 kHz mono; an MP3
//! refused naming the problem), delete (row and file), disable; and the prompts made
//! with espeak-ng when it is installed.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::io::Write as _;

use model::{AddressOfRecord, NewMessage, VoicemailStore};
use storage::SqlStore;
use testkit::cli::Admin;

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A PCM WAV file: `channels` × 16-bit at `rate`, a 1 kHz tone of `secs` seconds.
fn wav(rate: u32, channels: u16, secs: f32) -> Vec<u8> {
    let frames = (rate as f32 * secs) as u32;
    let data_len = frames * u32::from(channels) * 2;
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data_len).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    v.extend_from_slice(&(channels * 2).to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let s =
            ((2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate as f32).sin() * 8000.0) as i16;
        for _ in 0..channels {
            v.extend_from_slice(&s.to_le_bytes());
        }
    }
    v
}

/// (rate, channels, bits) of a WAV file's header.
fn format_of(path: &std::path::Path) -> (u32, u16, u16) {
    let b = std::fs::read(path).unwrap();
    (
        u32::from_le_bytes(b[24..28].try_into().unwrap()),
        u16::from_le_bytes(b[22..24].try_into().unwrap()),
        u16::from_le_bytes(b[34..36].try_into().unwrap()),
    )
}

fn store_of(a: &Admin) -> (tokio::runtime::Runtime, SqlStore) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!(
        "sqlite://{}",
        a.path().join("data/switchboard.db").display()
    );
    let store = rt.block_on(SqlStore::connect_existing(&url, 1)).unwrap();
    (rt, store)
}

#[test]
fn mailbox_greeting_and_messages_through_the_cli() {
    let a = Admin::provisioned(BIN);
    let alice = AddressOfRecord::new("alice", "example.com");

    // Faults name their field.
    let err = a.fails(&["voicemail", "enable", "alice@example.com", "--pin", "12ab"]);
    assert!(err.contains("pin: must be digits only"), "{err}");
    let err = a.fails(&["voicemail", "enable", "nobody@example.com", "--pin", "1234"]);
    assert!(err.contains("user nobody@example.com not found"), "{err}");
    let err = a.fails(&["voicemail", "list", "alice@example.com"]);
    assert!(err.contains("has no mailbox"), "{err}");

    a.ok(&[
        "voicemail",
        "enable",
        "alice@example.com",
        "--pin",
        "4711",
        "--after",
        "15",
        "--no-pin-at-home",
    ]);
    let listed = a.ok(&["voicemail", "list", "alice@example.com"]);
    assert!(
        listed.contains("voicemail on, after 15s, no PIN at home"),
        "{listed}"
    );
    let db = std::fs::read(a.path().join("data/switchboard.db")).unwrap();
    assert!(
        !db.windows(4).any(|w| w == b"4711"),
        "the PIN is stored in clear"
    );

    // A greeting: any PCM layout in, 8 kHz mono 16-bit out; an MP3 refused.
    let mp3 = a.path().join("greeting.mp3");
    std::fs::write(&mp3, b"ID3\x03\x00\x00\x00 not a wave").unwrap();
    let err = a.fails(&[
        "voicemail",
        "greeting",
        "alice@example.com",
        mp3.to_str().unwrap(),
    ]);
    assert!(err.contains("file: not a WAV file"), "{err}");
    let src = a.path().join("greeting.wav");
    std::fs::File::create(&src)
        .unwrap()
        .write_all(&wav(44_100, 2, 1.0))
        .unwrap();
    let out = a.ok(&[
        "voicemail",
        "greeting",
        "alice@example.com",
        src.to_str().unwrap(),
    ]);
    assert!(out.contains("greeting of alice@example.com set"), "{out}");
    let stored = a
        .path()
        .join("data/voicemail/alice@example.com/greeting.wav");
    assert_eq!(format_of(&stored), (8000, 1, 16));
    assert_eq!(std::fs::metadata(&stored).unwrap().len(), 44 + 16_000);

    // A message (as the voicemail service deposits it), listed and deleted with its file.
    let (rt, store) = store_of(&a);
    let file = a.path().join("data/voicemail/alice@example.com/1.wav");
    std::fs::write(&file, wav(8000, 1, 0.5)).unwrap();
    let id = rt
        .block_on(store.add_message(
            &alice,
            &NewMessage {
                caller: "sip:bob@example.com".into(),
                received_at: 1_796_299_199,
                duration_secs: 3,
                file: file.display().to_string(),
            },
            100,
        ))
        .unwrap();
    let listed = a.ok(&["voicemail", "list", "alice@example.com"]);
    assert!(
        listed.contains(&format!(
            "{id}   new     2026-12-03 11:59:59  3     sip:bob@example.com"
        )),
        "{listed}"
    );
    let json = a.ok(&["--json", "voicemail", "list", "alice@example.com"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["messages"][0]["id"], id);
    assert_eq!(v["messages"][0]["status"], "new");
    assert_eq!(v["after"], 15);
    let err = a.fails(&[
        "voicemail",
        "delete",
        "alice@example.com",
        &(id + 1).to_string(),
    ]);
    assert!(err.contains(&format!("has no message {}", id + 1)), "{err}");
    a.ok(&["voicemail", "delete", "alice@example.com", &id.to_string()]);
    assert!(!file.exists());
    assert!(rt.block_on(store.messages(&alice)).unwrap().is_empty());

    // A forwarding rule may name the mailbox.
    let out = a.ok(&["forward", "set", "alice@example.com", "busy", "voicemail"]);
    assert!(out.contains("forwarded (busy) to voicemail"), "{out}");
    let listed = a.ok(&["forward", "list"]);
    assert!(listed.contains("voicemail"), "{listed}");

    a.ok(&["voicemail", "disable", "alice@example.com"]);
    let m = rt.block_on(store.mailbox(&alice)).unwrap().unwrap();
    assert!(!m.enabled && m.verify_pin("4711"));
    assert_eq!(m.greeting.as_deref(), Some(stored.to_str().unwrap()));
    a.ok(&["voicemail", "greeting", "alice@example.com", "--default"]);
    assert_eq!(
        rt.block_on(store.mailbox(&alice))
            .unwrap()
            .unwrap()
            .greeting,
        None
    );
}

#[test]
fn prompts_are_spoken_into_8khz_wav_files() {
    if std::process::Command::new("espeak-ng")
        .arg("--version")
        .output()
        .is_err()
    {
        let _ = writeln!(
            std::io::stderr(),
            "not run: espeak-ng is not installed (apt install espeak-ng)"
        );
        return;
    }
    let a = Admin::new(BIN);
    let texts = concat!(env!("CARGO_MANIFEST_DIR"), "/../../prompts/en");
    let to = a.path().join("prompts");
    let out = a.ok(&[
        "voicemail",
        "prompts",
        "--from",
        texts,
        "--to",
        to.to_str().unwrap(),
    ]);
    assert!(out.contains("prompt(s) written"), "{out}");
    for name in ["greeting-default", "0", "9"]
        .into_iter()
        .chain(services::VOICEMAIL_PROMPTS)
        .chain(services::MEDIA_SERVICE_PROMPTS)
    {
        let p = to.join(format!("{name}.wav"));
        assert_eq!(format_of(&p), (8000, 1, 16), "{name}");
        // Speech, not silence: at least 0.3 s of audio with some loud samples.
        let b = std::fs::read(&p).unwrap();
        let samples: Vec<i16> = b[44..]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert!(samples.len() > 2400, "{name}: {} samples", samples.len());
        assert!(
            samples.iter().any(|s| s.unsigned_abs() > 3000),
            "{name} is silent"
        );
    }
    let err = a.fails(&[
        "voicemail",
        "prompts",
        "--from",
        "/nonexistent",
        "--to",
        "x",
    ]);
    assert!(err.contains("from: reading /nonexistent"), "{err}");
}
