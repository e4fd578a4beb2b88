//! [`Call`]: what a service holds for one answered call. It merges the call's SIP side
//! (digits by INFO, hang-up) and media side (RFC 4733 digits, end of a clip, silence,
//! dead media) into one stream of [`CallEvent`]s, and offers the few verbs services are
//! written in: play (with barge-in), collect digits, record, hang up.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use media::{Clip, MediaEvent, MediaSession, Recording, RecordingLimits};
use sip_dialog::CallHandle;
use tokio::sync::{mpsc, oneshot};

/// Keys typed ahead during a prompt that are kept for the next read (more are dropped).
const MAX_TYPEAHEAD: usize = 32;

/// From the host's SIP loop to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SipInput {
    Dtmf(char),
    Ended,
}

/// From a call to the host's SIP loop.
pub(crate) enum HostCommand {
    Hangup(CallHandle),
    /// Refuse a call still in early media with this final status.
    Fail(CallHandle, u16),
    /// Place a call (the host is the UAC); the answer is the answered call or the
    /// final status (408 for no answer within `ring`).
    Place(Placement, oneshot::Sender<Result<Call, u16>>),
    /// Give up a call placed that is still ringing (CANCEL); nothing once answered.
    GiveUp(CallHandle),
    /// The final NOTIFY of a REFER (its sipfrag status line).
    NotifyRefer(CallHandle, String),
}

/// A call for the host to place ([`Call::place`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement {
    /// The Request-URI (and To), e.g. `sip:bob@example.com`.
    pub uri: String,
    /// The display name of our From (what the called phone shows).
    pub display: String,
    /// Extra whole header lines (`Replaces: ...\r\n`).
    pub headers: String,
    /// How long it may ring before we CANCEL.
    pub ring: Duration,
}

/// Something that happened on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEvent {
    /// A key, by RFC 4733 or SIP INFO.
    Digit(char),
    /// The play queue ran empty after the clip with this id.
    PlayDone(u64),
    /// The recording heard silence for its limit.
    Silence,
    /// The recording reached its length limit.
    RecordingFull,
    /// The caller hung up (BYE or CANCEL).
    Hangup,
    /// No RTP for `rtp_timeout_secs`.
    MediaTimeout,
}

/// How a [`Call::play`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Played {
    /// The clip played to its end.
    Done,
    /// A key interrupted it (barge-in).
    Digit(char),
    /// The call is over (hang-up or dead media).
    Ended,
}

/// One answered call, as a service sees it.
pub struct Call {
    pub(crate) handle: CallHandle,
    pub(crate) media: Arc<MediaSession>,
    pub(crate) media_rx: mpsc::Receiver<MediaEvent>,
    pub(crate) sip_rx: mpsc::Receiver<SipInput>,
    pub(crate) commands: mpsc::Sender<HostCommand>,
    /// The caller's URI (From).
    pub caller: String,
    /// Where the INVITE came from.
    pub source: SocketAddr,
    pub(crate) ended: bool,
    pub(crate) timed_out: bool,
    /// The call's dialog as the host sees it (set by the host once known).
    pub(crate) dialog: Option<crate::conference::DialogId>,
    /// The SIP side is over (BYE or CANCEL from the caller, or our BYE sent).
    sip_over: bool,
    typeahead: VecDeque<char>,
}

impl Call {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        handle: CallHandle,
        media: Arc<MediaSession>,
        media_rx: mpsc::Receiver<MediaEvent>,
        sip_rx: mpsc::Receiver<SipInput>,
        commands: mpsc::Sender<HostCommand>,
        caller: String,
        source: SocketAddr,
    ) -> Call {
        Call {
            handle,
            media,
            media_rx,
            sip_rx,
            commands,
            caller,
            source,
            ended: false,
            timed_out: false,
            dialog: None,
            sip_over: false,
            typeahead: VecDeque::new(),
        }
    }

    /// The call's id in logs.
    pub fn id(&self) -> u64 {
        self.handle.get()
    }

    /// True once the caller hung up, the media died or we hung up.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// True when the call ended because no RTP came for `rtp_timeout_secs`.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// The next event (digits typed ahead first). After the end, always `Hangup`.
    pub async fn next(&mut self) -> CallEvent {
        if let Some(d) = self.typeahead.pop_front() {
            return CallEvent::Digit(d);
        }
        self.next_live().await
    }

    /// The next event from the call itself (typed-ahead digits not included).
    async fn next_live(&mut self) -> CallEvent {
        if self.ended {
            return CallEvent::Hangup;
        }
        let e = tokio::select! {
            m = self.media_rx.recv() => match m {
                Some(MediaEvent::Dtmf(d)) => CallEvent::Digit(d),
                Some(MediaEvent::PlayDone(id)) => CallEvent::PlayDone(id),
                Some(MediaEvent::Silence) => CallEvent::Silence,
                Some(MediaEvent::RecordingFull) => CallEvent::RecordingFull,
                Some(MediaEvent::Timeout) => CallEvent::MediaTimeout,
                None => CallEvent::Hangup,
            },
            s = self.sip_rx.recv() => match s {
                Some(SipInput::Dtmf(d)) => CallEvent::Digit(d),
                Some(SipInput::Ended) | None => CallEvent::Hangup,
            },
        };
        match e {
            CallEvent::Hangup => {
                self.ended = true;
                self.sip_over = true;
            }
            CallEvent::MediaTimeout => {
                // The "say so in the log": one line per dead call, then BYE.
                tracing::warn!(call = self.handle.get(), caller = %self.caller, source = %self.source,
                    "no RTP from the caller within rtp_timeout_secs: hanging up");
                self.ended = true;
                self.timed_out = true;
            }
            _ => {}
        }
        e
    }

    /// Plays a clip to its end; with `barge_in` a key stops it (and is returned), without
    /// it keys are kept for the next read.
    pub async fn play(&mut self, clip: Clip, barge_in: bool) -> Played {
        if self.ended {
            return Played::Ended;
        }
        if barge_in {
            if let Some(d) = self.typeahead.pop_front() {
                return Played::Digit(d);
            }
        }
        let id = self.media.play(clip);
        loop {
            match self.next_live().await {
                CallEvent::PlayDone(done) if done == id => return Played::Done,
                CallEvent::Digit(d) if barge_in => {
                    self.media.stop_playback();
                    return Played::Digit(d);
                }
                CallEvent::Digit(d) if self.typeahead.len() < MAX_TYPEAHEAD => {
                    self.typeahead.push_back(d)
                }
                CallEvent::Hangup | CallEvent::MediaTimeout => return Played::Ended,
                CallEvent::Digit(_)
                | CallEvent::PlayDone(_)
                | CallEvent::Silence
                | CallEvent::RecordingFull => {}
            }
        }
    }

    /// Collects keys until `terminator`, `max` keys, or `timeout` between keys. `None`
    /// when the call ended; `first` is a key already pressed (barge-in).
    pub async fn collect(
        &mut self,
        first: Option<char>,
        max: usize,
        terminator: char,
        timeout: Duration,
    ) -> Option<String> {
        let mut out = String::new();
        if let Some(c) = first {
            if c == terminator {
                return Some(out);
            }
            out.push(c);
        }
        while out.len() < max {
            let e = match tokio::time::timeout(timeout, self.next()).await {
                Ok(e) => e,
                Err(_) => break,
            };
            match e {
                CallEvent::Digit(c) if c == terminator => break,
                CallEvent::Digit(c) => out.push(c),
                CallEvent::Hangup | CallEvent::MediaTimeout => return None,
                _ => {}
            }
        }
        Some(out)
    }

    /// Waits for one key (`None` on timeout or end).
    pub async fn key(&mut self, timeout: Duration) -> Option<char> {
        loop {
            match tokio::time::timeout(timeout, self.next()).await {
                Ok(CallEvent::Digit(c)) => return Some(c),
                Ok(CallEvent::Hangup | CallEvent::MediaTimeout) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Starts recording what the caller sends.
    pub fn record(&self, limits: RecordingLimits) {
        self.media.record(limits);
    }

    /// Stops recording and returns it.
    pub fn take_recording(&self) -> Option<Recording> {
        self.media.take_recording()
    }

    /// Hangs up (BYE). Further reads return `Hangup`.
    pub fn hangup(&mut self) {
        self.ended = true;
        if !self.sip_over {
            self.sip_over = true;
            let _ = self.commands.try_send(HostCommand::Hangup(self.handle));
        }
    }
}

impl Call {
    /// Ends a call not answered (early media) with a final failure `status` (400-699).
    /// Further reads return `Hangup`.
    pub fn fail(&mut self, status: u16) {
        self.ended = true;
        if !self.sip_over {
            self.sip_over = true;
            let _ = self
                .commands
                .try_send(HostCommand::Fail(self.handle, status));
        }
    }
}

impl Call {
    /// Has the host place a call and waits for its answer: the answered call (its
    /// media started), or the final status (408 when nobody answered within `ring`,
    /// 503 when the host places no calls or is full).
    /// The future borrows nothing of this call (it may be polled while the call is read).
    pub(crate) fn place(
        &self,
        placement: Placement,
    ) -> impl std::future::Future<Output = Result<Call, u16>> + Send + 'static {
        let commands = self.commands.clone();
        async move {
            let (tx, rx) = oneshot::channel();
            if commands
                .send(HostCommand::Place(placement, tx))
                .await
                .is_err()
            {
                return Err(503);
            }
            rx.await.unwrap_or(Err(503))
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // A service that returns without hanging up still ends the call.
        self.hangup();
    }
}
