//! The conference stage of the request route (the pure parts are
//! `services/conference.rs`): an INVITE to a room's name (`conf-ROOM`) or number goes to
//! the bridge on the service host with `sip:conference@DOMAIN;room=ROOM`; an INVITE whose
//! RFC 3911 `Join` names a call that went to the bridge goes to the bridge too (it finds
//! the room by the dialog). Any other `Join` is routed like any call, to the phone it is
//! addressed to, which does the mixing itself (RFC 5359 §2.11).
//!
//! A number of the range that is also a user or an alias of the domain stays theirs.
//! Rooms are open to any caller the request route lets this far (a room's PIN is the
//! bridge's to ask). Without a service host (`[media] enabled = false`) the stage does
//! nothing: room names and numbers are routed as ordinary users.

use model::AddressOfRecord;
use sip_message::Method;

use super::stage::{Flow, RequestCtx, Stage, Targets};
use super::Proxy;
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
        // Without a service host there is no bridge: names and numbers are ordinary users.
        let Some(dest) = p.cfg.services.host else {
            return Flow::Continue;
        };
        let domain = p.dialled_domain(cx);
        let room = if joins_bridge {
            None
        } else {
            let user = cx.ruri_user().unwrap_or("");
            let Some(room) = p.cfg.services.conference.room(user) else {
                return Flow::Continue;
            };
            // A user or alias with a room's number keeps it (extensions 800-899 of a
            // company stay theirs); names with the prefix are always rooms.
            let aor = AddressOfRecord::new(user, &domain);
            if user == room
                && (p.directory.is_subscriber(&aor) || p.directory.resolve_alias(&aor).is_some())
            {
                return Flow::Continue;
            }
            Some(room)
        };
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
