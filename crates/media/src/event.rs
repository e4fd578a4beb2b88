//! What a session tells its service.

/// An event of one session, sent on the channel given to [`crate::MediaEngine::open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    /// A digit received by RFC 4733 telephone-event (once per key press).
    Dtmf(char),
    /// The play queue ran empty; the number is the id [`crate::MediaSession::play`]
    /// returned for the last clip played.
    PlayDone(u64),
    /// The recording heard only silence for its silence limit.
    Silence,
    /// The recording reached its length limit.
    RecordingFull,
    /// No RTP for `[media] rtp_timeout_secs`: the peer is gone (hang up).
    Timeout,
}
