//! Media services as SIP endpoints: the **service host**, voicemail and the conference
//! bridge.
//!
//! The host ([`ServiceHost`]) is a SIP user agent on its own UDP socket (loopback by
//! default) that the proxy reaches like any phone: it runs a `sip-dialog` [`UserAgent`]
//! for every call, opens an RTP session in the `media` engine for each, answers the SDP
//! offer (488 when no codec is common), and hands the call to the service the
//! Request-URI names ([`ServiceRequest`]). A service is plain async code over a [`Call`]:
//! play, wait for digits, record, hang up.
//!
//! Voicemail ([`voicemail`]): deposit (greeting, beep, record until hang-up, `#`,
//! silence or the length limit, store the WAV and the message row) and retrieval (PIN by
//! DTMF with throttling, new then saved messages with caller and date announced, delete,
//! save, skip, back, record a greeting). Mailbox data is reached through the
//! [`Mailboxes`] trait (an in-memory implementation here for tests; the server adapts
//! the database's store to it). Mailbox changes are announced on a channel
//! ([`MailboxChanged`]) for message-waiting notification.
//!
//! The conference bridge ([`conference`]): rooms with an optional PIN and a bound on
//! participants, mixed by the media engine, entered by name, number or RFC 3911 `Join`.
//! Music on hold ([`moh`]): a playlist decoded once and looped for every listener.
//! Announcements (`announce.rs`): `NAME.wav` played once, then BYE. Call park (`park/`):
//! by number or by REFER with `Replaces` (RFC 5359 §2.15), orbits, hold music while
//! parked, retrieval by the orbit or by `Replaces` (bridging the two calls), ring-back to
//! the parker on the timeout. The host places calls too (the park's INVITE with
//! `Replaces`, the ring-back, the bridge dialling out on a participant's REFER).
//!
//! Not here: routing calls to the host (the proxy), the mailbox tables (storage), the
//! notifier (MWI), the prompts' generation.
//!
//! [`UserAgent`]: sip_dialog::UserAgent
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod announce;
mod call;
pub mod conference;
mod config;
mod host;
mod mailbox;
pub mod moh;
mod park;
mod prompts;
mod request_uri;
pub mod voicemail;

pub use call::{Call, CallEvent, Played};
pub use config::{ConferenceConfig, HostConfig, VoicemailConfig};
pub use host::{HostStats, HostStatsHandle, ServiceHost};
pub use mailbox::{
    MailboxError, MailboxId, MailboxSettings, Mailboxes, MemoryMailboxes, Message, MessageStatus,
    NewMessage,
};
pub use prompts::{Prompts, MEDIA_SERVICE_PROMPTS, VOICEMAIL_PROMPTS};
pub use request_uri::{
    is_announcement_name, valid_room, RequestUriError, ServiceRequest, VoicemailMode,
    ANNOUNCE_PREFIX, MOH_USER,
};
pub use voicemail::MailboxChanged;
