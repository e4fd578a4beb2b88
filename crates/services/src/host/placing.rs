//! Calls the host places (it is the UAC): the park's ring-back to the parker, and later
//! the §2.15 INVITE with `Replaces` and the conference bridge's dial-out. A service asks
//! with [`Call::place`]; the host opens an RTP session, offers it in an INVITE sent to the
//! proxy (`HostConfig::proxy`), CANCELs it when it rings past its ring time, and on the
//! 2xx starts the media with the answer and hands the service a [`Call`] like an answered
//! incoming one. A failure (or no answer) comes back as its status.
//!
//! Not here: following a 3xx (the proxy follows redirects for its own legs), a placed
//! call's early media (ignored), calls to anywhere but the proxy.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use media::{MediaEvent, MediaSession, StreamParams};
use sdp::{accept_answer, offer, LocalCapabilities, SessionDescription};
use sip_dialog::{CallHandle, EndReason, OutgoingCall};
use tokio::sync::{mpsc, oneshot};

use super::HostLoop;
use crate::call::{Call, HostCommand, Placement};

/// A call placed, not answered yet.
pub(super) struct Ringing {
    reply: oneshot::Sender<Result<Call, u16>>,
    media: MediaSession,
    media_rx: mpsc::Receiver<MediaEvent>,
    offer: SessionDescription,
    caps: LocalCapabilities,
    uri: String,
    proxy: std::net::SocketAddr,
}

impl HostLoop {
    /// Places a call for a service.
    pub(super) fn place(&mut self, p: Placement, reply: oneshot::Sender<Result<Call, u16>>) {
        let Some(proxy) = self.ctx.config.proxy else {
            tracing::warn!(uri = %p.uri, "cannot place a call: the service host knows no proxy");
            let _ = reply.send(Err(503));
            return;
        };
        let (media_tx, media_rx) = mpsc::channel(64);
        let media = match self.engine.open(media_tx) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(uri = %p.uri, error = %e, "cannot place a call: no RTP port");
                let _ = reply.send(Err(e.sip_status()));
                return;
            }
        };
        self.session_ids = self.session_ids.wrapping_add(1) & 0x7fff_ffff;
        let caps =
            LocalCapabilities::new(self.media_ip, media.local_addr().port(), self.session_ids);
        let our_offer = offer(&caps);
        let me = self.ua.config().via_sent_by.clone();
        let request = OutgoingCall {
            uri: p.uri.clone(),
            from: format!("\"{}\" <sip:services@{me}>", p.display.replace('"', "")),
            to: format!("<{}>", p.uri),
            headers: p.headers,
            sdp: our_offer.to_bytes(),
            dest: proxy,
        };
        let Some(call) = self.ua.place_call(self.start.elapsed(), &request) else {
            tracing::warn!(uri = %p.uri, "cannot place a call: too many calls or a bad URI");
            let _ = reply.send(Err(503));
            return;
        };
        tracing::info!(call = call.get(), uri = %p.uri, "placing a call");
        self.ringing.insert(
            call,
            Ringing {
                reply,
                media,
                media_rx,
                offer: our_offer,
                caps,
                uri: p.uri,
                proxy,
            },
        );
        let commands = self.cmd_tx.clone();
        let ring = p.ring;
        tokio::spawn(async move {
            tokio::time::sleep(ring).await;
            let _ = commands.send(HostCommand::GiveUp(call)).await;
        });
    }

    /// The ring time is over: CANCEL, if it still rings.
    pub(super) fn give_up(&mut self, call: CallHandle) {
        if self.ringing.contains_key(&call) {
            tracing::info!(
                call = call.get(),
                "placed call not answered in time: cancelling"
            );
            self.ua.hangup(call, self.start.elapsed());
        }
    }

    /// A 2xx to a call we placed: start its media, hand it to the service.
    pub(super) fn placed_answered(&mut self, call: CallHandle, sdp: Option<Bytes>) {
        let Some(r) = self.ringing.remove(&call) else {
            return;
        };
        let params = sdp
            .as_deref()
            .and_then(|b| SessionDescription::parse_bytes(b).ok())
            .and_then(|answer| accept_answer(&r.offer, &answer).ok());
        let Some(stream) = params else {
            tracing::warn!(call = call.get(), uri = %r.uri, "placed call answered without a usable SDP answer: hanging up");
            self.ua.hangup(call, self.start.elapsed());
            let _ = r.reply.send(Err(488));
            return;
        };
        if r.reply.is_closed() {
            // The service gave up waiting (its own call ended).
            self.ua.hangup(call, self.start.elapsed());
            return;
        }
        r.media.start(StreamParams::from_negotiated(&stream));
        let media = Arc::new(r.media);
        let sip_rx = self.keep_call(call, media.clone(), r.caps);
        self.counters.answered.fetch_add(1, Ordering::Relaxed);
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        tracing::info!(call = call.get(), uri = %r.uri, "placed call answered");
        let dialog = self.dialog_id(call);
        let mut c = Call::new(
            call,
            media,
            r.media_rx,
            sip_rx,
            self.cmd_tx.clone(),
            r.uri,
            r.proxy,
        );
        c.dialog = dialog;
        if let Err(Ok(mut c)) = r.reply.send(Ok(c)) {
            c.hangup();
        }
    }

    /// A call we placed ended before its answer: tell the service why.
    pub(super) fn placed_failed(&mut self, call: CallHandle, reason: EndReason) -> bool {
        let Some(r) = self.ringing.remove(&call) else {
            return false;
        };
        let status = match reason {
            EndReason::Failed(s) => s,
            _ => 487,
        };
        tracing::info!(call = call.get(), uri = %r.uri, status, "placed call not answered");
        let _ = r.reply.send(Err(status));
        true
    }
}
