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

use crate::agent::UserAgent;
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
        if event.is_empty() {
            let b = ResponseBuilder::new(&req, 400).to_vec();
            let _ = self.layer.respond(now, id, Bytes::from(b), 400);
            return;
        }
        let Some(dialog) = self.new_uas_dialog(now, id, &req) else {
            return;
        };
        let mut b = ResponseBuilder::new(&req, 200)
            .to_tag(&dialog.local_tag)
            .header("Contact", format_args!("<{}>", self.config.contact))
            .header("Expires", format_args!("0"));
        for r in &dialog.route_set {
            b = b.header("Record-Route", format_args!("{r}"));
        }
        let _ = self.layer.respond(now, id, Bytes::from(b.to_vec()), 200);
        let request_uri = req.request_uri_str().to_string();
        let call = self.keep_notifier_dialog(req, source, dialog);
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
