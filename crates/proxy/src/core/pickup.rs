//! Call pickup (RFC 5359 §2.16) done by the proxy, from the dialog state it follows
//! (`dialog_event.rs`): a local user's INVITE that picks up a ringing call is sent to that
//! call's **caller** (its Contact; where its INVITE came from when a NAT is between),
//! carrying `Replaces` for the
//! early dialog (RFC 3891: the caller's phone, the UAC of that dialog, accepts it in place
//! of the ringing one). When the caller's phone answers, the proxy CANCELs the ringing
//! branches of the picked-up call (the caller gets 487 for it) and its dialog state ends
//! `replaced`.
//!
//! Two ways in:
//! - an INVITE with `Replaces: <call-id>;to-tag=..;from-tag=..;early-only` naming a ringing
//!   call the proxy follows (what a phone builds from a BLF NOTIFY);
//! - `*8<ext>` (directed pickup, `[presence] pickup_code` + an extension): the oldest ringing
//!   call to that user of the picker's domain; `*8` alone: the oldest call ringing another
//!   member of the picker's pickup group (`switchboard pickup-group`, a user setting read
//!   through the directory). The proxy adds the `Replaces` header.

use bytes::Bytes;
use model::AddressOfRecord;
use sip_message::{Editor, Method, SipMessage};

use super::stage::{Flow, RequestCtx, Stage, Targets};
use super::Proxy;
use crate::answer::Answer;
use crate::destination::Transport;
use crate::fork::Target;
use crate::presence::dialog_info::DialogState;

/// The pickup stage: INVITEs that pick up a ringing call.
pub(super) struct Pickup;

impl Stage for Pickup {
    fn name(&self) -> &'static str {
        "pickup"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        let presence = &p.cfg.services.presence;
        if !presence.enabled
            || !cx.for_us()
            || cx.req.method() != Method::Invite
            || cx.req.to_tag().is_some()
        {
            return Flow::Continue;
        }
        let code = presence.pickup_code.clone();
        if let Some(replaces) = cx.req.header_by_name("Replaces") {
            let Some((call_id, from_tag)) = early_dialog(replaces) else {
                return Flow::Continue;
            };
            let ringing = p
                .followed
                .find(call_id, from_tag)
                .filter(|(_, c)| matches!(c.state, DialogState::Trying | DialogState::Early));
            let Some((picked, _)) = ringing else {
                // Not a call ringing here (an attended transfer's Replaces, say): routed.
                return Flow::Continue;
            };
            return p.pick_up(cx, picked, None);
        }
        let Some(ext) = cx.ruri_user().and_then(|u| u.strip_prefix(code.as_str())) else {
            return Flow::Continue;
        };
        if code.is_empty() {
            return Flow::Continue;
        }
        let candidates = if ext.is_empty() {
            // `*8`: a call ringing another member of the caller's group.
            let picker = p.calling_user(&cx.req).filter(|_| cx.authenticated());
            let Some(picker) = picker else {
                return Answer::new(403, "Pickup Not Allowed").into();
            };
            let peers = p.directory.pickup_group_peers(&picker);
            if peers.is_empty() {
                return Answer::new(404, "Not In A Pickup Group").into();
            }
            peers
        } else {
            let dialled = AddressOfRecord::new(ext, &p.dialled_domain(cx));
            vec![p.directory.resolve_alias(&dialled).unwrap_or(dialled)]
        };
        let Some((picked, c)) = p.followed.ringing_for(&candidates) else {
            return Answer::new(480, "No Ringing Call").into();
        };
        let replaces = format!(
            "{};to-tag={};from-tag={};early-only",
            c.call_id,
            c.callee_tag.as_deref().unwrap_or(""),
            c.caller_tag
        );
        p.pick_up(cx, picked, Some(replaces))
    }
}

/// `call-id;to-tag=..;from-tag=..` of a Replaces value: (Call-ID, from-tag).
fn early_dialog(value: &str) -> Option<(&str, &str)> {
    let mut parts = value.split(';');
    let call_id = parts.next()?.trim();
    let from_tag = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("from-tag").then(|| v.trim())
    })?;
    (!call_id.is_empty()).then_some((call_id, from_tag))
}

impl Proxy {
    /// Sends the picking INVITE of `cx` to the caller of call `picked` (with `replaces`
    /// added when the picker did not send one).
    fn pick_up(&mut self, cx: &mut RequestCtx, picked: u64, replaces: Option<String>) -> Flow {
        let Some(c) = self.followed.get(picked) else {
            return Flow::Continue;
        };
        let picker = self.calling_user(&cx.req).filter(|_| cx.authenticated());
        let callee_domain = c.callee.as_ref().map(|u| u.domain.as_str());
        let allowed = picker
            .as_ref()
            .is_some_and(|u| Some(u.domain.as_str()) == callee_domain);
        if !allowed {
            return Answer::new(403, "Pickup Not Allowed").into();
        }
        // The caller's Contact, unless a NAT stands between (its address is not the one
        // the INVITE came from, or it came over a connection): then where it came from.
        let source = c.caller_source;
        let dest = sip_message::Uri::parse(&c.caller_contact)
            .ok()
            .and_then(|u| crate::route::uri_destination(&u).ok())
            .filter(|d| source.transport == Transport::Udp && d.addr.ip() == source.addr.ip())
            .unwrap_or(source);
        let target = Target {
            request_uri: Some(c.caller_contact.to_string()),
            dest,
            routes: Vec::new(),
            q: 1000,
        };
        if let Some(r) = replaces {
            let mut ed = Editor::new(&cx.req);
            ed.append_header("Replaces", format_args!("{r}"));
            match SipMessage::parse(Bytes::from(ed.to_vec())) {
                Ok(m) => cx.req = m,
                Err(_) => return Answer::new(500, "Pickup Failed").into(),
            }
        }
        if !self.followed.start_pickup(cx.id.get(), picked) {
            return Answer::retry_after(503, "Too Many Pickups", 5).into();
        }
        tracing::info!(picker = %picker.map(|u| u.to_string()).unwrap_or_default(), "call pickup");
        Flow::Forward(Targets::one(target))
    }

    /// The picking call `picker` was answered: the picked-up call's ringing branches are
    /// CANCELled (its caller gets 487 for them) and its dialog ends `replaced`.
    pub(super) fn picked_up(&mut self, now: std::time::Duration, picker: u64) {
        let Some(picked) = self.followed.end_pickup(picker) else {
            return;
        };
        if let Some(c) = self.followed.get_mut(picked) {
            c.replaced = true;
        }
        let fork = self
            .forks
            .keys()
            .find(|id| id.get() == picked)
            .copied()
            .filter(|id| {
                self.forks
                    .get(id)
                    .is_some_and(|f| !f.cancelled && !f.final_sent)
            });
        if let Some(id) = fork {
            self.cancel_fork(now, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_values() {
        assert_eq!(
            early_dialog("abc@h;to-tag=b1;from-tag=a1;early-only"),
            Some(("abc@h", "a1"))
        );
        assert_eq!(early_dialog("abc@h;to-tag=b1"), None);
        assert_eq!(early_dialog(";from-tag=a"), None);
    }
}
