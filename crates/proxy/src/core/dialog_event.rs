//! The dialog event package served by the server (RFC 4235 over RFC 6665): busy-lamp
//! fields, and the dialog ids a pickup (RFC 5359 §2.16) or an automatic redial (§2.17)
//! needs; and the subscription side of the presence package (RFC 3856). The
//! [`DialogEvents`] stage answers a SUBSCRIBE `Event: dialog` or `Event: presence` to a
//! local user (new, refresh, or `Expires: 0`), NOTIFYs the user's state at once (full
//! state), then each change (a dialog's partial state; the composed PIDF document), and
//! answers 489 with `Allow-Events` to event packages the server does not serve. An
//! expired subscription gets its final NOTIFY from the timer (`publish.rs`).
//!
//! The dialog state comes from the engine: a call is followed from the moment it is
//! forwarded (`request_route.rs`, trying), through the provisional and 2xx answers the
//! fork manager relays (`forking.rs`, early and confirmed, with the callee's tag), to
//! its `Failed` or `Ended` call event (`events.rs`, terminated). The tables and the XML
//! are `crate::presence`; NOTIFYs are sent by `originate.rs`.

use std::fmt::Write as _;
use std::time::Duration;

use model::AddressOfRecord;
use sip_message::{HeaderName, Method, NameAddr, SipMessage};

use super::stage::{Flow, RequestCtx, Stage};
use super::Proxy;
use crate::answer::Answer;
use crate::events::{is_initial_invite, Finished};
use crate::oplog::Hangup;
use crate::presence::calls::FollowedCall;
use crate::presence::dialog_info::{self, DialogState, Direction, TerminatedBy};
use crate::presence::pidf;
use crate::presence::watchers::{Package, Refused, Watch};
use crate::presence::{event_package, granted, ALLOW_EVENTS};
use crate::services::mwi::DialogKey;

use super::originate::{Origin, Outgoing};

/// The presence stage: SUBSCRIBEs to local users that no earlier stage took.
pub(super) struct DialogEvents;

impl Stage for DialogEvents {
    fn name(&self) -> &'static str {
        "dialog-events"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if !cx.for_us() || cx.req.method() != Method::Subscribe || !p.cfg.services.presence.enabled
        {
            return Flow::Continue;
        }
        let package = match cx.req.header_by_name("Event").map(event_package).as_deref() {
            Some("dialog") => Package::Dialog,
            Some("presence") => Package::Presence,
            _ => {
                return Answer::new(489, "Bad Event")
                    .with("Allow-Events", ALLOW_EVENTS)
                    .into()
            }
        };
        match p.subscribe(cx, package) {
            Some(answer) => {
                tracing::info!(
                    status = answer.status,
                    reason = answer.reason.unwrap_or(""),
                    package = package.as_str(),
                    "SUBSCRIBE refused"
                );
                Flow::Reply(answer)
            }
            None => Flow::Answered,
        }
    }
}

/// What a NOTIFY tells.
#[derive(Debug, Clone, Copy)]
pub(super) enum Tell {
    /// Every dialog of the user (a new subscription, a refresh).
    Full,
    /// One call changed: its dialog only.
    Change(u64, Direction),
    /// The subscription ends (full state, `Subscription-State: terminated`).
    Final,
}

impl Proxy {
    /// A SUBSCRIBE `Event: dialog` or `presence` for a local user: None when answered
    /// here (200 and a NOTIFY), else the refusal.
    fn subscribe(&mut self, cx: &RequestCtx, package: Package) -> Option<Answer> {
        let (now, req) = (cx.now, &cx.req);
        let expires = granted(req.expires(), self.cfg.services.presence.min_expires);
        if let Some(to_tag) = req.to_tag() {
            let key: DialogKey = (
                req.call_id().to_string(),
                req.from_tag().unwrap_or("").to_string(),
                to_tag.to_string(),
            );
            let Some(w) = self.watchers.get_mut(now, &key) else {
                return Some(Answer::new(481, "Subscription Does Not Exist"));
            };
            w.dest = cx.source;
            self.watchers
                .set_end(&key, now + Duration::from_secs(u64::from(expires)));
            self.answer_subscribe(now, cx.id, req, &cx.source, None, expires);
            self.notify_state_and_keep(now, &key, expires);
            return None;
        }
        let presence = &self.cfg.services.presence;
        let any_domain = presence.any_domain;
        let watcher = self.calling_user(req).filter(|_| cx.authenticated());
        let Some(watcher) = watcher else {
            return Some(Answer::new(403, "Watcher Not Allowed"));
        };
        let dialled = AddressOfRecord::new(cx.ruri_user().unwrap_or(""), &self.dialled_domain(cx));
        let watched = self.directory.resolve_alias(&dialled).unwrap_or(dialled);
        // The watched user's own rule first (`switchboard presence allow|deny`), then
        // the default: the same domain.
        match self.directory.watcher_rule(&watched, &watcher) {
            Some(model::WatcherRule::Deny) => return Some(Answer::new(403, "Watcher Denied")),
            Some(model::WatcherRule::Allow) => {}
            None if !any_domain && watcher.domain != watched.domain => {
                return Some(Answer::new(403, "Watcher Not Allowed"));
            }
            None => {}
        }
        if !self.directory.is_subscriber(&watched) {
            return Some(Answer::new(404, "Not Found"));
        }
        let content_type = match package {
            Package::Dialog => dialog_info::CONTENT_TYPE,
            Package::Presence => pidf::CONTENT_TYPE,
        };
        if let Some(accept) = req.header_by_name("Accept") {
            let ok = accept.split(',').any(|t| {
                let t = t.split(';').next().unwrap_or("").trim();
                t.eq_ignore_ascii_case(content_type) || t == "*/*"
            });
            if !ok {
                return Some(Answer::new(406, "Not Acceptable").with("Accept", content_type));
            }
        }
        let contact = req
            .header(HeaderName::Contact)
            .and_then(|v| NameAddr::parse(v).ok())
            .map(|na| na.uri.raw.to_string());
        let (Some(contact), Some(from_tag)) = (contact, req.from_tag()) else {
            return Some(Answer::new(400, "Missing Contact or From tag"));
        };
        let tag = self.new_tag();
        let key: DialogKey = (req.call_id().to_string(), from_tag.to_string(), tag.clone());
        let w = Watch {
            package,
            watched,
            watcher,
            remote_uri: req
                .from()
                .map_or_else(String::new, |f| f.uri.raw.to_string()),
            contact,
            dest: cx.source,
            expires_at: now + Duration::from_secs(u64::from(expires)),
            cseq: 0,
            version: 0,
        };
        let (watcher, watched) = (w.watcher.to_string(), w.watched.to_string());
        match self.watchers.insert(now, key.clone(), w) {
            Ok(()) => {}
            Err(Refused::Full) => {
                tracing::warn!(%watcher, %watched, "subscription refused: the table is full");
                return Some(Answer::retry_after(503, "Too Many Subscriptions", 60));
            }
            Err(Refused::UserFull) => {
                tracing::info!(%watcher, %watched, "subscription refused: too many for this watcher");
                return Some(Answer::new(403, "Too Many Subscriptions For This User"));
            }
        }
        tracing::debug!(%watcher, %watched, expires, package = package.as_str(), "subscription");
        self.answer_subscribe(now, cx.id, req, &cx.source, Some(&tag), expires);
        self.notify_state_and_keep(now, &key, expires);
        None
    }

    /// After a subscription's 200 (new or refreshed), RFC 6665 §4.2.1.2: its current state at
    /// once, the final NOTIFY when `expires` is 0 (a fetch, an unsubscribe); then the store's
    /// copy follows (kept_subscriptions.rs).
    fn notify_state_and_keep(&mut self, now: Duration, key: &DialogKey, expires: u32) {
        let tell = if expires == 0 {
            Tell::Final
        } else {
            Tell::Full
        };
        self.send_notify(now, key, tell);
        self.keep_watch(now, key);
    }

    /// A call is forwarded (`request_route.rs`): an initial INVITE with a local user on
    /// either side is followed from here (trying).
    pub(super) fn follow_call(&mut self, cx: &RequestCtx) {
        if !self.cfg.services.presence.enabled || !is_initial_invite(&cx.req) {
            return;
        }
        let callee = cx.callee.clone().filter(|_| cx.callee_exists);
        let caller = if cx.authenticated() {
            self.identity.clone().or_else(|| self.calling_user(&cx.req))
        } else {
            None
        };
        let req = &cx.req;
        let (Some(from), Some(from_tag), Some(to)) = (req.from(), req.from_tag(), req.to()) else {
            return;
        };
        if caller.is_none() && callee.is_none() {
            return;
        }
        let caller_contact = req
            .header(HeaderName::Contact)
            .and_then(|v| NameAddr::parse(v).ok())
            .map_or_else(|| from.uri.raw.into(), |na| na.uri.raw.into());
        let call = FollowedCall {
            call_id: req.call_id().into(),
            caller_tag: from_tag.into(),
            callee_tag: None,
            caller,
            caller_uri: from.uri.raw.into(),
            caller_contact,
            caller_source: cx.source,
            replaced: false,
            callee,
            callee_uri: to.uri.raw.into(),
            state: DialogState::Trying,
            since: cx.now,
        };
        let id = cx.id.get();
        if self.followed.insert(cx.now, id, call) {
            self.notify_call(cx.now, id);
        }
    }

    /// A provisional answer of a followed call went upstream (`forking.rs`): early, with
    /// the ringing phone's tag.
    pub(super) fn dialog_early(&mut self, now: Duration, call: u64, resp: &SipMessage) {
        let Some(c) = self.followed.get_mut(call) else {
            return;
        };
        let tag = resp.to_tag();
        if c.state == DialogState::Early && c.callee_tag.as_deref() == tag {
            return;
        }
        if !matches!(c.state, DialogState::Trying | DialogState::Early) {
            return;
        }
        c.state = DialogState::Early;
        c.callee_tag = tag.map(Into::into);
        self.notify_call(now, call);
    }

    /// A 2xx of a followed call went upstream (`forking.rs`): confirmed.
    pub(super) fn dialog_confirmed(&mut self, now: Duration, call: u64, to_tag: &str) {
        self.picked_up(now, call); // pickup.rs
        let Some(c) = self.followed.get_mut(call) else {
            return;
        };
        if c.state == DialogState::Confirmed {
            return;
        }
        c.state = DialogState::Confirmed;
        c.callee_tag = Some(to_tag.into());
        self.notify_call(now, call);
    }

    /// A call ended (its `Failed` or `Ended` event): terminated, and no longer followed.
    pub(super) fn dialog_finished(&mut self, now: Duration, call: u64, end: Finished) {
        self.followed.end_pickup(call);
        let Some(c) = self.followed.get_mut(call) else {
            return;
        };
        // Relative to the caller; the callee's view swaps the byes.
        let by = match end {
            Finished::Failed(_) if c.replaced => TerminatedBy::Replaced,
            Finished::Failed(487) => TerminatedBy::Cancelled,
            Finished::Failed(_) => TerminatedBy::Rejected,
            Finished::Ended(Hangup::Caller) => TerminatedBy::LocalBye,
            Finished::Ended(Hangup::Callee) => TerminatedBy::RemoteBye,
            Finished::Ended(Hangup::Timeout | Hangup::Server) => TerminatedBy::Timeout,
        };
        c.state = DialogState::Terminated(by);
        self.notify_call(now, call);
        self.followed.remove(call);
    }

    /// Tells every watcher of the call's local users what changed.
    fn notify_call(&mut self, now: Duration, call: u64) {
        let Some(c) = self.followed.get(call) else {
            return;
        };
        let sides: Vec<(AddressOfRecord, Direction)> = c
            .sides()
            .filter(|(u, _)| self.watchers.watched(u))
            .map(|(u, d)| (u.clone(), d))
            .collect();
        for (user, direction) in sides {
            for key in self.watchers.of(now, &user, Package::Dialog) {
                self.send_notify(now, &key, Tell::Change(call, direction));
            }
        }
    }

    /// NOTIFYs one subscription; [`Tell::Final`] ends it.
    pub(super) fn send_notify(&mut self, now: Duration, key: &DialogKey, tell: Tell) {
        let w = match tell {
            Tell::Final => self.watchers.remove(key),
            _ => self.watchers.get_mut(now, key).map(|w| {
                w.cseq += 1;
                w.version += 1;
                w.clone()
            }),
        };
        let Some(mut w) = w else {
            return;
        };
        let version = match tell {
            Tell::Final => {
                w.cseq += 1;
                w.version
            }
            _ => w.version - 1,
        };
        let entity = format!("sip:{}", w.watched);
        let (content_type, body) = match (w.package, tell) {
            (Package::Presence, _) => (
                pidf::CONTENT_TYPE,
                pidf::compose(&entity, self.publications.documents(&w.watched)),
            ),
            (Package::Dialog, Tell::Change(call, direction)) => {
                let Some(c) = self.followed.get(call) else {
                    return;
                };
                let b = dialog_info::body(&entity, version, false, &[c.view(call, direction)]);
                (dialog_info::CONTENT_TYPE, b)
            }
            (Package::Dialog, Tell::Full | Tell::Final) => {
                let views: Vec<_> = self
                    .followed
                    .of(&w.watched)
                    .into_iter()
                    .map(|(id, d, c)| c.view(id, d))
                    .collect();
                let b = dialog_info::body(&entity, version, true, &views);
                (dialog_info::CONTENT_TYPE, b)
            }
        };
        let state = match tell {
            Tell::Final => "terminated;reason=timeout".to_string(),
            _ => format!(
                "active;expires={}",
                w.expires_at.saturating_sub(now).as_secs()
            ),
        };
        let contact = self.our_contact(&w.dest);
        let mut headers = String::with_capacity(160);
        let _ = write!(
            headers,
            "Contact: {contact}\r\nEvent: {}\r\nSubscription-State: {state}\r\n",
            w.package.as_str()
        );
        let (call_id, remote_tag, local_tag) = key;
        self.originate(
            now,
            &Outgoing {
                method: "NOTIFY",
                request_uri: &w.contact,
                dest: w.dest,
                from: &format!("<{entity}>;tag={local_tag}"),
                to: &format!("<{}>;tag={remote_tag}", w.remote_uri),
                call_id,
                cseq: w.cseq,
                headers: &headers,
                body: Some((content_type, &body)),
            },
            Origin::DialogNotify(key.clone()),
        );
    }

    /// A NOTIFY was answered: a watcher that no longer knows the dialog (481) or does not
    /// answer (408, 503) loses its subscription (RFC 6665 §4.2.2).
    pub(super) fn dialog_notify_answered(&mut self, key: &DialogKey, status: u16) {
        if matches!(status, 481 | 408 | 503) || status >= 600 {
            if let Some(w) = self.watchers.remove(key) {
                tracing::debug!(watched = %w.watched, status, "dialog subscription ended by its NOTIFY's answer");
                self.forget_subscription(key); // kept_subscriptions.rs
            }
        }
    }

    /// Dialog subscriptions held.
    pub fn dialog_subscriptions(&self) -> usize {
        self.watchers.len()
    }

    /// The presence gauges (`render_metrics`).
    pub(super) fn render_presence_metrics(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP switchboard_dialog_subscriptions Dialog-event (BLF) and presence subscriptions held.\n\
             # TYPE switchboard_dialog_subscriptions gauge\nswitchboard_dialog_subscriptions {}\n\
             # HELP switchboard_dialog_calls_followed Calls followed for their dialog state.\n\
             # TYPE switchboard_dialog_calls_followed gauge\nswitchboard_dialog_calls_followed {}\n\
             # HELP switchboard_dialog_calls_unfollowed_total Calls not followed: the table was full.\n\
             # TYPE switchboard_dialog_calls_unfollowed_total counter\nswitchboard_dialog_calls_unfollowed_total {}\n\
             # HELP switchboard_presence_publications Presence publications (one per publishing device) held.\n\
             # TYPE switchboard_presence_publications gauge\nswitchboard_presence_publications {}",
            self.watchers.len(),
            self.followed.len(),
            self.followed.untracked,
            self.publications.len()
        );
    }
}
