//! Calls we place: the UAC side of INVITE (RFC 3261 §13.2). [`UserAgent::place_call`] sends
//! an INVITE (with our SDP offer) through a `sip-transaction` INVITE client transaction,
//! which retransmits it on Timer A and gives up on Timer B; provisional responses come
//! back as [`UaEvent::Progress`], a 2xx is ACKed here (every retransmission of it too,
//! §13.2.2.4) and reported as [`UaEvent::Answered`], a 3xx as [`UaEvent::Redirected`], and
//! any failure ends the call (`EndReason::Failed`). Hanging up before the answer sends
//! CANCEL (§9.1: only once a provisional response came; before that, it waits for one);
//! a 2xx that crosses the CANCEL is ACKed and then ended with BYE.
//!
//! An INVITE with `Replaces` (RFC 3891) is an ordinary INVITE with one more header:
//! [`replaces_header`] writes it. Not here: following a 3xx (the caller decides), forked
//! 2xx from several phones (each is ACKed; only the first makes the dialog), delayed offer
//! on our side (we always offer in the INVITE), DNS (the first hop is an address).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_message::{build_cancel, HeaderName, NameAddr, SipMessage};
use sip_transaction::Reliability;

use crate::agent::{Call, Phase, Purpose, UserAgent};
use crate::dialog::Dialog;
use crate::event::{EndReason, UaEvent};
use crate::ids::CallHandle;
use crate::incoming::is_sdp;

/// An INVITE to send ([`UserAgent::place_call`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingCall {
    /// The Request-URI, e.g. `sip:bob@example.com`.
    pub uri: String,
    /// Our From value without tag (a tag is added), e.g. `"Park" <sip:park@example.com>`.
    pub from: String,
    /// The To value, e.g. `<sip:bob@example.com>`.
    pub to: String,
    /// Extra whole header lines, each ending in CRLF (`Replaces: ...\r\n`,
    /// `Referred-By: ...\r\n`).
    pub headers: String,
    /// The SDP offer.
    pub sdp: Vec<u8>,
    /// The first hop (the proxy).
    pub dest: SocketAddr,
}

/// What a call we placed keeps beyond its dialog.
#[derive(Debug, Clone, Default)]
pub(crate) struct UacState {
    /// The ACK of the 2xx, sent again for each retransmitted 2xx.
    pub ack: Option<(SocketAddr, Bytes)>,
    /// The caller hung up before any provisional response: CANCEL on the first one.
    pub cancel_wanted: bool,
    /// Our CANCEL is sent.
    pub cancelled: bool,
}

/// An RFC 3891 `Replaces` header line (CRLF-terminated) naming the dialog with
/// `call_id`, whose tags are `to_tag` and `from_tag` as the receiving phone sees them
/// (`to-tag` is its local tag when it is the UAS of that dialog).
pub fn replaces_header(call_id: &str, to_tag: &str, from_tag: &str) -> String {
    format!("Replaces: {call_id};to-tag={to_tag};from-tag={from_tag}\r\n")
}

impl UserAgent {
    /// Places a call: sends the INVITE to `c.dest`. `None` when the calls or transaction
    /// table is full or the request does not parse (a bad URI or header line).
    pub fn place_call(&mut self, now: Duration, c: &OutgoingCall) -> Option<CallHandle> {
        if self.calls.len() >= self.config.max_calls {
            return None;
        }
        let branch = self.tokens.branch();
        let tag = self.tokens.tag();
        let call_id = format!("{:016x}@switchboard", self.tokens.next());
        let cseq = (self.tokens.next() & 0x7fff) as u32 + 1;
        let mut head = String::with_capacity(768);
        let _ = write!(
            head,
            "INVITE {} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch={branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: {};tag={tag}\r\nTo: {}\r\nCall-ID: {call_id}\r\n\
             CSeq: {cseq} INVITE\r\nContact: <{}>\r\nAllow: {}\r\nSupported: replaces\r\n\
             User-Agent: {}\r\n{}",
            c.uri,
            self.config.via_sent_by,
            c.from,
            c.to,
            self.config.contact,
            crate::incoming::ALLOW,
            self.config.user_agent,
            c.headers
        );
        if !c.sdp.is_empty() {
            head.push_str("Content-Type: application/sdp\r\n");
        }
        let _ = write!(head, "Content-Length: {}\r\n\r\n", c.sdp.len());
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&c.sdp);
        let invite = SipMessage::parse(Bytes::from(bytes)).ok()?;
        let id = self
            .layer
            .send_request(now, invite.clone(), c.dest, Reliability::Unreliable)
            .ok()?;
        let handle = CallHandle(self.allocate());
        self.client.insert(id, Purpose::Invite(handle));
        let dialog = Dialog::for_uac(&call_id, &tag, &c.from, &c.to, &c.uri, cseq);
        self.by_dialog
            .insert((call_id.clone(), tag.clone()), handle);
        self.calls.insert(
            handle,
            Call {
                phase: Phase::Calling,
                invite,
                invite_tx: Some(id),
                source: c.dest,
                dialog,
                pending_2xx: None,
                pending_offer: None,
                reported: false,
                uac: Some(UacState::default()),
                refer_only: false,
            },
        );
        Some(handle)
    }

    /// A response to the INVITE of a call we placed (retransmitted 2xx included).
    pub(crate) fn on_invite_response(
        &mut self,
        now: Duration,
        call: CallHandle,
        response: &SipMessage,
    ) {
        let status = response.status();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let sdp = is_sdp(response).then(|| response.body().clone());
        match status {
            100..=199 => {
                if c.phase == Phase::Calling {
                    c.phase = Phase::Proceeding;
                }
                let cancel_now = c
                    .uac
                    .as_ref()
                    .is_some_and(|u| u.cancel_wanted && !u.cancelled);
                if cancel_now {
                    self.send_cancel(call, now);
                } else if status > 100 && c.phase == Phase::Proceeding {
                    self.events
                        .push_back(UaEvent::Progress { call, status, sdp });
                }
            }
            200..=299 => self.on_invite_2xx(now, call, response, sdp),
            _ => {
                if matches!(c.phase, Phase::Calling | Phase::Proceeding) {
                    if (300..400).contains(&status) {
                        let contacts = response
                            .header_values(HeaderName::Contact)
                            .filter_map(|(_, v)| NameAddr::parse(v).ok())
                            .map(|n| n.uri.raw.to_string())
                            .collect();
                        self.events
                            .push_back(UaEvent::Redirected { call, contacts });
                    }
                    self.end_call(call, EndReason::Failed(status));
                }
            }
        }
    }

    fn on_invite_2xx(
        &mut self,
        now: Duration,
        call: CallHandle,
        response: &SipMessage,
        sdp: Option<Bytes>,
    ) {
        let branch = self.tokens.branch();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(uac) = c.uac.as_mut() else {
            return;
        };
        if !matches!(c.phase, Phase::Calling | Phase::Proceeding) {
            // A retransmission: the same ACK again (RFC 3261 §13.2.2.4).
            if response.to_tag() == Some(c.dialog.remote_tag.as_str()) {
                if let Some((dest, ack)) = &uac.ack {
                    self.transmits.push_back((*dest, ack.clone()));
                }
            }
            return;
        }
        let hang_up = uac.cancel_wanted;
        if !c.dialog.confirm_uac(response) {
            // No To tag: no dialog to ACK in; give the call up.
            self.end_call(call, EndReason::Failed(500));
            return;
        }
        let dest = c.dialog.next_hop().unwrap_or(c.source);
        let ack = ack_bytes(&c.dialog, &branch, &self.config.via_sent_by);
        self.transmits.push_back((dest, ack.clone()));
        if let Some(u) = c.uac.as_mut() {
            u.ack = Some((dest, ack));
        }
        c.phase = Phase::Confirmed;
        if hang_up {
            // Our CANCEL crossed the 2xx: end the call that was made after all.
            c.phase = Phase::Ending;
            if !self.send_bye(call, now) {
                self.end_call(call, EndReason::LocalBye);
            }
            return;
        }
        self.events.push_back(UaEvent::Answered { call, sdp });
    }

    /// Hangs up a call we placed that has no final answer: CANCEL now if a provisional
    /// response came, else once one does.
    pub(crate) fn cancel(&mut self, call: CallHandle, now: Duration) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let phase = c.phase;
        let Some(u) = c.uac.as_mut() else {
            return;
        };
        u.cancel_wanted = true;
        if phase == Phase::Proceeding && !u.cancelled {
            self.send_cancel(call, now);
        }
    }

    fn send_cancel(&mut self, call: CallHandle, now: Duration) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(u) = c.uac.as_mut() {
            u.cancelled = true;
        }
        let mut out = Vec::with_capacity(512);
        build_cancel(&c.invite, &mut out);
        let dest = c.source;
        let Ok(msg) = SipMessage::parse(Bytes::from(out)) else {
            return;
        };
        if let Ok(id) = self
            .layer
            .send_request(now, msg, dest, Reliability::Unreliable)
        {
            self.client.insert(id, Purpose::Cancel);
        }
    }
}

/// The ACK of a 2xx (RFC 3261 §13.2.2.4): a new transaction-less request in the dialog
/// with the INVITE's CSeq number.
fn ack_bytes(d: &Dialog, branch: &str, via_sent_by: &str) -> Bytes {
    let mut head = String::with_capacity(512);
    let _ = write!(
        head,
        "ACK {} SIP/2.0\r\nVia: SIP/2.0/UDP {via_sent_by};branch={branch};rport\r\n\
         Max-Forwards: 70\r\n",
        d.remote_target
    );
    for r in &d.route_set {
        let _ = write!(head, "Route: {r}\r\n");
    }
    let _ = write!(
        head,
        "From: {};tag={}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {} ACK\r\nContent-Length: 0\r\n\r\n",
        d.local_uri, d.local_tag, d.remote_uri, d.call_id, d.local_cseq
    );
    Bytes::from(head.into_bytes())
}
