//! The host's, voicemail's and the conference bridge's settings (`[media]`,
//! `[voicemail]` and `[conference]` in the server's file).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Voicemail settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailConfig {
    /// Where messages and greetings are written (`<data dir>/voicemail`).
    pub storage_dir: PathBuf,
    /// The longest message (`max_message_secs`, default 180).
    pub max_message: Duration,
    /// Silence that ends a message (`silence_secs`, default 10).
    pub silence: Duration,
    /// The longest greeting a user may record (default 60 s).
    pub max_greeting: Duration,
    /// Wrong PINs in a row before the mailbox is locked (`pin_attempts`, default 3).
    pub pin_attempts: u32,
    /// How long a mailbox stays locked after that (`pin_lockout_secs`, default 300).
    pub pin_lockout: Duration,
    /// How long to wait for the next key of a PIN or a menu choice (default 10 s).
    pub digit_timeout: Duration,
}

impl Default for VoicemailConfig {
    fn default() -> Self {
        VoicemailConfig {
            storage_dir: PathBuf::from("data/voicemail"),
            max_message: Duration::from_secs(180),
            silence: Duration::from_secs(10),
            max_greeting: Duration::from_secs(60),
            pin_attempts: 3,
            pin_lockout: Duration::from_secs(300),
            digit_timeout: Duration::from_secs(10),
        }
    }
}

/// The service host's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// The host's SIP address (default `127.0.0.1:0`: loopback, a free port).
    pub listen: SocketAddr,
    /// Sources whose INVITEs are served (the proxy's addresses); the Request-URI
    /// parameters (`mode`, `mailbox`, `home`) are trusted only from them. Empty: any
    /// loopback address.
    pub trusted: Vec<IpAddr>,
    /// The most calls at once (past it: 503).
    pub max_calls: usize,
    /// The address written in SDP when the media engine binds a wildcard address and no
    /// `advertised_address` is set: the host's own address.
    pub media_address: Option<IpAddr>,
    /// Voicemail.
    pub voicemail: VoicemailConfig,
    /// The conference bridge.
    pub conference: ConferenceConfig,
    /// Music on hold: the playlist's WAV files, played in order and looped (`[moh]
    /// files`); empty: the shipped default melody.
    pub moh_files: Vec<PathBuf>,
    /// Where `announce-NAME` finds `NAME.wav` (`[announcements] dir`); None: the prompts
    /// directory.
    pub announcements_dir: Option<PathBuf>,
    /// Call park's orbits, first and last (`[park] orbits`, default 701-720).
    pub park_orbits: (u32, u32),
    /// How long a call stays parked (`[park] timeout_secs`, default 300).
    pub park_timeout: Duration,
    /// Where the calls the host places go (the proxy's UDP address): the park's
    /// ring-back. None: the host places no calls (they fail with 503).
    pub proxy: Option<SocketAddr>,
}

/// The conference bridge's settings (`[conference]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceConfig {
    /// Participants a room holds (`max_participants`, default 10); one more gets 486.
    pub max_participants: usize,
    /// Rooms open at once (`max_rooms`, default 100); one more gets 503.
    pub max_rooms: usize,
    /// PINs by room name (`[conference.pins]`): a room listed asks its PIN first.
    pub pins: HashMap<String, String>,
}

impl Default for ConferenceConfig {
    fn default() -> Self {
        ConferenceConfig {
            max_participants: 10,
            max_rooms: 100,
            pins: HashMap::new(),
        }
    }
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            trusted: Vec::new(),
            max_calls: 500,
            media_address: None,
            voicemail: VoicemailConfig::default(),
            conference: ConferenceConfig::default(),
            moh_files: Vec::new(),
            announcements_dir: None,
            park_orbits: (701, 720),
            park_timeout: Duration::from_secs(300),
            proxy: None,
        }
    }
}
