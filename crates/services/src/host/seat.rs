//! The conference bridge's seat for an incoming call: the room its RFC 3911 `Join`
//! names, or the Request-URI's, reserved before the call is answered (a full room: 486).

use sip_dialog::CallHandle;

use super::HostLoop;
use crate::conference::{DialogId, JoinTarget};

impl HostLoop {
    /// Reserves a conference seat for `call`: in the room its `Join` header names (481
    /// when no participant has that dialog) or else the Request-URI's. Returns the room's
    /// key and its PIN; an error is the status, extra header lines and log reason.
    #[allow(clippy::type_complexity)]
    pub(super) fn seat(
        &mut self,
        call: CallHandle,
        domain: &str,
        room: Option<&str>,
        caller: &str,
    ) -> Result<(String, Option<String>), (u16, String, String)> {
        let rooms = &self.ctx.conference;
        let join = self
            .ua
            .invite(call)
            .and_then(|i| i.header_by_name("Join"))
            .map(str::to_string);
        let key = match (join, room) {
            (Some(j), _) => {
                let target = JoinTarget::parse(&j)
                    .ok_or_else(|| (400, String::new(), format!("bad Join header {j:?}")))?;
                rooms
                    .room_of_dialog(&target.call_id, &target.to_tag, &target.from_tag)
                    .ok_or_else(|| {
                        (
                            481,
                            String::new(),
                            "Join names no conference participant".to_string(),
                        )
                    })?
            }
            (None, Some(r)) => format!("{r}@{domain}"),
            (None, None) => {
                return Err((
                    400,
                    String::new(),
                    "conference URI without room=".to_string(),
                ))
            }
        };
        let dialog = self
            .ua
            .dialog(call)
            .map(|d| DialogId {
                call_id: d.call_id.clone(),
                local_tag: d.local_tag.clone(),
                remote_tag: d.remote_tag.clone(),
            })
            .ok_or_else(|| (500, String::new(), "no dialog".to_string()))?;
        rooms
            .reserve(&key, call.get(), caller, dialog)
            .map_err(|e| {
                let extra = format!("Warning: 399 switchboard \"{e}\"\r\n");
                (e.status(), extra, e.to_string())
            })?;
        let name = key.split('@').next().unwrap_or(&key);
        let pins = &self.ctx.config.conference.pins;
        let pin = pins.get(&key).or_else(|| pins.get(name)).cloned();
        Ok((key, pin))
    }
}
