//! [`ServiceHost`]: the SIP side of media services. One task owns a UDP socket and a
//! `sip-dialog` user agent; for each INVITE it checks the source and the Request-URI,
//! opens an RTP session, answers the SDP offer, and spawns the service's task with a
//! [`Call`] (an INVITE without SDP gets our offer in the 200). Digits by INFO and
//! hang-ups are forwarded to the call. In `host/`: SDP after the INVITE (`offers.rs`),
//! calls the host places (`placing.rs`), REFERs (`refer.rs`: the §2.15 park and the
//! bridge's dial-out), the park server's dialog state (`park_state.rs`), the conference
//! seat (`seat.rs`), the counters (`stats.rs`).
//!
//! Transport: a UDP socket, loopback by default (decision
//! `docs/decisions/0011-media-engine-and-service-host.md`).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use media::{MediaEngine, MediaSession, StreamParams};
use sdp::{negotiate, LocalCapabilities, SessionDescription};
use sip_dialog::{CallHandle, UaConfig, UaEvent, UserAgent};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::announce;
use crate::call::{Call, HostCommand, SipInput};
use crate::conference::{self, ConferenceRooms, DialogId};
use crate::config::HostConfig;
use crate::mailbox::Mailboxes;
use crate::moh::{self, Playlist};
use crate::park::{self, ParkLot};
use crate::prompts::Prompts;
use crate::request_uri::ServiceRequest;
use crate::voicemail::{self, MailboxChanged, PinThrottle};

mod offers;
mod park_state;
mod placing;
mod refer;
mod seat;
mod stats;

use stats::Counters;
pub use stats::{HostStats, HostStatsHandle};

/// What every service task shares.
pub(crate) struct ServiceContext {
    pub config: HostConfig,
    pub mailboxes: Arc<dyn Mailboxes>,
    pub prompts: Arc<Prompts>,
    pub changes: mpsc::Sender<MailboxChanged>,
    pub throttle: PinThrottle,
    pub conference: ConferenceRooms,
    pub playlist: Arc<Playlist>,
    pub announcements: Arc<Prompts>,
    pub park: Arc<ParkLot>,
}

struct CallEntry {
    sip: mpsc::Sender<SipInput>,
    media: Arc<MediaSession>,
    caps: LocalCapabilities,
}

/// The running host.
pub struct ServiceHost {
    addr: SocketAddr,
    task: JoinHandle<()>,
    counters: Arc<Counters>,
    conference: ConferenceRooms,
    park: Arc<ParkLot>,
}

impl ServiceHost {
    /// Binds the host's socket and starts it; the music-on-hold playlist is decoded here
    /// (an unreadable file is an `InvalidData` error naming it). Mailbox changes (a message added, saved or
    /// deleted) are sent on `changes` (for message-waiting notification; a full channel
    /// drops them, the next change carries the state).
    pub async fn start(
        config: HostConfig,
        engine: MediaEngine,
        mailboxes: Arc<dyn Mailboxes>,
        prompts: Arc<Prompts>,
        changes: mpsc::Sender<MailboxChanged>,
    ) -> io::Result<ServiceHost> {
        let playlist = Playlist::load(&config.moh_files)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let announcements = Arc::new(Prompts::new(
            config
                .announcements_dir
                .clone()
                .unwrap_or_else(|| prompts.dir().to_path_buf()),
        ));
        let socket = UdpSocket::bind(config.listen).await?;
        let addr = socket.local_addr()?;
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        let ua = UserAgent::new(
            UaConfig {
                contact: format!("sip:voicemail@{addr}"),
                via_sent_by: addr.to_string(),
                user_agent: "switchboard-services".into(),
                max_calls: config.max_calls,
                ..UaConfig::default()
            },
            seed,
        );
        let media_ip = engine
            .config()
            .advertised_address
            .or(config.media_address)
            .unwrap_or_else(|| {
                let b = engine.config().bind_address;
                if b.is_unspecified() {
                    addr.ip()
                } else {
                    b
                }
            });
        let counters = Arc::new(Counters::default());
        let throttle = PinThrottle::new(
            config.voicemail.pin_attempts,
            config.voicemail.pin_lockout,
            10_000,
        );
        let conference = ConferenceRooms::new(
            engine.clone(),
            config.conference.max_participants,
            config.conference.max_rooms,
        );
        let park = Arc::new(ParkLot::new(config.park_orbits.0, config.park_orbits.1));
        let ctx = Arc::new(ServiceContext {
            mailboxes,
            prompts,
            changes,
            throttle,
            conference: conference.clone(),
            park: park.clone(),
            playlist: Arc::new(playlist),
            announcements,
            config,
        });
        let (cmd_tx, cmd_rx) = mpsc::channel(4096);
        let host = HostLoop {
            ua,
            socket,
            start: Instant::now(),
            calls: HashMap::new(),
            cmd_tx,
            engine,
            media_ip,
            ctx,
            counters: counters.clone(),
            session_ids: seed,
            ringing: HashMap::new(),
            delayed: HashMap::new(),
        };
        let task = tokio::spawn(host.run(cmd_rx));
        tracing::info!(%addr, "service host listening (voicemail, conference, music on hold, announcements, park)");
        Ok(ServiceHost {
            addr,
            task,
            counters,
            conference,
            park,
        })
    }

    /// The host's SIP address (the proxy's `services` destination).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counters.
    pub fn stats(&self) -> HostStats {
        self.stats_handle().get()
    }

    /// The conference rooms open (for `switchboard conference list` and metrics).
    pub fn conference_rooms(&self) -> ConferenceRooms {
        self.conference.clone()
    }

    /// A handle on the counters.
    pub fn stats_handle(&self) -> HostStatsHandle {
        HostStatsHandle(self.counters.clone(), self.park.clone())
    }

    /// Stops the host (calls in progress are dropped without BYE).
    pub fn shutdown(&self) {
        self.task.abort();
    }
}

struct HostLoop {
    ua: UserAgent,
    socket: UdpSocket,
    start: Instant,
    calls: HashMap<CallHandle, CallEntry>,
    cmd_tx: mpsc::Sender<HostCommand>,
    engine: MediaEngine,
    media_ip: IpAddr,
    ctx: Arc<ServiceContext>,
    counters: Arc<Counters>,
    session_ids: u64,
    /// Calls placed and not answered yet (bounded by the agent's `max_calls`).
    ringing: HashMap<CallHandle, placing::Ringing>,
    /// Our offers in the 2xx of INVITEs without one, until the ACK's answer (bounded
    /// like the calls).
    delayed: HashMap<CallHandle, SessionDescription>,
}

impl HostLoop {
    async fn run(mut self, mut cmd_rx: mpsc::Receiver<HostCommand>) {
        let mut buf = vec![0u8; 65_536];
        loop {
            let wake = self
                .ua
                .poll_timeout()
                .map(|d| self.start + d)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
            tokio::select! {
                r = self.socket.recv_from(&mut buf) => match r {
                    Ok((n, src)) => {
                        let now = self.start.elapsed();
                        self.ua.handle_datagram(now, Bytes::copy_from_slice(&buf[..n]), src);
                    }
                    Err(e) => tracing::debug!(error = %e, "service host receive"),
                },
                c = cmd_rx.recv() => match c {
                    Some(HostCommand::Hangup(call)) => self.ua.hangup(call, self.start.elapsed()),
                    Some(HostCommand::Fail(call, status)) => {
                        self.ua.reject(call, self.start.elapsed(), status, "")
                    }
                    Some(HostCommand::Place(p, reply)) => self.place(p, reply),
                    Some(HostCommand::GiveUp(call)) => self.give_up(call),
                    Some(HostCommand::NotifyRefer(call, frag)) => {
                        self.ua.notify_refer(call, self.start.elapsed(), &frag, true);
                    }
                    None => return,
                },
                _ = tokio::time::sleep_until(wake.into()) => {
                    self.ua.handle_timeout(self.start.elapsed());
                }
            }
            while let Some(e) = self.ua.poll_event() {
                self.on_event(e);
            }
            while let Some((dest, bytes)) = self.ua.poll_transmit() {
                if let Err(e) = self.socket.try_send_to(&bytes, dest) {
                    tracing::debug!(%dest, error = %e, "service host send");
                }
            }
        }
    }

    fn refuse(
        &mut self,
        call: CallHandle,
        status: u16,
        extra: &str,
        why: &str,
        source: SocketAddr,
    ) {
        tracing::warn!(call = call.get(), %source, status, reason = why, "service call refused");
        self.counters.refused.fetch_add(1, Ordering::Relaxed);
        self.ua.reject(call, self.start.elapsed(), status, extra);
    }

    fn trusted(&self, source: SocketAddr) -> bool {
        if self.ctx.config.trusted.is_empty() {
            source.ip().is_loopback()
        } else {
            self.ctx.config.trusted.contains(&source.ip())
        }
    }

    fn on_event(&mut self, e: UaEvent) {
        let now = self.start.elapsed();
        match e {
            UaEvent::Incoming {
                call,
                request_uri,
                from_uri,
                offer,
                source,
                ..
            } => self.on_incoming(call, &request_uri, from_uri, offer, source),
            UaEvent::Offer { call, sdp, .. } => {
                let answer = self.reoffer(call, &sdp);
                self.ua
                    .answer_offer(call, now, answer.as_deref().map_err(|s| *s));
            }
            UaEvent::Dtmf { call, digit, .. } => {
                if let Some(c) = self.calls.get(&call) {
                    let _ = c.sip.try_send(SipInput::Dtmf(digit));
                }
            }
            UaEvent::Answered { call, sdp } => self.placed_answered(call, sdp),
            UaEvent::Subscribe {
                call,
                event,
                request_uri,
                source,
            } => self.on_subscribe(call, &event, &request_uri, source),
            UaEvent::Refer {
                call,
                refer_to,
                referred_by,
                source,
            } => self.on_refer(call, &refer_to, referred_by, source),
            UaEvent::Confirmed {
                call,
                answer: Some(sdp),
            } => self.delayed_answer(call, Some(&sdp)),
            UaEvent::Confirmed { call, answer: None } => {
                if self.delayed.contains_key(&call) {
                    self.delayed_answer(call, None);
                }
            }
            UaEvent::Ended { call, reason } => {
                self.delayed.remove(&call);
                if self.placed_failed(call, reason) {
                    return;
                }
                if let Some(c) = self.calls.remove(&call) {
                    tracing::debug!(call = call.get(), ?reason, "service call ended");
                    let _ = c.sip.try_send(SipInput::Ended);
                    self.counters.calls.fetch_sub(1, Ordering::Relaxed);
                }
            }
            UaEvent::Response { .. } | UaEvent::Progress { .. } | UaEvent::Redirected { .. } => {}
        }
    }

    fn on_incoming(
        &mut self,
        call: CallHandle,
        request_uri: &str,
        caller: String,
        offer: Option<Bytes>,
        source: SocketAddr,
    ) {
        if !self.trusted(source) {
            // The Request-URI's parameters choose the mailbox: only the proxy may set them.
            self.refuse(call, 403, "", "source is not the proxy", source);
            return;
        }
        let request = match ServiceRequest::parse(request_uri) {
            Ok(r) => r,
            Err(e) => {
                let why = e.to_string();
                self.refuse(call, e.status(), "", &why, source);
                return;
            }
        };
        // RFC 5359 §2.15 retrieval: an INVITE to the park server with `Replaces` naming a
        // parked dialog (as its `Event: dialog` NOTIFY told) takes that orbit.
        let request = match self.replaced_orbit(call, request) {
            Ok(r) => r,
            Err(why) => {
                self.refuse(call, 481, "", &why, source);
                return;
            }
        };
        if let ServiceRequest::Park {
            domain,
            orbit: Some(orbit),
        } = &request
        {
            if !self.ctx.park.is_parked(domain, *orbit) {
                let why = format!("no call parked in orbit {orbit}");
                self.refuse(call, 404, "", &why, source);
                return;
            }
        }
        if let ServiceRequest::Announcement { name, early } = &request {
            if !self.ctx.announcements.has(name) {
                let why = format!("no announcement {name}.wav");
                self.refuse(call, early.unwrap_or(404), "", &why, source);
                return;
            }
        }
        // RFC 3261 §13.2.1 delayed offer (an INVITE without SDP): our offer goes in the
        // 200 and the answer comes in the ACK. Not with early media (the 183 answers).
        let early = matches!(
            &request,
            ServiceRequest::Announcement { early: Some(_), .. }
        );
        if offer.is_none() && early {
            self.refuse(
                call,
                488,
                "Warning: 399 switchboard \"an SDP offer in the INVITE is required\"\r\n",
                "INVITE without SDP offer for early media",
                source,
            );
            return;
        }
        let offer = match offer
            .map(|o| SessionDescription::parse_bytes(&o))
            .transpose()
        {
            Ok(o) => o,
            Err(e) => {
                let why = format!("bad SDP: {e}");
                self.refuse(call, 400, "", &why, source);
                return;
            }
        };
        let (media_tx, media_rx) = mpsc::channel(64);
        let session = match self.engine.open(media_tx) {
            Ok(s) => s,
            Err(e) => {
                let why = e.to_string();
                self.refuse(call, e.sip_status(), "Retry-After: 5\r\n", &why, source);
                return;
            }
        };
        self.session_ids = self.session_ids.wrapping_add(1) & 0x7fff_ffff;
        let caps =
            LocalCapabilities::new(self.media_ip, session.local_addr().port(), self.session_ids);
        let (sdp_out, params, delayed) = match &offer {
            Some(offer) => match negotiate(offer, &caps) {
                Ok(n) => (
                    n.answer.to_bytes(),
                    Some(StreamParams::from_negotiated(&n.stream)),
                    None,
                ),
                Err(e) => {
                    let extra = e
                        .warning()
                        .map(|(code, text)| format!("Warning: {code} switchboard \"{text}\"\r\n"))
                        .unwrap_or_default();
                    let why = e.to_string();
                    self.refuse(call, e.status(), &extra, &why, source);
                    return;
                }
            },
            None => {
                let ours = sdp::offer(&caps);
                (ours.to_bytes(), None, Some(ours))
            }
        };
        // The conference bridge holds a seat before answering: a full room gets 486.
        let room = match &request {
            ServiceRequest::Conference { domain, room } => {
                match self.seat(call, domain, room.as_deref(), &caller) {
                    Ok(r) => Some(r),
                    Err((status, extra, why)) => {
                        self.refuse(call, status, &extra, &why, source);
                        return;
                    }
                }
            }
            _ => None,
        };
        // Parking: an orbit is taken now, once nothing else can refuse the call.
        let mut parked_in = None;
        if let ServiceRequest::Park {
            domain,
            orbit: None,
        } = &request
        {
            match self.ctx.park.reserve(domain) {
                Some(o) => parked_in = Some(o),
                None => {
                    self.refuse(call, 486, "", "every park orbit is in use", source);
                    return;
                }
            }
        }
        // Who parked the call (RFC 3892: a blind transfer's INVITE names the transferor):
        // rung back when the call times out.
        let parker = self
            .ua
            .invite(call)
            .and_then(|i| i.header_by_name("Referred-By"))
            .and_then(|v| sip_message::NameAddr::parse(v).ok())
            .map(|n| n.uri.raw.to_string());
        if let Some(p) = params {
            session.start(p);
        }
        let media = Arc::new(session);
        let sip_rx = self.keep_call(call, media.clone(), caps);
        match &request {
            ServiceRequest::Announcement { early: Some(_), .. } => {
                self.ua
                    .provisional(call, self.start.elapsed(), 183, &sdp_out)
            }
            _ => self.ua.accept(call, self.start.elapsed(), &sdp_out),
        }
        if let Some(ours) = delayed {
            self.delayed.insert(call, ours);
        }
        self.counters.answered.fetch_add(1, Ordering::Relaxed);
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        let dialog = self.dialog_id(call);
        let mut call = Call::new(
            call,
            media,
            media_rx,
            sip_rx,
            self.cmd_tx.clone(),
            caller,
            source,
        );
        call.dialog = dialog;
        let ctx = self.ctx.clone();
        tokio::spawn(async move {
            match (request, room) {
                (ServiceRequest::Voicemail { mode, domain }, _) => {
                    voicemail::run(call, mode, domain, ctx).await
                }
                (ServiceRequest::Conference { .. }, Some((room, pin))) => {
                    conference::run(call, room, pin, ctx).await
                }
                (ServiceRequest::Conference { .. }, None) => {}
                (ServiceRequest::MusicOnHold, _) => moh::run(call, ctx.playlist.clone()).await,
                (
                    ServiceRequest::Park {
                        domain,
                        orbit: Some(orbit),
                    },
                    _,
                ) => park::retrieve(call, ctx.park.clone(), domain, orbit).await,
                (
                    ServiceRequest::Park {
                        domain,
                        orbit: None,
                    },
                    _,
                ) => {
                    let orbit = parked_in.unwrap_or_default();
                    park::park(call, ctx, domain, orbit, parker).await
                }
                (ServiceRequest::Announcement { name, early }, _) => {
                    announce::run(call, name, early, &ctx.announcements).await
                }
            }
        });
    }

    /// Files a call the host now carries (its media session started) in the calls table;
    /// returns the receiving end of the call's SIP input, for its [`Call`].
    pub(super) fn keep_call(
        &mut self,
        call: CallHandle,
        media: Arc<MediaSession>,
        caps: LocalCapabilities,
    ) -> mpsc::Receiver<SipInput> {
        let (sip, sip_rx) = mpsc::channel(32);
        self.calls.insert(call, CallEntry { sip, media, caps });
        sip_rx
    }

    /// A call's dialog identifiers, as the host sees them.
    pub(super) fn dialog_id(&self, call: CallHandle) -> Option<DialogId> {
        self.ua.dialog(call).map(|d| DialogId {
            call_id: d.call_id.clone(),
            local_tag: d.local_tag.clone(),
            remote_tag: d.remote_tag.clone(),
        })
    }
}
