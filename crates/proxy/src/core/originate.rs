//! Requests the proxy itself originates (RFC 3261 §8.1), each on a client transaction of
//! its own: today the OPTIONS that probe gateways (`probe.rs`).
//!
//! Not here: what the answers mean (the caller of each function). Another module of the
//! same kind (server-originated NOTIFYs) may merge with this one.

use std::time::Duration;

use bytes::Bytes;
use sip_message::SipMessage;
use sip_transaction::TransactionId;

use super::{reliability, Proxy};
use crate::destination::Destination;

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
