//! The media engine: RTP sessions for media services (voicemail now; music on hold, park,
//! announcements and conferences later).
//!
//! It owns the RTP sockets (one per session, from a bounded port range: [`PortPool`]),
//! the sending of audio paced at 20 ms by **one clock thread for all sessions** (no task
//! or timer per stream), the reception of RTP (decoded G.711 into a [`Recording`],
//! RFC 4733 digits, symmetric RTP: we send to where the peer's packets come from), the
//! dead-media timeout, and WAV files ([`wav`]: 8 kHz mono 16-bit PCM and G.711 WAV in,
//! 16-bit PCM out). A service holds a [`MediaSession`] and hears from it through a
//! channel of [`MediaEvent`]s.
//!
//! Conference rooms are mixed on the same clock ([`Mixer`]: each member hears the others'
//! sum, saturated, never itself).
//! Each session also runs RTCP on the odd port above its RTP port (sender and receiver
//! reports at the RFC 3550 intervals, the peer's reports read, a BYE and a statistics log
//! line at close), and reorders received audio in a bounded jitter buffer before it is
//! recorded.
//!
//! It does not do SIP or SDP negotiation (the service does, with the `sip-dialog` and
//! `sdp` crates), nor transcoding beyond G.711.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod clip;
mod clock;
mod config;
mod engine;
mod error;
mod event;
mod mixer;
mod ports;
mod recording;
mod rtcp;
mod session;
pub mod wav;

pub use clip::Clip;
pub use config::MediaConfig;
pub use engine::{EngineStats, MediaEngine};
pub use error::MediaError;
pub use event::MediaEvent;
pub use mixer::Mixer;
pub use ports::PortPool;
pub use recording::{Recording, RecordingLimits};
pub use session::{MediaSession, StreamParams};
