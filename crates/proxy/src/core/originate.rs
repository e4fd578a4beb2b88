//! Requests the proxy originates itself, as a user agent client: message-waiting NOTIFYs
//! and click-to-dial REFERs; dialog-event NOTIFYs and gateway OPTIONS probes are meant to
//! use the same path.
//!
//! [`Proxy::originate`] prints the request (our Via with a branch of our own, Max-Forwards,
//! the caller's From/To/Call-ID/CSeq and extra headers, a body) and opens a client
//! non-INVITE transaction for it, so retransmissions (Timer E) and the timeout (Timer F)
//! are the transaction layer's. The final answer (or 408 on timeout, 503 on a transport
//! failure) comes back to [`Proxy::originated_final`], which hands it to whoever asked,
//! by the request's [`Origin`]. The table of requests in flight is bounded.
//! It owns no dialog state: the caller (e.g. `mwi.rs`) keeps tags and CSeq.
//!
//! The OPTIONS that probe gateways are printed here too ([`Proxy::originate_options`]);
//! `probe.rs` follows their transactions itself.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;
use sip_message::SipMessage;
use sip_transaction::TransactionId;

use super::{reliability, Proxy};
use crate::destination::Destination;
use crate::services::mwi::DialogKey;

/// Most originated requests in flight; beyond it new ones are not sent (and logged).
pub(super) const MAX_ORIGINATED: usize = 65_536;

/// Branch prefix of originated requests (distinct from forwarded branches, which carry a
/// loop-detection hash).
const BRANCH_PREFIX: &str = "z9hG4bKso";

/// Who is waiting for an originated request's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Origin {
    /// A message-waiting NOTIFY in this subscription; None: unsolicited.
    MwiNotify(Option<DialogKey>),
    /// A dialog-event NOTIFY in this subscription (`dialog_event.rs`).
    DialogNotify(DialogKey),
    /// A click-to-dial REFER, answered to the server by this token (`click_to_dial.rs`).
    Refer(u64),
    /// A stored instant message (its id) delivered to this user (`messages.rs`).
    ImDelivery(model::AddressOfRecord, i64),
}

/// A request to originate. Header values are complete (tags included).
pub(super) struct Outgoing<'a> {
    /// `NOTIFY`, `OPTIONS`, ...
    pub method: &'a str,
    /// The Request-URI.
    pub request_uri: &'a str,
    /// Where to send it.
    pub dest: Destination,
    /// The From header value.
    pub from: &'a str,
    /// The To header value.
    pub to: &'a str,
    /// The Call-ID.
    pub call_id: &'a str,
    /// The CSeq number.
    pub cseq: u32,
    /// Extra header lines, each ending in CRLF.
    pub headers: &'a str,
    /// The body's type and the body.
    pub body: Option<(&'a str, &'a str)>,
}

/// Originated requests in flight.
pub(super) type Originated = HashMap<TransactionId, Origin>;

impl Proxy {
    /// Sends `req` in a client transaction of its own; false when it could not be sent
    /// (table full, transaction layer refused).
    pub(super) fn originate(&mut self, now: Duration, req: &Outgoing<'_>, origin: Origin) -> bool {
        if self.originated.len() >= MAX_ORIGINATED {
            tracing::warn!(
                method = req.method,
                "originated request not sent: too many in flight"
            );
            return false;
        }
        let n = self.next_branch;
        self.next_branch += 1;
        let host = self.interfaces.host_for(&self.cfg, req.dest.addr.ip());
        let mut text = String::with_capacity(512);
        let _ = write!(
            text,
            "{m} {ruri} SIP/2.0\r\nVia: SIP/2.0/{t} {host}:{port};branch={BRANCH_PREFIX}{n:x};rport\r\n\
             Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: {cseq} {m}\r\n\
             User-Agent: {ua}\r\n{extra}",
            m = req.method,
            ruri = req.request_uri,
            t = req.dest.transport.as_str(),
            port = self.cfg.advertised_port,
            from = req.from,
            to = req.to,
            cid = req.call_id,
            cseq = req.cseq,
            ua = self.cfg.server_name,
            extra = req.headers,
        );
        match req.body {
            Some((content_type, body)) => {
                let _ = write!(
                    text,
                    "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
            None => text.push_str("Content-Length: 0\r\n\r\n"),
        }
        let msg = match SipMessage::parse(Bytes::from(text)) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(%e, method = req.method, "originated request does not parse");
                return false;
            }
        };
        match self
            .layer
            .send_request(now, msg, req.dest, reliability(&req.dest))
        {
            Ok(id) => {
                self.originated.insert(id, origin);
                true
            }
            Err(e) => {
                tracing::warn!(
                    ?e,
                    method = req.method,
                    "could not start a client transaction"
                );
                false
            }
        }
    }

    /// The final answer to an originated request (408: timeout, 503: transport failure);
    /// a provisional one is ignored. False when `id` is not an originated request.
    pub(super) fn originated_final(
        &mut self,
        now: Duration,
        id: TransactionId,
        status: u16,
    ) -> bool {
        if !self.originated.contains_key(&id) {
            return false;
        }
        if status < 200 {
            return true;
        }
        match self.originated.remove(&id) {
            Some(Origin::MwiNotify(key)) => self.mwi_notify_answered(now, key, status),
            Some(Origin::DialogNotify(key)) => self.dialog_notify_answered(&key, status),
            Some(Origin::Refer(token)) => self.refer_answered(token, status),
            Some(Origin::ImDelivery(aor, id)) => self.message_answered(now, &aor, id, status),
            None => {}
        }
        true
    }
}

/// Gateway probes (`probe.rs`): an OPTIONS whose transaction `probe.rs` itself follows
/// (it predates [`Origin`]; moving it onto [`Proxy::originate`] is a follow-up).
impl Proxy {
    /// Sends `OPTIONS uri` to `dest` out of dialog; its transaction, or None when it could
    /// not be started.
    pub(super) fn originate_options(
        &mut self,
        now: Duration,
        dest: Destination,
        uri: &str,
    ) -> Option<TransactionId> {
        let host = self.interfaces.host_for(&self.cfg, dest.addr.ip());
        let port = self.cfg.advertised_port;
        let n = self.next_branch;
        self.next_branch += 1;
        let tag = self.new_tag();
        let text = format!(
            "OPTIONS {uri} SIP/2.0\r\n\
             Via: SIP/2.0/{transport} {host}:{port};branch=z9hG4bKsbo{n:x}{tag}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:switchboard@{host}>;tag={tag}\r\n\
             To: <{uri}>\r\n\
             Call-ID: probe-{n:x}-{tag}@{host}\r\n\
             CSeq: 1 OPTIONS\r\n\
             User-Agent: {agent}\r\n\
             Content-Length: 0\r\n\r\n",
            transport = dest.transport.as_str(),
            agent = self.cfg.server_name,
        );
        let msg = match SipMessage::parse(Bytes::from(text)) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(%e, "originated OPTIONS does not parse");
                return None;
            }
        };
        match self.layer.send_request(now, msg, dest, reliability(&dest)) {
            Ok(tx) => Some(tx),
            Err(e) => {
                tracing::debug!(?e, %dest, "OPTIONS not sent");
                None
            }
        }
    }
}
