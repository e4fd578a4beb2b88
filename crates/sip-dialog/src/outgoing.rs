//! Requests we send: inside a dialog (BYE, NOTIFY, INFO, ...: RFC 3261 §12.2.1.1, along the
//! route set) and outside one (a NOTIFY for message-waiting, RFC 3842's unsolicited form).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_message::SipMessage;
use sip_transaction::Reliability;

use crate::agent::{Purpose, UserAgent};
use crate::ids::{CallHandle, RequestHandle};

/// A request outside any dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfDialogRequest {
    /// The method, e.g. `NOTIFY`.
    pub method: String,
    /// The Request-URI.
    pub uri: String,
    /// The From value without tag (a tag is added).
    pub from: String,
    /// The To value.
    pub to: String,
    /// Extra whole header lines, each ending in CRLF (`Event: message-summary\r\n`).
    pub headers: String,
    /// The Content-Type of `body`, when there is one.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
    /// Where to send it.
    pub dest: SocketAddr,
}

impl UserAgent {
    /// Sends BYE on a call's dialog; false when there is nowhere to send it.
    pub(crate) fn send_bye(&mut self, call: CallHandle, now: Duration) -> bool {
        self.send_in_dialog(call, now, "BYE", "", b"", Purpose::Bye(call))
    }

    /// Sends a request inside a call's dialog (e.g. `INFO`, `NOTIFY`); `extra` are whole
    /// header lines. False when the call is unknown or its next hop is not an IP address.
    pub fn request_in_dialog(
        &mut self,
        call: CallHandle,
        now: Duration,
        method: &str,
        extra: &str,
        body: &[u8],
    ) -> bool {
        self.send_in_dialog(call, now, method, extra, body, Purpose::InDialog)
    }

    fn send_in_dialog(
        &mut self,
        call: CallHandle,
        now: Duration,
        method: &str,
        extra: &str,
        body: &[u8],
        purpose: Purpose,
    ) -> bool {
        let branch = self.tokens.branch();
        let Some(c) = self.calls.get_mut(&call) else {
            return false;
        };
        // With no route set and a host name as the remote target, the flow the INVITE came
        // in on is the best we know (no DNS in this crate).
        let dest = c.dialog.next_hop().unwrap_or(c.source);
        let bytes = c.dialog.request(
            method,
            &branch,
            &self.config.via_sent_by,
            &self.config.contact,
            extra,
            body,
        );
        self.start_client(now, bytes, dest, purpose)
    }

    /// Sends a request outside any dialog; its final answer comes back as
    /// [`crate::UaEvent::Response`]. `None` when the transaction table is full or the
    /// request does not parse.
    pub fn send_request(&mut self, now: Duration, r: &OutOfDialogRequest) -> Option<RequestHandle> {
        let branch = self.tokens.branch();
        let tag = self.tokens.tag();
        let call_id = format!("{:016x}@switchboard", self.tokens.next());
        let mut head = String::with_capacity(512);
        let _ = write!(
            head,
            "{} {} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch={branch};rport\r\nMax-Forwards: 70\r\n\
             From: {};tag={tag}\r\nTo: {}\r\nCall-ID: {call_id}\r\nCSeq: 1 {}\r\n\
             Contact: <{}>\r\n{}",
            r.method,
            r.uri,
            self.config.via_sent_by,
            r.from,
            r.to,
            r.method,
            self.config.contact,
            r.headers
        );
        if let Some(t) = &r.content_type {
            let _ = write!(head, "Content-Type: {t}\r\n");
        }
        let _ = write!(head, "Content-Length: {}\r\n\r\n", r.body.len());
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&r.body);
        let handle = RequestHandle(self.allocate());
        self.start_client(now, bytes, r.dest, Purpose::OutOfDialog(handle))
            .then_some(handle)
    }

    fn start_client(
        &mut self,
        now: Duration,
        bytes: Vec<u8>,
        dest: SocketAddr,
        purpose: Purpose,
    ) -> bool {
        let Ok(msg) = SipMessage::parse(Bytes::from(bytes)) else {
            return false;
        };
        match self
            .layer
            .send_request(now, msg, dest, Reliability::Unreliable)
        {
            Ok(id) => {
                self.client.insert(id, purpose);
                true
            }
            Err(_) => false,
        }
    }
}
