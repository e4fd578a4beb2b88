//! The conference stage of the request route (the pure parts are
//! `services/conference.rs`): an INVITE to a room's name (`conf-ROOM`) or number goes to
//! the bridge on the service host with `sip:conference@DOMAIN;room=ROOM`; an INVITE whose
//! RFC 3911 `Join` names a call that went to the bridge goes to the bridge too (it finds
//! the room by the dialog). Any other `Join` is routed like any call, to the phone it is
//! addressed to, which does the mixing itself (RFC 5359 §2.11).
//!
//! Rooms are open to any caller the request route lets this far (a room's PIN is the
//! bridge's to ask). Without a service host, a room answers 480.

use sip_message::Method;

use super::stage::{Flow, RequestCtx, Stage, Targets};
use super::Proxy;
use crate::answer::Answer;
use crate::fork::Target;
use crate::services::conference::{join_call_id, ConferenceRouting};

/// The conference stage, for initial INVITEs to a local Request-URI.
pub(super) struct Conference;

impl Stage for Conference {
    fn name(&self) -> &'static str {
        "conference"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if !cx.for_us() || cx.req.method() != Method::Invite || cx.req.to_tag().is_some() {
            return Flow::Continue;
        }
        let joins_bridge = cx
            .req
            .header_by_name("Join")
            .and_then(join_call_id)
            .is_some_and(|id| p.bridge_calls.contains(id));
        let room = if joins_bridge {
            None
        } else {
            match cx
                .ruri_user()
                .and_then(|u| p.cfg.services.conference.room(u))
            {
                Some(r) => Some(r),
                None => return Flow::Continue,
            }
        };
        let Some(dest) = p.cfg.services.host else {
            return Flow::Reply(Answer::new(480, "Conference Not Available"));
        };
        let domain = p.dialled_domain(cx);
        let uri = ConferenceRouting::request_uri(&domain, room.as_deref());
        tracing::debug!(%uri, join = joins_bridge, "call to the conference bridge");
        let max = p.cfg.services.conference.max_bridge_calls;
        p.bridge_calls.insert(cx.req.call_id(), max);
        Flow::Forward(Targets::one(Target {
            request_uri: Some(uri),
            dest,
            routes: Vec::new(),
            q: 1000,
        }))
    }
}
