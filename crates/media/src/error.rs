//! What can go wrong in the engine, and what a service answers for it.

use std::path::PathBuf;

use thiserror::Error;

/// An engine error.
#[derive(Debug, Error)]
pub enum MediaError {
    /// Every port of `[media] rtp_ports` is in use (or `max_sessions` is reached): the
    /// call is answered 503.
    #[error("no free RTP port in {first}-{last}")]
    NoPort {
        /// First port of the range.
        first: u16,
        /// Last port of the range.
        last: u16,
    },
    /// A WAV file we cannot play.
    #[error("{path}: {reason}")]
    BadWav {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing a file, or a socket call, failed.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The clock thread is gone (the engine was shut down).
    #[error("the media engine is stopped")]
    Stopped,
}

impl MediaError {
    /// The SIP status for a call that cannot be served because of this error.
    pub fn sip_status(&self) -> u16 {
        match self {
            MediaError::NoPort { .. } | MediaError::Stopped => 503,
            MediaError::BadWav { .. } | MediaError::Io { .. } => 500,
        }
    }
}
