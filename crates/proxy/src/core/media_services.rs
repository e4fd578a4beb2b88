//! The media-services stage: INVITEs to a user part of a local domain that names a
//! service of the service host (music on hold, announcements; the table is
//! `services/media.rs`) go to the host with the Request-URI it expects. Park (`*85`,
//! `park`, the orbit numbers) is for authenticated local callers (403 otherwise); any
//! caller may reach the others, outsiders included (a screened caller follows `Error-Info` to an
//! announcement); what they cost is bounded by the host (`max_calls`, RTP ports: 503).
//! A service name takes precedence over a user or alias of the same name.
//!
//! Early media before a failure ([`Proxy::early_media_target`]): when a stage of the
//! request route answers an INVITE with a status of `[announcements] early_media`, the
//! call goes to the host's `announce-STATUS` instead, which sends `183` with the
//! announcement and then that status (`request_route.rs` asks before answering). On the
//! response side, [`EarlyMediaFailure`] does the same when the phones' answers end a
//! leg with such a status (their `486`): a new leg to the host (once per call).
//!
//! A REFER to the park service (RFC 5359 §2.15: park this party, `Refer-To` with
//! `Replaces`) and a SUBSCRIBE to its dialog state go to the host like an INVITE, for
//! local callers only.
//!
//! Not here: voicemail (`voicemail.rs`), which has its own access rules.

use sip_message::{Method, SipMessage, WrittenMessage};

use super::stage::{FinalCtx, FinalFlow, Flow, LegEnd, RequestCtx, Retarget, Stage, Targets};
use super::Proxy;
use crate::answer::Answer;
use crate::fork::Target;
use crate::services::media::MediaService;

/// The media-services stage of the request route.
pub(super) struct MediaServices;

impl Stage for MediaServices {
    fn name(&self) -> &'static str {
        "media-services"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if !cx.for_us() || cx.req.to_tag().is_some() {
            return Flow::Continue;
        }
        let Some(user) = cx.ruri_user() else {
            return Flow::Continue;
        };
        let media = &p.cfg.services.media;
        let Some(service) = media.service_for(user) else {
            return Flow::Continue;
        };
        // RFC 5359 §2.15: a REFER to the park server (Refer-To the party to park, with
        // Replaces) and a SUBSCRIBE to its dialog state are the host's too.
        let park_refer = matches!(cx.req.method(), Method::Refer | Method::Subscribe)
            && service == MediaService::Park;
        if cx.req.method() != Method::Invite && !park_refer {
            // OPTIONS, SUBSCRIBE, MESSAGE to a service: nobody is registered there.
            return Answer::new(405, "Method Not Allowed")
                .with("Allow", "INVITE, ACK, CANCEL, BYE")
                .into();
        }
        if service.local_only() && !cx.authenticated() {
            tracing::info!(user, "call to park refused: not a local caller");
            return Answer::new(403, "Park Is For Local Users").into();
        }
        let domain = if cx.local {
            cx.host.clone()
        } else {
            p.default_domain(Some(&cx.req))
        };
        let Some(uri) = media.host_request_uri(service, user, &domain) else {
            tracing::info!(user, "call to a media service refused: bad name");
            return Answer::new(404, "No Such Service").into();
        };
        let Some(dest) = p.cfg.services.host else {
            tracing::info!(
                user,
                "call to a media service refused: no service host ([media] enabled = false)"
            );
            return Answer::new(480, "Media Services Not Available").into();
        };
        tracing::debug!(%uri, ?service, "call to a media service");
        Flow::Forward(Targets::one(Target {
            request_uri: Some(uri),
            dest,
            routes: Vec::new(),
            q: 1000,
        }))
    }
}

impl Proxy {
    /// Where an INVITE the request route is about to answer with `status` goes instead
    /// for early media: the host's `announce-STATUS;early=STATUS`, when the operator chose
    /// that status, the host runs, and the INVITE is for a local domain, outside a dialog,
    /// with an SDP offer (early media answers it).
    pub(super) fn early_media_target(&self, cx: &RequestCtx, status: u16) -> Option<Target> {
        let media = &self.cfg.services.media;
        if media.early_media.is_empty()
            || !cx.for_us()
            || cx.req.method() != Method::Invite
            || cx.req.to_tag().is_some()
            || !has_sdp(&cx.req)
        {
            return None;
        }
        let dest = self.cfg.services.host?;
        // The callee's domain once local routing found one (it takes the host over).
        let domain = match &cx.callee {
            Some(callee) => callee.domain.clone(),
            None if cx.local && !cx.host.is_empty() => cx.host.clone(),
            None => self.default_domain(Some(&cx.req)),
        };
        let uri = media.early_media_uri(status, &domain)?;
        tracing::debug!(status, %uri, "failure preceded by an early-media announcement");
        Some(Target {
            request_uri: Some(uri),
            dest,
            routes: Vec::new(),
            q: 1000,
        })
    }
}

/// The request carries an SDP body.
fn has_sdp(req: &SipMessage) -> bool {
    !req.body().is_empty()
        && req
            .header_by_name("Content-Type")
            .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/sdp"))
}

/// The response-side stage: a leg that failed with an `[announcements] early_media`
/// status (the phones' own `486`, ...) is followed by a leg to the host's
/// `announce-STATUS;early=STATUS`, whose `183` and final status go to the caller.
pub(super) struct EarlyMediaFailure;

/// How long the announcement leg may take before the fork gives up on it.
const EARLY_MEDIA_LEG: std::time::Duration = std::time::Duration::from_secs(120);

impl Stage for EarlyMediaFailure {
    fn name(&self) -> &'static str {
        "early-media-failure"
    }

    fn on_request(&self, _: &mut Proxy, _: &mut RequestCtx) -> Flow {
        Flow::Continue
    }

    fn on_final(&self, p: &mut Proxy, cx: &mut FinalCtx) -> FinalFlow {
        let LegEnd::Failed(status) = cx.end else {
            return FinalFlow::Continue;
        };
        let media = &p.cfg.services.media;
        let Some(dest) = p.cfg.services.host else {
            return FinalFlow::Continue;
        };
        if !media.early_media.contains(&status) {
            return FinalFlow::Continue;
        }
        let Some(fork) = p.forks.get(&cx.fork_id) else {
            return FinalFlow::Continue;
        };
        let req = &fork.request;
        if req.method() != Method::Invite || req.to_tag().is_some() || !has_sdp(req) {
            return FinalFlow::Continue;
        }
        // Once per call: the announcement's own failure ends it.
        let announced = fork.branches.iter().any(|b| {
            b.request
                .as_ref()
                .and_then(WrittenMessage::get)
                .is_some_and(|r| r.request_uri_str().contains(";early="))
        });
        if announced {
            return FinalFlow::Continue;
        }
        let domain = p.default_domain(Some(req));
        let Some(uri) = media.early_media_uri(status, &domain) else {
            return FinalFlow::Continue;
        };
        tracing::debug!(status, %uri, "the phones' failure preceded by an early-media announcement");
        FinalFlow::Retarget(Box::new(Retarget {
            groups: vec![vec![Target {
                request_uri: Some(uri),
                dest,
                routes: Vec::new(),
                q: 1000,
            }]],
            ring: EARLY_MEDIA_LEG,
            forwarded: None,
        }))
    }
}
