//! Transport failures reported back by the server (RFC 3261 §17.1.4, §16.9): a request the
//! proxy forwarded could not be sent (TCP connect or write failed, a UDP send was refused).
//!
//! The client transaction that sent it ends at once and its branch counts as a 503, so the
//! fork manager tries the next serial group or answers upstream without waiting for Timer
//! B or F. A response that could not be sent needs nothing beyond a log line: its server
//! transaction retransmits (UDP) or the client retries. This file holds no I/O: the server
//! hands back the bytes it failed to send.

use std::time::Duration;

use bytes::Bytes;
use sip_message::SipMessage;

use super::Proxy;
use crate::destination::Destination;

impl Proxy {
    /// The transport failed to deliver `data`, a message from [`Proxy::poll_transmit`], to
    /// `dest`. A forwarded request ends its branch as a 503 at once.
    pub fn handle_transport_error(&mut self, now: Duration, dest: Destination, data: Bytes) {
        let msg = match SipMessage::parse(data) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(dest = %dest.addr, error = %e, "undeliverable message does not parse");
                return;
            }
        };
        if !msg.is_request() {
            tracing::debug!(
                dest = %dest.addr,
                transport = dest.transport.as_str(),
                status = msg.status(),
                call_id = msg.call_id(),
                "response could not be sent"
            );
            return;
        }
        match self.layer.handle_request_transport_error(now, &msg) {
            Some(id) => tracing::info!(
                dest = %dest.addr,
                transport = dest.transport.as_str(),
                method = msg.method_str(),
                call_id = msg.call_id(),
                %id,
                "request could not be sent: branch ends as 503"
            ),
            None => tracing::debug!(
                dest = %dest.addr,
                method = msg.method_str(),
                "undeliverable request has no live client transaction"
            ),
        }
        self.pump(now);
    }
}
