//! One RTP session: the handle a service holds ([`MediaSession`]) and the state the clock
//! thread works on every 20 ms (send the next frame; receive what arrived into the jitter
//! buffer, record the frame it plays out, check for dead media; RTCP). The thread is in
//! `clock.rs`, RTCP in `rtcp.rs`; this file is what happens to one session per tick.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use rtp::{
    g711, DtmfDigit, Frame, JitterBuffer, JitterBufferConfig, RtpHeader, RtpPacket,
    TelephoneEventReceiver,
};
use sdp::Codec;
use tokio::sync::mpsc;

use crate::clip::Clip;
use crate::engine::EngineInner;
use crate::event::MediaEvent;
use crate::mixer::{saturate, MixInput};
use crate::recording::{Recording, RecordingLimits, RecordingState};
use crate::rtcp::{RtcpChannel, RtcpSummary};

/// Samples per 20 ms frame at 8 kHz.
pub(crate) const FRAME: usize = 160;
/// Packets read per session per tick at most (a flood cannot stall the clock).
const MAX_READS_PER_TICK: usize = 32;
/// Audio relayed from a bridged session waiting to be sent, at most (1 s; the oldest is
/// dropped beyond: a peer sending faster than 20 ms cannot grow it).
const MAX_RELAY: usize = 8000;
/// Frames the jitter buffer may hold beyond its playout delay before the clock plays out
/// two per tick to catch up (after a stall of the clock, or a peer whose clock runs fast).
const JITTER_SURPLUS: usize = 5;
/// Lost frames (up to a second) become silence in a recording, so a message keeps its
/// timing; losses at the end of a recording (the caller hung up) are left out.
const MAX_CONCEALED: usize = 50;

/// What was negotiated for the stream (from `sdp::NegotiatedStream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamParams {
    /// Where to send until the peer's packets show where they come from.
    pub remote: Option<SocketAddr>,
    /// The codec.
    pub codec: Codec,
    /// Its payload type.
    pub payload_type: u8,
    /// The RFC 4733 payload type, when agreed.
    pub telephone_event: Option<u8>,
    /// We send audio (false while the peer holds us).
    pub send: bool,
    /// The peer sends audio (false when it said sendonly-to-us is off: inactive or
    /// recvonly); dead-media detection runs only then.
    pub receive: bool,
}

impl StreamParams {
    /// The parameters of a negotiated stream.
    pub fn from_negotiated(s: &sdp::NegotiatedStream) -> StreamParams {
        StreamParams {
            remote: s.remote,
            codec: s.codec,
            payload_type: s.payload_type,
            telephone_event: s.telephone_event,
            send: s.direction.sends() && !s.held,
            receive: s.direction.receives(),
        }
    }
}

pub(crate) struct SessionState {
    params: Option<StreamParams>,
    remote: Option<SocketAddr>,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    marker: bool,
    /// Clips to play: id, clip, offset, and whether it loops (music on hold: until
    /// `stop_playback`).
    queue: VecDeque<(u64, Clip, usize, bool)>,
    next_clip: u64,
    last_clip: Option<u64>,
    recording: Option<Recording>,
    recording_done: bool,
    /// The session this one is bridged to: what we receive is sent there (a parked call
    /// retrieved: two calls of the host joined).
    bridge: Option<Weak<SessionShared>>,
    /// Audio received by the bridged session, sent before the play queue.
    relay: VecDeque<i16>,
    last_seq: Option<u16>,
    /// Received audio, reordered by sequence number and played out one frame per tick.
    jitter: JitterBuffer,
    /// Lost frames since the last one played out, not yet written as silence.
    concealed: usize,
    rtcp: RtcpChannel,
    dtmf: TelephoneEventReceiver,
    last_rx: Instant,
    timed_out: bool,
    events: mpsc::Sender<MediaEvent>,
    pub(crate) packets_sent: u64,
    pub(crate) packets_received: u64,
    pub(crate) events_dropped: u64,
    buf: Vec<u8>,
    out: Vec<u8>,
    payload: Vec<u8>,
    pcm: Vec<i16>,
    decoded: Vec<i16>,
    /// In a conference: the received audio waiting for the mixer.
    pub(crate) mix_input: Option<MixInput>,
    /// In a conference: what the mixer gave this member for the next send.
    pub(crate) mix_output: Option<[i16; FRAME]>,
}

/// What the clock thread and the handle share.
pub(crate) struct SessionShared {
    pub(crate) socket: UdpSocket,
    pub(crate) port: u16,
    /// The clock phase this session is ticked in (0..`clock::SLOTS`).
    pub(crate) slot: usize,
    pub(crate) state: Mutex<SessionState>,
}

impl SessionShared {
    pub(crate) fn new(
        socket: UdpSocket,
        rtcp: UdpSocket,
        port: u16,
        slot: usize,
        ssrc: u32,
        events: mpsc::Sender<MediaEvent>,
        now: Instant,
    ) -> SessionShared {
        SessionShared {
            socket,
            port,
            slot,
            state: Mutex::new(SessionState {
                params: None,
                remote: None,
                ssrc,
                seq: (ssrc >> 16) as u16,
                timestamp: ssrc.rotate_left(7),
                marker: true,
                queue: VecDeque::new(),
                next_clip: 0,
                last_clip: None,
                recording: None,
                recording_done: false,
                bridge: None,
                relay: VecDeque::new(),
                last_seq: None,
                jitter: JitterBuffer::new(JitterBufferConfig::default()),
                concealed: 0,
                rtcp: RtcpChannel::new(rtcp, ssrc),
                dtmf: TelephoneEventReceiver::new(),
                last_rx: now,
                timed_out: false,
                events,
                packets_sent: 0,
                packets_received: 0,
                events_dropped: 0,
                buf: vec![0; 2048],
                out: Vec::with_capacity(256),
                payload: Vec::with_capacity(FRAME),
                pcm: Vec::with_capacity(FRAME),
                decoded: Vec::with_capacity(FRAME),
                mix_input: None,
                mix_output: None,
            }),
        }
    }

    pub(crate) fn lock(&self) -> Option<MutexGuard<'_, SessionState>> {
        self.state.lock().ok()
    }

    /// The first half of a tick: send this tick's frame. The clock runs it for every
    /// session before any receives, so the moment a session sends does not depend on how
    /// many packets the sessions before it had to read.
    pub(crate) fn tick_send(&self) {
        let Some(mut st) = self.lock() else {
            return;
        };
        self.send(&mut st);
    }

    /// The second half of a tick: read what arrived, record the frame the jitter buffer
    /// plays out, RTCP, and check for dead media.
    pub(crate) fn tick_receive(&self, now: Instant, timeout: Duration) {
        let Some(mut st) = self.lock() else {
            return;
        };
        let st = &mut *st;
        self.receive(st, now);
        if let Some(params) = st.params {
            st.play_out(now, params.codec);
        }
        let (remote, timestamp) = (st.remote, st.timestamp);
        st.rtcp.tick(now, remote, timestamp);
        let expecting = st.params.is_some_and(|p| p.receive);
        if expecting && !st.timed_out && now.saturating_duration_since(st.last_rx) >= timeout {
            st.timed_out = true;
            st.emit(MediaEvent::Timeout);
        }
    }

    fn receive(&self, st: &mut SessionState, now: Instant) {
        for _ in 0..MAX_READS_PER_TICK {
            let (n, src) = match self.socket.recv_from(&mut st.buf) {
                Ok(r) => r,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                // ICMP port unreachable from an earlier send, and the like: keep going.
                Err(_) => continue,
            };
            let Some(params) = st.params else {
                continue;
            };
            let buf = std::mem::take(&mut st.buf);
            if let Ok(p) = RtpPacket::parse(&buf[..n]) {
                // Symmetric RTP (RFC 4961): answer to where the peer's packets come from.
                st.remote = Some(src);
                st.last_rx = now;
                st.timed_out = false;
                st.packets_received += 1;
                st.rtcp.rtp_received(&p, now);
                if Some(p.payload_type()) == params.telephone_event {
                    if let Some(d) = st.dtmf.receive(p.timestamp(), p.payload()) {
                        st.emit(MediaEvent::Dtmf(DtmfDigit::as_char(d)));
                    }
                } else if p.payload_type() == params.payload_type {
                    st.jitter.push(&p, now);
                    st.mix_in(&p, params.codec);
                    st.relay_to_bridge(&p, params.codec);
                }
            }
            st.buf = buf;
        }
    }

    fn send(&self, st: &mut SessionState) {
        let Some(params) = st.params else {
            return;
        };
        let Some(remote) = st.remote else {
            return;
        };
        st.fill_frame();
        let ts = st.timestamp;
        st.timestamp = st.timestamp.wrapping_add(FRAME as u32);
        if !params.send {
            return;
        }
        st.payload.clear();
        match params.codec {
            Codec::Pcmu => g711::ulaw_encode_frame(&st.pcm, &mut st.payload),
            Codec::Pcma => g711::alaw_encode_frame(&st.pcm, &mut st.payload),
        }
        let header = RtpHeader {
            marker: std::mem::take(&mut st.marker),
            payload_type: params.payload_type,
            sequence_number: st.seq,
            timestamp: ts,
            ssrc: st.ssrc,
            ..RtpHeader::default()
        };
        st.seq = st.seq.wrapping_add(1);
        st.out.clear();
        if header.write(&st.payload, 0, &mut st.out).is_ok()
            && self.socket.send_to(&st.out, remote).is_ok()
        {
            st.packets_sent += 1;
            let n = st.payload.len();
            st.rtcp.rtp_sent(n);
        }
    }

    /// The session closes: RTCP's last report and BYE, and the statistics.
    pub(crate) fn close(&self) -> Option<(u64, u64, RtcpSummary)> {
        let mut st = self.lock()?;
        let ts = st.timestamp;
        let summary = st.rtcp.close(Instant::now(), ts);
        Some((st.packets_sent, st.packets_received, summary))
    }
}

impl SessionState {
    fn emit(&mut self, e: MediaEvent) {
        if self.events.try_send(e).is_err() {
            self.events_dropped += 1;
        }
    }

    /// Sends what we received to the bridged session (its relay buffer). Only the clock
    /// thread locks two sessions at once (this one, then the other), so this cannot
    /// deadlock.
    fn relay_to_bridge(&mut self, p: &RtpPacket<'_>, codec: Codec) {
        let Some(other) = self.bridge.as_ref().and_then(Weak::upgrade) else {
            return;
        };
        let lock = other.lock();
        if let Some(mut o) = lock {
            // Decoded straight into the other's buffer: nothing allocated per packet.
            let decode = match codec {
                Codec::Pcmu => g711::ulaw_decode,
                Codec::Pcma => g711::alaw_decode,
            };
            o.relay.extend(p.payload().iter().map(|&c| decode(c)));
            let over = o.relay.len().saturating_sub(MAX_RELAY);
            o.relay.drain(..over);
        }
    }

    /// The next 160 samples: relayed audio of a bridged session first, else the play
    /// queue, silence when both are empty.
    fn fill_frame(&mut self) {
        self.pcm.clear();
        if !self.relay.is_empty() {
            let n = self.relay.len().min(FRAME);
            self.pcm.extend(self.relay.drain(..n));
            self.pcm.resize(FRAME, 0);
            return;
        }
        while self.pcm.len() < FRAME {
            let Some((id, clip, offset, looping)) = self.queue.front_mut() else {
                break;
            };
            let take = (FRAME - self.pcm.len()).min(clip.len() - *offset);
            self.pcm.extend_from_slice(&clip.0[*offset..*offset + take]);
            *offset += take;
            if *offset >= clip.len() && *looping {
                // Seamless: the next frame continues from the clip's start.
                *offset = 0;
            } else if *offset >= clip.len() {
                let id = *id;
                self.queue.pop_front();
                if self.queue.is_empty() {
                    self.emit(MediaEvent::PlayDone(id));
                }
            }
        }
        self.pcm.resize(FRAME, 0);
        // In a conference, the room's audio goes under whatever is queued.
        if let Some(mix) = self.mix_output.take() {
            for (o, &m) in self.pcm.iter_mut().zip(mix.iter()) {
                *o = saturate(i32::from(*o) + i32::from(m));
            }
        }
    }

    /// Queues a clip; returns its id.
    pub(crate) fn enqueue(&mut self, clip: Clip) -> u64 {
        self.next_clip += 1;
        let id = self.next_clip;
        self.last_clip = Some(id);
        if clip.is_empty() {
            self.emit(MediaEvent::PlayDone(id));
        } else {
            self.queue.push_back((id, clip, 0, false));
        }
        id
    }

    /// An audio packet for the conference mixer, decoded once on arrival (the mixer keeps
    /// its own small FIFO; the recording goes through the jitter buffer instead).
    fn mix_in(&mut self, p: &RtpPacket<'_>, codec: Codec) {
        if self.mix_input.is_none() {
            return;
        }
        let seq = p.sequence_number();
        if let Some(last) = self.last_seq {
            let d = seq.wrapping_sub(last);
            if d == 0 || d > 0x8000 {
                return; // duplicate or late: already past it
            }
        }
        self.last_seq = Some(seq);
        let mut decoded = std::mem::take(&mut self.decoded);
        decoded.clear();
        match codec {
            Codec::Pcmu => g711::ulaw_decode_frame(p.payload(), &mut decoded),
            Codec::Pcma => g711::alaw_decode_frame(p.payload(), &mut decoded),
        }
        if let Some(mix) = self.mix_input.as_mut() {
            mix.push(&decoded);
        }
        self.decoded = decoded;
    }

    /// Plays out the jitter buffer's frame for this tick (two while it holds a surplus)
    /// into the recording.
    fn play_out(&mut self, now: Instant, codec: Codec) {
        let target = JitterBufferConfig::default().playout_delay.as_millis() as usize / 20;
        let frames = if self.jitter.len() > target + JITTER_SURPLUS {
            2
        } else {
            1
        };
        for _ in 0..frames {
            match self.jitter.poll(now) {
                Some(Frame::Audio { payload, .. }) => self.record_frame(&payload, codec),
                Some(Frame::Lost { .. }) => self.concealed += 1,
                None => {}
            }
        }
    }

    /// Plays out what the jitter buffer still holds (a recording is being taken: the
    /// caller hung up or pressed a key), up to the first gap.
    fn drain(&mut self, codec: Codec) {
        let later = Instant::now() + Duration::from_secs(1);
        while let Some(Frame::Audio { payload, .. }) = self.jitter.poll(later) {
            self.record_frame(&payload, codec);
        }
    }

    fn record_frame(&mut self, payload: &[u8], codec: Codec) {
        let concealed = std::mem::take(&mut self.concealed);
        if self.recording_done {
            return;
        }
        let Some(rec) = self.recording.as_mut() else {
            return;
        };
        let mut pcm = std::mem::take(&mut self.decoded);
        pcm.clear();
        pcm.resize(concealed.min(MAX_CONCEALED) * FRAME, 0);
        match codec {
            Codec::Pcmu => g711::ulaw_decode_frame(payload, &mut pcm),
            Codec::Pcma => g711::alaw_decode_frame(payload, &mut pcm),
        }
        let state = rec.push(&pcm);
        self.decoded = pcm;
        match state {
            RecordingState::Recording => {}
            RecordingState::Full => {
                self.recording_done = true;
                self.emit(MediaEvent::RecordingFull);
            }
            RecordingState::Silent => {
                self.recording_done = true;
                self.emit(MediaEvent::Silence);
            }
        }
    }
}

/// A service's handle on one RTP session. Dropping it closes the session and gives its
/// port back.
pub struct MediaSession {
    pub(crate) shared: Arc<SessionShared>,
    pub(crate) engine: Arc<EngineInner>,
    pub(crate) local: SocketAddr,
}

impl MediaSession {
    /// The local RTP address (the port to write in our SDP).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Starts (or updates, after a re-INVITE) the stream. The dead-media clock starts now.
    pub fn start(&self, params: StreamParams) {
        if let Some(mut st) = self.shared.lock() {
            if st.remote.is_none() || st.params.is_some_and(|p| p.remote != params.remote) {
                st.remote = params.remote.or(st.remote);
            }
            st.params = Some(params);
            st.last_rx = Instant::now();
            st.timed_out = false;
        }
    }

    /// Queues a clip after those already queued; returns its id (in
    /// [`MediaEvent::PlayDone`] when the queue runs empty after it).
    pub fn play(&self, clip: Clip) -> u64 {
        let Some(mut st) = self.shared.lock() else {
            return 0;
        };
        st.enqueue(clip)
    }

    /// Plays a clip over and over, seamlessly, after those already queued, until
    /// [`MediaSession::stop_playback`] (music on hold). The clip's samples are shared, not
    /// copied: many sessions looping one clip cost one decode. An empty clip is not
    /// queued. Returns its id (never in a `PlayDone`).
    pub fn play_looped(&self, clip: Clip) -> u64 {
        let Some(mut st) = self.shared.lock() else {
            return 0;
        };
        st.next_clip += 1;
        let id = st.next_clip;
        if !clip.is_empty() {
            st.queue.push_back((id, clip, 0, true));
        }
        id
    }

    /// Joins two sessions: from now on what each receives is sent to the other, before
    /// anything queued to play (a parked call retrieved by another phone). Dropping
    /// either session ends the relay.
    pub fn bridge(&self, other: &MediaSession) {
        for (me, them) in [(self, other), (other, self)] {
            if let Some(mut st) = me.shared.lock() {
                st.bridge = Some(Arc::downgrade(&them.shared));
            }
        }
    }

    /// Stops playing and empties the queue (a key pressed during a prompt).
    pub fn stop_playback(&self) {
        if let Some(mut st) = self.shared.lock() {
            st.queue.clear();
        }
    }

    /// True while something is queued.
    pub fn is_playing(&self) -> bool {
        self.shared.lock().is_some_and(|s| !s.queue.is_empty())
    }

    /// Starts recording received audio (a recording in progress is replaced).
    pub fn record(&self, limits: RecordingLimits) {
        if let Some(mut st) = self.shared.lock() {
            st.recording = Some(Recording::new(limits));
            st.recording_done = false;
            st.concealed = 0;
        }
    }

    /// Stops recording and returns what was recorded (with what the jitter buffer still
    /// held).
    pub fn take_recording(&self) -> Option<Recording> {
        let mut st = self.shared.lock()?;
        if let Some(p) = st.params {
            st.drain(p.codec);
        }
        st.concealed = 0;
        st.recording.take()
    }

    /// Packets sent and received so far.
    pub fn packet_counts(&self) -> (u64, u64) {
        self.shared
            .lock()
            .map_or((0, 0), |s| (s.packets_sent, s.packets_received))
    }

    /// Where we send now (the latched source of the peer's packets, else the SDP's).
    pub fn remote(&self) -> Option<SocketAddr> {
        self.shared.lock().and_then(|s| s.remote)
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        if let Some((sent, received, rtcp)) = self.shared.close() {
            tracing::info!(
                port = self.local.port(),
                rtp_sent = sent,
                rtp_received = received,
                lost = rtcp.lost,
                expected = rtcp.expected,
                jitter_ms = f64::from(rtcp.jitter) / 8.0,
                rtcp_sent = rtcp.reports_sent,
                rtcp_received = rtcp.reports_received,
                rtcp_malformed = rtcp.malformed,
                peer_lost = rtcp.peer_view.map(|v| v.0),
                peer_jitter_ms = rtcp.peer_view.map(|v| f64::from(v.1) / 8.0),
                "media session closed"
            );
        }
        self.engine.close(&self.shared);
    }
}
