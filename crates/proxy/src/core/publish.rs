//! The event state compositor for `Event: presence` (RFC 3903 over RFC 3856): the
//! [`Publish`] stage answers a PUBLISH to a local user from that user's own device (new,
//! refresh, modify, remove by `SIP-If-Match`), keeps one publication per device
//! (`presence/publications.rs`) and NOTIFYs the user's presence watchers the composed PIDF
//! document on every change. The presence timers live here too: a publication that
//! expires is dropped and its watchers told; a subscription (dialog or presence) that
//! expires gets its final NOTIFY (`terminated;reason=timeout`, RFC 6665 §4.1.2.4).
//!
//! Bad input gets a defined answer, logged: a body that is not PIDF `400` with a reason
//! naming the problem, a wrong Content-Type `415`, an unknown package `489`, a too short
//! Expires `423`, an unknown entity tag `412`, someone else's presence `403`.
//!
//! Not here: the subscriptions and the NOTIFY itself (`dialog_event.rs`).

use std::time::Duration;

use sip_message::{HeaderName, Method};

use super::dialog_event::Tell;
use super::stage::{Flow, RequestCtx, Stage};
use super::Proxy;
use crate::answer::Answer;
use crate::presence::publications::{Publication, Refused};
use crate::presence::watchers::Package;
use crate::presence::{dialog_info, event_package, pidf, DEFAULT_EXPIRES};

/// Packages a PUBLISH may carry (`Allow-Events` of a 489 to PUBLISH).
const PUBLISH_EVENTS: &str = "presence";

/// PUBLISH to a local user.
pub(super) struct Publish;

impl Stage for Publish {
    fn name(&self) -> &'static str {
        "publish"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if !cx.for_us() || cx.req.method() != Method::Publish || !p.cfg.services.presence.enabled {
            return Flow::Continue;
        }
        let answer = p.publish(cx);
        if answer.status >= 300 {
            tracing::info!(
                status = answer.status,
                reason = answer.reason.unwrap_or(""),
                user = cx.ruri_user().unwrap_or(""),
                "PUBLISH refused"
            );
        }
        answer.into()
    }
}

/// The media type of a Content-Type value (`application/pidf+xml;charset=utf-8`).
fn media_type(value: Option<&str>) -> String {
    value
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

impl Proxy {
    /// A PUBLISH to a local user: the answer (200 with `SIP-ETag`, or a refusal).
    fn publish(&mut self, cx: &RequestCtx) -> Answer {
        let (now, req) = (cx.now, &cx.req);
        let package = req.header_by_name("Event").map(event_package);
        let content_type = media_type(req.header(HeaderName::ContentType));
        let body = req.body();
        match package.as_deref() {
            Some("presence") => {}
            Some("dialog") => {
                // The server derives dialog state from the calls it carries; a published
                // document is checked (a phone learns what is wrong with it) and declined.
                if !body.is_empty() && content_type != dialog_info::CONTENT_TYPE {
                    return Answer::new(415, "Unsupported Media Type")
                        .with("Accept", dialog_info::CONTENT_TYPE);
                }
                if let Err(reason) = dialog_info::check(body) {
                    return Answer::new(400, reason);
                }
                return Answer::new(489, "Dialog State Is Derived By The Server")
                    .with("Allow-Events", PUBLISH_EVENTS);
            }
            _ => return Answer::new(489, "Bad Event").with("Allow-Events", PUBLISH_EVENTS),
        }
        // Only the user itself, proven, publishes its presence.
        let publisher = self.calling_user(req).filter(|_| cx.authenticated());
        let dialled =
            model::AddressOfRecord::new(cx.ruri_user().unwrap_or(""), &self.dialled_domain(cx));
        let user = self.directory.resolve_alias(&dialled).unwrap_or(dialled);
        if publisher.as_ref() != Some(&user) {
            return Answer::new(403, "Only Your Own Presence");
        }
        if !self.directory.is_subscriber(&user) {
            return Answer::new(404, "Not Found");
        }
        let min = self.cfg.services.presence.min_expires;
        let expires = match req.expires() {
            None => DEFAULT_EXPIRES,
            Some(0) => 0,
            Some(e) if e < min => {
                return Answer::new(423, "Interval Too Brief").with("Min-Expires", min);
            }
            Some(e) => e.min(DEFAULT_EXPIRES),
        };
        let doc = if body.is_empty() {
            None
        } else if content_type != pidf::CONTENT_TYPE {
            return Answer::new(415, "Unsupported Media Type").with("Accept", pidf::CONTENT_TYPE);
        } else {
            match pidf::parse(body) {
                Ok(d) => Some(d),
                Err(e) => return Answer::new(400, e.reason()),
            }
        };
        let ends = now + Duration::from_secs(u64::from(expires));
        let if_match = req.header_by_name("SIP-If-Match").map(str::trim);
        let Some(if_match) = if_match else {
            // RFC 3903 §6 step 4: an initial publication carries state.
            let Some(doc) = doc else {
                return Answer::new(400, "Initial PUBLISH Without Body");
            };
            if expires == 0 {
                return Answer::new(400, "Initial PUBLISH With Expires 0");
            }
            let etag = self.new_tag();
            let publication = Publication {
                etag: etag.clone(),
                doc,
                expires_at: ends,
            };
            match self.publications.insert(&user, publication) {
                Ok(()) => {}
                Err(Refused::Full) => {
                    return Answer::retry_after(503, "Too Many Publications", 60);
                }
                Err(Refused::UserFull) => {
                    return Answer::new(403, "Too Many Publications For This User");
                }
            }
            tracing::debug!(%user, %etag, expires, "presence published");
            self.presence_changed(now, &user);
            return published(&etag, expires);
        };
        if self.publications.get(&user, if_match).is_none() {
            return Answer::new(412, "Conditional Request Failed");
        }
        if expires == 0 {
            self.publications.remove(&user, if_match);
            tracing::debug!(%user, etag = if_match, "presence publication removed");
            self.presence_changed(now, &user);
            return Answer::new(200, "OK").with("Expires", 0);
        }
        let etag = self.new_tag();
        let modified = doc.is_some();
        self.publications
            .update(&user, if_match, etag.clone(), ends, doc);
        if modified {
            tracing::debug!(%user, %etag, expires, "presence publication modified");
            self.presence_changed(now, &user);
        }
        published(&etag, expires)
    }

    /// `user`'s composed presence changed: NOTIFY its presence watchers.
    pub(super) fn presence_changed(&mut self, now: Duration, user: &model::AddressOfRecord) {
        for key in self.watchers.of(now, user, Package::Presence) {
            self.send_notify(now, &key, Tell::Full);
        }
    }

    /// When the next publication or subscription ends.
    pub(super) fn presence_deadline(&mut self) -> Option<Duration> {
        match (self.publications.next_expiry(), self.watchers.next_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Ends what expired by `now`: publications (their watchers are told) and
    /// subscriptions (a final NOTIFY each).
    pub(super) fn presence_timers(&mut self, now: Duration) {
        for user in self.publications.expire(now) {
            tracing::debug!(%user, "presence publication expired");
            self.presence_changed(now, &user);
        }
        for key in self.watchers.due(now) {
            tracing::debug!(call_id = key.0, "subscription expired: final NOTIFY");
            self.send_notify(now, &key, Tell::Final);
        }
    }

    /// Presence publications held.
    pub fn presence_publications(&self) -> usize {
        self.publications.len()
    }
}

/// The 200 to a PUBLISH that keeps state.
fn published(etag: &str, expires: u32) -> Answer {
    Answer::new(200, "OK")
        .with("SIP-ETag", etag)
        .with("Expires", expires)
}
