//! [`UserAgent`]: the calls table, the commands the caller gives a call (ring, accept,
//! reject, answer an offer, hang up), the 2xx retransmissions (RFC 3261 §13.3.1.4) and the
//! poll interface. Received requests are dispatched in `incoming.rs`; requests we send in
//! `outgoing.rs`; calls we place (the UAC side) in `uac.rs`.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_message::{ResponseBuilder, SipMessage};
use sip_transaction::{Config, Event, TransactionId, TransactionLayer};

use crate::config::UaConfig;
use crate::dialog::Dialog;
use crate::event::{EndReason, OfferKind, UaEvent};
use crate::ids::{CallHandle, RequestHandle, Tokens};

/// Where a call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// INVITE received, no final answer yet.
    Offered,
    /// INVITE sent (we are the UAC), no response yet.
    Calling,
    /// INVITE sent and a provisional response came back: a CANCEL may be sent now.
    Proceeding,
    /// 2xx sent, waiting for the ACK.
    Answered,
    /// ACK received.
    Confirmed,
    /// We sent BYE and wait for its answer.
    Ending,
}

/// A 2xx retransmitted by the UAS core until its ACK (RFC 3261 §13.3.1.4).
#[derive(Debug, Clone)]
pub(crate) struct Retransmit {
    pub bytes: Bytes,
    pub dest: SocketAddr,
    pub cseq: u32,
    pub next: Duration,
    pub interval: Duration,
    pub give_up: Duration,
    pub initial: bool,
}

/// One call: the INVITE, its dialog and what is pending on it.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub phase: Phase,
    pub invite: SipMessage,
    pub invite_tx: Option<TransactionId>,
    pub source: SocketAddr,
    pub dialog: Dialog,
    pub pending_2xx: Option<Retransmit>,
    pub pending_offer: Option<(TransactionId, OfferKind, SipMessage)>,
    /// Its `Ended` event was already given (a BYE we send after it only cleans up).
    pub reported: bool,
    /// For a call we placed: the ACK of its 2xx and whether we want it cancelled.
    pub uac: Option<crate::uac::UacState>,
    /// A dialog made by a REFER received outside any call (no session: forgotten with
    /// its last NOTIFY, never sent BYE).
    pub refer_only: bool,
}

/// What a client transaction of ours is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    Bye(CallHandle),
    /// The INVITE of a call we placed (its responses go to `uac.rs`).
    Invite(CallHandle),
    /// A CANCEL of ours (its answer changes nothing: the INVITE's answer does).
    Cancel,
    InDialog,
    OutOfDialog(RequestHandle),
}

/// A SIP user agent for services: many calls at once, each answered on the UAS side.
pub struct UserAgent {
    pub(crate) config: UaConfig,
    pub(crate) layer: TransactionLayer<SocketAddr>,
    pub(crate) calls: HashMap<CallHandle, Call>,
    pub(crate) by_dialog: HashMap<(String, String), CallHandle>,
    pub(crate) by_invite_tx: HashMap<TransactionId, CallHandle>,
    pub(crate) client: HashMap<TransactionId, Purpose>,
    pub(crate) events: VecDeque<UaEvent>,
    pub(crate) transmits: VecDeque<(SocketAddr, Bytes)>,
    pub(crate) tokens: Tokens,
    next_handle: u64,
}

impl UserAgent {
    /// An agent; `seed` makes its tags, branches and Call-IDs (give it a random number).
    pub fn new(config: UaConfig, seed: u64) -> UserAgent {
        let layer = TransactionLayer::new(Config {
            timers: config.timers,
            max_transactions: config.max_transactions,
            auto_100_trying: Some(Duration::ZERO),
        });
        UserAgent {
            config,
            layer,
            calls: HashMap::new(),
            by_dialog: HashMap::new(),
            by_invite_tx: HashMap::new(),
            client: HashMap::new(),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            tokens: Tokens::new(seed),
            next_handle: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &UaConfig {
        &self.config
    }

    /// Calls alive.
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// The dialog of a call.
    pub fn dialog(&self, call: CallHandle) -> Option<&Dialog> {
        self.calls.get(&call).map(|c| &c.dialog)
    }

    /// The INVITE that made a call (to read headers such as RFC 3911 `Join`).
    pub fn invite(&self, call: CallHandle) -> Option<&SipMessage> {
        self.calls.get(&call).map(|c| &c.invite)
    }

    pub(crate) fn allocate(&mut self) -> u64 {
        self.next_handle += 1;
        self.next_handle
    }

    /// The dialog a request outside any dialog (INVITE, REFER, SUBSCRIBE) makes on our
    /// side, with a new local tag; None once the request is answered 503 (`max_calls`
    /// calls alive; `Retry-After: 5`) or 400 (no Contact or From tag).
    pub(crate) fn new_uas_dialog(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: &SipMessage,
    ) -> Option<Dialog> {
        if self.calls.len() >= self.config.max_calls {
            let b = ResponseBuilder::new(req, 503)
                .header("Retry-After", format_args!("5"))
                .to_vec();
            let _ = self.layer.respond(now, id, Bytes::from(b), 503);
            return None;
        }
        let tag = self.tokens.tag();
        let first_cseq = (self.tokens.next() & 0x7fff) as u32 + 1;
        let dialog = Dialog::from_invite(req, &tag, first_cseq);
        if dialog.is_none() {
            let b = ResponseBuilder::new(req, 400)
                .reason("Missing Contact or From tag")
                .to_vec();
            let _ = self.layer.respond(now, id, Bytes::from(b), 400);
        }
        dialog
    }

    /// Keeps a confirmed dialog that carries no call of its own (made by a REFER or a
    /// SUBSCRIBE outside any call, for its NOTIFYs; the last one forgets it); its handle.
    pub(crate) fn keep_notifier_dialog(
        &mut self,
        req: SipMessage,
        source: SocketAddr,
        dialog: Dialog,
    ) -> CallHandle {
        let call = CallHandle(self.allocate());
        self.by_dialog
            .insert((dialog.call_id.clone(), dialog.local_tag.clone()), call);
        self.calls.insert(
            call,
            Call {
                phase: Phase::Confirmed,
                invite: req,
                invite_tx: None,
                source,
                dialog,
                pending_2xx: None,
                pending_offer: None,
                reported: true,
                uac: None,
                refer_only: true,
            },
        );
        call
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Bytes)> {
        if let Some(t) = self.transmits.pop_front() {
            return Some(t);
        }
        self.layer.poll_transmit().map(|t| (t.dest, t.bytes))
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<UaEvent> {
        self.events.pop_front()
    }

    /// When to call [`UserAgent::handle_timeout`] next.
    pub fn poll_timeout(&mut self) -> Option<Duration> {
        let retransmit = self
            .calls
            .values()
            .filter_map(|c| c.pending_2xx.as_ref().map(|r| r.next))
            .min();
        match (self.layer.poll_timeout(), retransmit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time passed: transaction timers and 2xx retransmissions.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.layer.handle_timeout(now);
        self.drain_layer_events(now);
        let due: Vec<CallHandle> = self
            .calls
            .iter()
            .filter(|(_, c)| c.pending_2xx.as_ref().is_some_and(|r| r.next <= now))
            .map(|(h, _)| *h)
            .collect();
        for h in due {
            let Some(call) = self.calls.get_mut(&h) else {
                continue;
            };
            let Some(r) = call.pending_2xx.as_mut() else {
                continue;
            };
            if now >= r.give_up {
                call.pending_2xx = None;
                self.send_bye(h, now);
                if let Some(c) = self.calls.get_mut(&h) {
                    // The BYE's answer removes the call; report why it ended now.
                    c.phase = Phase::Ending;
                    c.reported = true;
                }
                self.events.push_back(UaEvent::Ended {
                    call: h,
                    reason: EndReason::AckTimeout,
                });
                continue;
            }
            self.transmits.push_back((r.dest, r.bytes.clone()));
            r.interval = (r.interval * 2).min(self.config.timers.t2);
            r.next = now + r.interval;
        }
    }

    /// Sends `180 Ringing` (with our To tag) on an offered call.
    pub fn ringing(&mut self, call: CallHandle, now: Duration) {
        self.provisional(call, now, 180, &[]);
    }

    /// Sends a provisional response; `183` with an SDP body gives early media.
    pub fn provisional(&mut self, call: CallHandle, now: Duration, status: u16, sdp: &[u8]) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let (Phase::Offered, Some(tx)) = (c.phase, c.invite_tx) else {
            return;
        };
        let bytes = self.answer_bytes(c, status, sdp, "");
        let _ = self.layer.respond(now, tx, bytes, status);
    }

    /// Answers the INVITE with `200 OK` carrying `sdp` (the answer to the caller's offer),
    /// retransmitted until the ACK.
    pub fn accept(&mut self, call: CallHandle, now: Duration, sdp: &[u8]) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let (Phase::Offered, Some(tx)) = (c.phase, c.invite_tx) else {
            return;
        };
        let bytes = self.answer_bytes(c, 200, sdp, "");
        let cseq = c.invite.cseq().seq;
        let dest = c.source;
        if self.layer.respond(now, tx, bytes.clone(), 200).is_err() {
            return;
        }
        let t1 = self.config.timers.t1;
        let give_up = now + self.config.timers.t1x64();
        if let Some(c) = self.calls.get_mut(&call) {
            c.phase = Phase::Answered;
            c.invite_tx = None;
            c.pending_2xx = Some(Retransmit {
                bytes,
                dest,
                cseq,
                next: now + t1,
                interval: t1,
                give_up,
                initial: true,
            });
        }
        self.by_invite_tx.remove(&tx);
    }

    /// Refuses the INVITE with `status` (300-699); `extra` are whole header lines
    /// (e.g. `Warning: 305 host "Incompatible media format"\r\n`).
    pub fn reject(&mut self, call: CallHandle, now: Duration, status: u16, extra: &str) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let (Phase::Offered, Some(tx)) = (c.phase, c.invite_tx) else {
            return;
        };
        let bytes = self.answer_bytes(c, status, b"", extra);
        let _ = self.layer.respond(now, tx, bytes, status);
        self.remove_call(call);
        self.events.push_back(UaEvent::Ended {
            call,
            reason: EndReason::Rejected,
        });
    }

    /// Answers a pending re-INVITE or UPDATE: `Ok(sdp)` with 200 and the answer, `Err(status)`
    /// refuses the offer (e.g. 488) and the session stays as it was.
    pub fn answer_offer(&mut self, call: CallHandle, now: Duration, answer: Result<&[u8], u16>) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some((tx, kind, request)) = c.pending_offer.take() else {
            return;
        };
        let (status, body) = match answer {
            Ok(sdp) => (200, sdp),
            Err(status) => (status, &b""[..]),
        };
        let c = &self.calls[&call];
        let mut b = ResponseBuilder::new(&request, status)
            .header("Contact", format_args!("<{}>", self.config.contact))
            .header("Server", format_args!("{}", self.config.user_agent));
        if !body.is_empty() {
            b = b
                .header("Content-Type", format_args!("application/sdp"))
                .body(body);
        }
        let bytes = Bytes::from(b.to_vec());
        let dest = c.source;
        let _ = self.layer.respond(now, tx, bytes.clone(), status);
        if kind == OfferKind::ReInvite && status == 200 {
            let t1 = self.config.timers.t1;
            let give_up = now + self.config.timers.t1x64();
            if let Some(c) = self.calls.get_mut(&call) {
                c.pending_2xx = Some(Retransmit {
                    bytes,
                    dest,
                    cseq: request.cseq().seq,
                    next: now + t1,
                    interval: t1,
                    give_up,
                    initial: false,
                });
            }
        }
    }

    /// Ends a call: BYE once answered, `480 Temporarily Unavailable` before.
    pub fn hangup(&mut self, call: CallHandle, now: Duration) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        match c.phase {
            Phase::Offered => self.reject(call, now, 480, ""),
            Phase::Calling | Phase::Proceeding => self.cancel(call, now),
            Phase::Answered | Phase::Confirmed => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.pending_2xx = None;
                    c.phase = Phase::Ending;
                }
                if !self.send_bye(call, now) {
                    self.remove_call(call);
                    self.events.push_back(UaEvent::Ended {
                        call,
                        reason: EndReason::LocalBye,
                    });
                }
            }
            Phase::Ending => {}
        }
    }

    /// A response to the call's INVITE (or our answer) with our tag, Contact and body.
    fn answer_bytes(&self, c: &Call, status: u16, sdp: &[u8], extra: &str) -> Bytes {
        let mut b = ResponseBuilder::new(&c.invite, status)
            .to_tag(&c.dialog.local_tag)
            .header("Server", format_args!("{}", self.config.user_agent));
        if (101..300).contains(&status) {
            b = b
                .header("Contact", format_args!("<{}>", self.config.contact))
                .header("Allow", format_args!("{}", crate::incoming::ALLOW));
            // RFC 3261 §12.1.1: the INVITE's Record-Route, copied into the response that
            // creates the dialog, so the caller's route set keeps the proxies in the path.
            for r in &c.dialog.route_set {
                b = b.header("Record-Route", format_args!("{r}"));
            }
        }
        if !sdp.is_empty() {
            b = b
                .header("Content-Type", format_args!("application/sdp"))
                .body(sdp);
        }
        let mut v = b.to_vec();
        if !extra.is_empty() {
            // Extra header lines go before Content-Length, which ends the header section.
            if let Some(at) = find(&v, b"Content-Length:") {
                v.splice(at..at, extra.bytes());
            }
        }
        Bytes::from(v)
    }

    pub(crate) fn remove_call(&mut self, call: CallHandle) {
        if let Some(c) = self.calls.remove(&call) {
            self.by_dialog
                .remove(&(c.dialog.call_id.clone(), c.dialog.local_tag.clone()));
            if let Some(tx) = c.invite_tx {
                self.by_invite_tx.remove(&tx);
            }
        }
    }

    /// Forgets a call and reports it ended by `reason`, unless its end was reported already.
    pub(crate) fn end_call(&mut self, call: CallHandle, reason: EndReason) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let reported = c.reported;
        self.remove_call(call);
        if !reported {
            self.events.push_back(UaEvent::Ended { call, reason });
        }
    }

    /// Transaction events: timeouts of our requests, terminated transactions.
    pub(crate) fn drain_layer_events(&mut self, _now: Duration) {
        while let Some(e) = self.layer.poll_event() {
            match e {
                Event::Timeout { id } | Event::TransportError { id } => {
                    self.client_finished(id, 408);
                }
                Event::Terminated { id } => {
                    self.client.remove(&id);
                    if let Some(call) = self.by_invite_tx.remove(&id) {
                        if let Some(c) = self.calls.get_mut(&call) {
                            c.invite_tx = None;
                        }
                    }
                }
            }
        }
    }

    /// A client transaction of ours got its final answer (or timed out with `status` 408).
    pub(crate) fn client_finished(&mut self, id: TransactionId, status: u16) {
        match self.client.remove(&id) {
            Some(Purpose::Bye(call)) => self.end_call(call, EndReason::LocalBye),
            // Timer B: no answer at all to an INVITE of ours.
            Some(Purpose::Invite(call)) => self.end_call(call, EndReason::Failed(status)),
            Some(Purpose::OutOfDialog(request)) => {
                self.events.push_back(UaEvent::Response { request, status });
            }
            Some(Purpose::InDialog | Purpose::Cancel) | None => {}
        }
    }
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
