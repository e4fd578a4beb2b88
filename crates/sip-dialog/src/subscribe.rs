//! SUBSCRIBE on the notifier side (RFC 6665), outside any dialog, as a fetch: the agent
//! answers `200 OK` with `Expires: 0` (the subscription ends with its first NOTIFY) and
//! reports [`UaEvent::Subscribe`]; the caller sends the state once with
//! [`UserAgent::notify`] (`done`), which forgets the dialog. Used by the park server's
//! `Event: dialog` (RFC 4235) for the parked calls.
//!
//! Not here: subscriptions that last (refreshes, NOTIFYs on change), `Accept` checks
//! (the caller's).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_message::{ResponseBuilder, SipMessage};
use sip_transaction::TransactionId;

use crate::agent::{Call, Phase, UserAgent};
use crate::dialog::Dialog;
use crate::event::UaEvent;
use crate::ids::CallHandle;

impl UserAgent {
    /// A SUBSCRIBE outside any dialog.
    pub(crate) fn on_subscribe(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: SipMessage,
        source: SocketAddr,
    ) {
        let event = req
            .header_by_name("Event")
            .map(|e| {
                e.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        let refuse = |ua: &mut UserAgent, status: u16, extra: Option<(&str, &str)>| {
            let mut b = ResponseBuilder::new(&req, status);
            if let Some((name, value)) = extra {
                b = b.header(name, format_args!("{value}"));
            }
            let _ = ua.layer.respond(now, id, Bytes::from(b.to_vec()), status);
        };
        if event.is_empty() {
            refuse(self, 400, None);
            return;
        }
        if self.calls.len() >= self.config.max_calls {
            refuse(self, 503, Some(("Retry-After", "5")));
            return;
        }
        let tag = self.tokens.tag();
        let first_cseq = (self.tokens.next() & 0x7fff) as u32 + 1;
        let Some(dialog) = Dialog::from_invite(&req, &tag, first_cseq) else {
            refuse(self, 400, None);
            return;
        };
        let mut b = ResponseBuilder::new(&req, 200)
            .to_tag(&tag)
            .header("Contact", format_args!("<{}>", self.config.contact))
            .header("Expires", format_args!("0"));
        for r in &dialog.route_set {
            b = b.header("Record-Route", format_args!("{r}"));
        }
        let _ = self.layer.respond(now, id, Bytes::from(b.to_vec()), 200);
        let call = CallHandle(self.allocate());
        self.by_dialog
            .insert((dialog.call_id.clone(), dialog.local_tag.clone()), call);
        let request_uri = req.request_uri_str().to_string();
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
        self.events.push_back(UaEvent::Subscribe {
            call,
            event,
            request_uri,
            source,
        });
    }

    /// Sends a NOTIFY for a subscription (`event` is its package, `body` of
    /// `content_type`); `done` terminates it (and forgets a dialog made by a REFER or
    /// SUBSCRIBE outside any call). False when the call is unknown.
    pub fn notify(
        &mut self,
        call: CallHandle,
        now: Duration,
        event: &str,
        content_type: &str,
        body: &[u8],
        done: bool,
    ) -> bool {
        // RFC 3515 §2.4.7 ends a refer subscription with `noresource`; a fetch ends
        // with `timeout` (RFC 6665 §4.2.1.4).
        let state = if done && event == "refer" {
            "terminated;reason=noresource"
        } else if done {
            "terminated;reason=timeout"
        } else {
            "active;expires=60"
        };
        let extra = format!(
            "Event: {event}\r\nSubscription-State: {state}\r\nContent-Type: {content_type}\r\n"
        );
        let sent = self.request_in_dialog(call, now, "NOTIFY", &extra, body);
        if done && self.calls.get(&call).is_some_and(|c| c.refer_only) {
            self.remove_call(call);
        }
        sent
    }
}
