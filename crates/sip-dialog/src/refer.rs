//! REFER on the UAS side (RFC 3515): inside a call's dialog or outside any (a REFER to a
//! service, e.g. the park server of RFC 5359 §2.15, which creates a dialog of its own for
//! the implicit subscription). The agent answers `202 Accepted` and reports
//! [`UaEvent::Refer`]; the caller reports the referred call's progress with
//! [`UserAgent::notify_refer`] (sipfrag NOTIFYs, the last one terminating the
//! subscription and, for a REFER outside a call, forgetting its dialog).
//!
//! Not here: `Refer-Sub: false` (RFC 4488: NOTIFYs are always sent), SUBSCRIBE refreshes
//! of the refer subscription (answered 489 like any other package), several Refer-To.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_message::{HeaderName, ResponseBuilder, SipMessage};
use sip_transaction::TransactionId;

use crate::agent::UserAgent;
use crate::event::UaEvent;
use crate::ids::CallHandle;

impl UserAgent {
    /// A REFER: `call` is the dialog it came in, `None` outside any.
    pub(crate) fn on_refer(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: SipMessage,
        source: SocketAddr,
        call: Option<CallHandle>,
    ) {
        let mut targets: Vec<String> = req
            .header_values(HeaderName::ReferTo)
            .map(|(_, v)| v.to_string())
            .collect();
        if targets.len() != 1 {
            let b = ResponseBuilder::new(&req, 400)
                .reason("Exactly One Refer-To Required")
                .to_vec();
            let _ = self.layer.respond(now, id, Bytes::from(b), 400);
            return;
        }
        let refer_to = targets.remove(0);
        let referred_by = req.header(HeaderName::ReferredBy).map(str::to_string);
        let call = match call {
            Some(c) => {
                let b = ResponseBuilder::new(&req, 202)
                    .header("Contact", format_args!("<{}>", self.config.contact))
                    .to_vec();
                let _ = self.layer.respond(now, id, Bytes::from(b), 202);
                c
            }
            None => {
                let Some(dialog) = self.new_uas_dialog(now, id, &req) else {
                    return;
                };
                let mut b = ResponseBuilder::new(&req, 202)
                    .to_tag(&dialog.local_tag)
                    .header("Contact", format_args!("<{}>", self.config.contact));
                for r in &dialog.route_set {
                    b = b.header("Record-Route", format_args!("{r}"));
                }
                let _ = self.layer.respond(now, id, Bytes::from(b.to_vec()), 202);
                self.keep_notifier_dialog(req, source, dialog)
            }
        };
        self.events.push_back(UaEvent::Refer {
            call,
            refer_to,
            referred_by,
            source,
        });
    }

    /// Reports a REFER's progress (RFC 3515 §2.4.5): a NOTIFY (`Event: refer`) whose body
    /// is the status line `sipfrag` (e.g. `SIP/2.0 100 Trying`); `done` terminates the
    /// subscription, and a REFER's own dialog (one received outside a call) is then
    /// forgotten. False when the call is unknown.
    pub fn notify_refer(
        &mut self,
        call: CallHandle,
        now: Duration,
        sipfrag: &str,
        done: bool,
    ) -> bool {
        let body = format!("{sipfrag}\r\n");
        self.notify(
            call,
            now,
            "refer",
            "message/sipfrag;version=2.0",
            body.as_bytes(),
            done,
        )
    }
}
