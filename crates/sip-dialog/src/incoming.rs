//! Received datagrams: requests dispatched by method (a new INVITE makes a call; ACK, BYE,
//! CANCEL, re-INVITE, UPDATE and INFO find their dialog; OPTIONS is answered), responses
//! matched to the requests we sent.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_message::typed::MediaType;
use sip_message::{error_response, HeaderName, Method, ResponseBuilder, SipMessage};
use sip_transaction::{Reliability, RequestOutcome, ResponseOutcome, TransactionId};

use crate::agent::{Call, Phase, Purpose, UserAgent};
use crate::dtmf_relay::{parse_dtmf, parse_dtmf_relay};
use crate::event::{EndReason, OfferKind, UaEvent};
use crate::ids::CallHandle;

pub(crate) const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REFER";

impl UserAgent {
    /// A datagram arrived from `source`. Malformed requests get a stateless 400; malformed
    /// responses are dropped.
    pub fn handle_datagram(&mut self, now: Duration, bytes: Bytes, source: SocketAddr) {
        let msg = match SipMessage::parse(bytes.clone()) {
            Ok(m) => m,
            Err(e) => {
                if let Some(answer) = error_response(&bytes, 400, &e.to_string(), None) {
                    self.transmits.push_back((source, Bytes::from(answer)));
                }
                return;
            }
        };
        if msg.is_request() {
            let outcome = self
                .layer
                .handle_request(now, msg, Reliability::Unreliable, source);
            self.on_request(now, outcome, source);
        } else {
            match self.layer.handle_response(now, msg) {
                ResponseOutcome::Matched { id, response } => {
                    if let Some(Purpose::Invite(call)) = self.client.get(&id).copied() {
                        self.on_invite_response(now, call, &response);
                    } else if response.status() >= 200 {
                        self.client_finished(id, response.status());
                    }
                }
                ResponseOutcome::Absorbed | ResponseOutcome::Stray { .. } => {}
            }
        }
        self.drain_layer_events(now);
    }

    fn on_request(&mut self, now: Duration, outcome: RequestOutcome, source: SocketAddr) {
        match outcome {
            RequestOutcome::New { id, request } => self.on_new_request(now, id, request, source),
            RequestOutcome::Cancel {
                cancel_tx,
                invite_tx,
                request,
            } => self.on_cancel(now, cancel_tx, invite_tx, &request),
            RequestOutcome::Ack { ack, .. } => self.on_ack(&ack),
            RequestOutcome::Overloaded { request } => {
                let b = ResponseBuilder::new(&request, 503)
                    .header("Retry-After", format_args!("5"))
                    .to_vec();
                self.transmits.push_back((source, Bytes::from(b)));
            }
            RequestOutcome::Absorbed | RequestOutcome::NotARequest { .. } => {}
        }
    }

    fn respond(&mut self, now: Duration, id: TransactionId, req: &SipMessage, status: u16) {
        let b = ResponseBuilder::new(req, status)
            .header("Server", format_args!("{}", self.config.user_agent));
        let b = if status == 405 || (req.method() == Method::Options && status == 200) {
            b.header("Allow", format_args!("{ALLOW}")).header(
                "Accept",
                format_args!("application/sdp, application/dtmf-relay"),
            )
        } else {
            b
        };
        let _ = self.layer.respond(now, id, Bytes::from(b.to_vec()), status);
    }

    fn find_call(&self, req: &SipMessage) -> Option<CallHandle> {
        let tag = req.to_tag()?;
        let h = *self
            .by_dialog
            .get(&(req.call_id().to_string(), tag.to_string()))?;
        self.calls
            .get(&h)
            .filter(|c| c.dialog.matches(req))
            .map(|_| h)
    }

    fn on_new_request(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: SipMessage,
        source: SocketAddr,
    ) {
        if req.to_tag().is_none() {
            match req.method() {
                Method::Invite => self.on_invite(now, id, req, source),
                Method::Refer => self.on_refer(now, id, req, source, None),
                Method::Subscribe => self.on_subscribe(now, id, req, source),
                Method::Options => self.respond(now, id, &req, 200),
                Method::Bye | Method::Info | Method::Update => self.respond(now, id, &req, 481),
                _ => self.respond(now, id, &req, 405),
            }
            return;
        }
        let Some(call) = self.find_call(&req) else {
            self.respond(now, id, &req, 481);
            return;
        };
        // RFC 3261 §12.2.2: a CSeq lower than the last one is out of order.
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if req.cseq().seq <= c.dialog.remote_cseq {
            self.respond(now, id, &req, 500);
            return;
        }
        c.dialog.remote_cseq = c.dialog.remote_cseq.max(req.cseq().seq);
        match req.method() {
            Method::Bye => self.on_bye(now, id, call, &req),
            Method::Invite | Method::Update => self.on_offer(now, id, call, req),
            Method::Info => self.on_info(now, id, call, &req),
            Method::Refer => self.on_refer(now, id, req, source, Some(call)),
            Method::Options => self.respond(now, id, &req, 200),
            _ => self.respond(now, id, &req, 405),
        }
    }

    fn on_invite(&mut self, now: Duration, id: TransactionId, req: SipMessage, source: SocketAddr) {
        let Some(dialog) = self.new_uas_dialog(now, id, &req) else {
            return;
        };
        let offer = is_sdp(&req).then(|| req.body().clone());
        let call = CallHandle(self.allocate());
        self.events.push_back(UaEvent::Incoming {
            call,
            request_uri: req.request_uri_str().to_string(),
            from: req.value(req.from_index()).to_string(),
            from_uri: req
                .from()
                .map(|f| f.uri.raw.to_string())
                .unwrap_or_default(),
            offer,
            source,
        });
        self.by_dialog
            .insert((dialog.call_id.clone(), dialog.local_tag.clone()), call);
        self.by_invite_tx.insert(id, call);
        self.calls.insert(
            call,
            Call {
                phase: Phase::Offered,
                invite: req,
                invite_tx: Some(id),
                source,
                dialog,
                pending_2xx: None,
                pending_offer: None,
                reported: false,
                uac: None,
                refer_only: false,
            },
        );
    }

    fn on_cancel(
        &mut self,
        now: Duration,
        cancel_tx: TransactionId,
        invite_tx: Option<TransactionId>,
        req: &SipMessage,
    ) {
        let call = invite_tx.and_then(|t| self.by_invite_tx.get(&t).copied());
        let Some(call) = call else {
            self.respond(now, cancel_tx, req, 481);
            return;
        };
        self.respond(now, cancel_tx, req, 200);
        if self.terminate_unanswered_invite(now, call) {
            self.remove_call(call);
            self.events.push_back(UaEvent::Ended {
                call,
                reason: EndReason::Cancelled,
            });
        }
    }

    /// Answers a call's INVITE that has no final response yet with 487 Request Terminated
    /// (RFC 3261 section 9.2 and 15.1.2); true when it had none (the call was only offered).
    fn terminate_unanswered_invite(&mut self, now: Duration, call: CallHandle) -> bool {
        let Some(c) = self.calls.get(&call) else {
            return false;
        };
        let (Phase::Offered, Some(tx)) = (c.phase, c.invite_tx) else {
            return false;
        };
        let b = ResponseBuilder::new(&c.invite, 487)
            .to_tag(&c.dialog.local_tag)
            .to_vec();
        let _ = self.layer.respond(now, tx, Bytes::from(b), 487);
        true
    }

    fn on_ack(&mut self, ack: &SipMessage) {
        let Some(call) = self.find_call(ack) else {
            return;
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(r) = &c.pending_2xx else {
            return;
        };
        if r.cseq != ack.cseq().seq {
            return;
        }
        let initial = r.initial;
        c.pending_2xx = None;
        if initial && c.phase == Phase::Answered {
            c.phase = Phase::Confirmed;
            // RFC 3264 §4 / RFC 3261 §13.2.1: an INVITE without an offer got ours in the
            // 2xx; its answer comes in the ACK.
            let answer = is_sdp(ack).then(|| ack.body().clone());
            self.events.push_back(UaEvent::Confirmed { call, answer });
        }
    }

    fn on_bye(&mut self, now: Duration, id: TransactionId, call: CallHandle, req: &SipMessage) {
        self.respond(now, id, req, 200);
        // A BYE before our final answer (an early dialog) also ends the INVITE (§15.1.2).
        self.terminate_unanswered_invite(now, call);
        self.end_call(call, EndReason::RemoteBye);
    }

    fn on_offer(&mut self, now: Duration, id: TransactionId, call: CallHandle, req: SipMessage) {
        let kind = if req.method() == Method::Invite {
            OfferKind::ReInvite
        } else {
            OfferKind::Update
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.pending_offer.is_some() || (kind == OfferKind::ReInvite && c.pending_2xx.is_some()) {
            // RFC 3261 §14.2: an offer while one is pending.
            self.respond(now, id, &req, 491);
            return;
        }
        if !is_sdp(&req) {
            // No offer: a session refresh. Answer with nothing changed is the caller's
            // job only when there is an offer; an empty re-INVITE would need our offer in
            // the 200 (delayed offer), which services do not make yet.
            self.respond(now, id, &req, 488);
            return;
        }
        let sdp = req.body().clone();
        c.pending_offer = Some((id, kind, req));
        self.events.push_back(UaEvent::Offer { call, kind, sdp });
    }

    fn on_info(&mut self, now: Duration, id: TransactionId, call: CallHandle, req: &SipMessage) {
        let body = std::str::from_utf8(req.body()).unwrap_or("");
        let kind = req
            .header(HeaderName::ContentType)
            .and_then(|v| MediaType::parse(v).ok());
        let digit = match kind {
            Some(t) if t.is("application", "dtmf-relay") => parse_dtmf_relay(body),
            Some(t) if t.is("application", "dtmf") => parse_dtmf(body),
            // An INFO without a body is a keep-alive of some phones.
            None if req.body().is_empty() => {
                self.respond(now, id, req, 200);
                return;
            }
            _ => {
                self.respond(now, id, req, 415);
                return;
            }
        };
        match digit {
            Some(d) => {
                self.respond(now, id, req, 200);
                self.events.push_back(UaEvent::Dtmf {
                    call,
                    digit: d.digit,
                    duration_ms: d.duration_ms,
                });
            }
            None => self.respond(now, id, req, 400),
        }
    }
}

pub(crate) fn is_sdp(req: &SipMessage) -> bool {
    !req.body().is_empty()
        && req
            .header(HeaderName::ContentType)
            .and_then(|v| MediaType::parse(v).ok())
            .is_some_and(|t| t.is("application", "sdp"))
}
