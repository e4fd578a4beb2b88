//! Voicemail wired into the request route and the fork manager (the pure parts are
//! `services/voicemail.rs`). Touch points elsewhere, each marked `voicemail`:
//! - `request_route.rs`: the [`Voicemail`] stage, before local routing (requests from
//!   outside to the service's URIs are refused; `*98` / `*99` go to retrieval;
//!   `message-summary` SUBSCRIBEs go to the notifier, `mwi.rs`);
//! - `services.rs`: forwarding is read through [`Proxy::forwarding_with_voicemail`], and a
//!   `voicemail` hop becomes [`Proxy::deposit_target`] (busy, no answer, unavailable).
//!
//! Nothing here reads the store: mailboxes come from the directory, which the server keeps
//! in line with the store through change notices.

use model::{AddressOfRecord, Forwarding};
use sip_message::{Method, SipMessage, Uri};

use super::stage::{Flow, RequestCtx, Stage, Targets};
use super::Proxy;
use crate::answer::Answer;
use crate::error::CallError;
use crate::fork::Target;
use crate::services::voicemail::{is_service_uri, with_voicemail, VoicemailCall, SERVICE_USER};

/// What the voicemail stage decided.
pub(super) enum VoicemailStage {
    /// Not a voicemail request: the pipeline goes on.
    Continue,
    /// Answer with this.
    Answer(Answer),
    /// Send to the service host.
    Route(Target),
    /// A message-waiting SUBSCRIBE: the proxy is the notifier (`mwi.rs`).
    Subscribe,
}

/// The voicemail stage of the request route, for requests to a local Request-URI.
pub(super) struct Voicemail;

impl Stage for Voicemail {
    fn name(&self) -> &'static str {
        "voicemail"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if !cx.for_us() {
            return Flow::Continue;
        }
        match p.voicemail_stage(cx) {
            VoicemailStage::Continue => Flow::Continue,
            VoicemailStage::Answer(a) => Flow::Reply(a),
            VoicemailStage::Route(t) => Flow::Forward(Targets::one(t)),
            VoicemailStage::Subscribe => {
                let aor = AddressOfRecord::new(cx.ruri_user().unwrap_or(""), &p.dialled_domain(cx));
                p.mwi_subscribe(cx.now, cx.id, &cx.req, &cx.source, &aor, cx.authenticated());
                Flow::Answered
            }
        }
    }
}

impl Proxy {
    /// The voicemail stage for a request to a local Request-URI (its user as dialled,
    /// before aliases): refuses the service's own URIs from outside, and turns the access
    /// codes into retrieval calls for authenticated local callers. Reads only the user
    /// part the request-uri stage located; the Request-URI is parsed again only when it
    /// names the service user.
    pub(super) fn voicemail_stage(&self, cx: &RequestCtx) -> VoicemailStage {
        let user = cx.ruri_user().unwrap_or("");
        let req = &cx.req;
        // Only the proxy produces these URIs (towards the service host), never a caller.
        if user == SERVICE_USER && Uri::parse(&cx.ruri).is_ok_and(|u| is_service_uri(&u)) {
            return VoicemailStage::Answer(Answer::new(403, "Voicemail Service Is Internal"));
        }
        if req.method() == Method::Subscribe
            && req
                .header_by_name("Event")
                .is_some_and(crate::services::mwi::is_message_summary)
        {
            return VoicemailStage::Subscribe;
        }
        if req.method() != Method::Invite || req.to_tag().is_some() || !cx.authenticated() {
            return VoicemailStage::Continue;
        }
        let codes = &self.cfg.services.voicemail;
        let call = if user == codes.retrieve_code {
            let Some(caller) = self.calling_user(req) else {
                return VoicemailStage::Continue;
            };
            match self.directory.voicemail(&caller) {
                Some(m) => VoicemailCall::RetrieveOwn {
                    mailbox: caller,
                    home: m.no_pin_at_home,
                },
                None => return VoicemailStage::Answer(Answer::new(404, "No Mailbox")),
            }
        } else if user == codes.any_phone_code {
            VoicemailCall::RetrieveAny(self.dialled_domain(cx))
        } else {
            return VoicemailStage::Continue;
        };
        match self.service_target(&call) {
            Ok(t) => {
                tracing::debug!(uri = %call.request_uri(), "voicemail retrieval");
                VoicemailStage::Route(t)
            }
            Err(e) => VoicemailStage::Answer(e.answer()),
        }
    }

    /// The domain a request to a local Request-URI is for (its host, or the default
    /// domain for a request to the server itself), as local routing reads it.
    pub(super) fn dialled_domain(&self, cx: &RequestCtx) -> String {
        if cx.local {
            cx.host.clone()
        } else {
            self.default_domain(Some(&cx.req))
        }
    }

    /// The user's forwarding, completed with voicemail for busy, no answer and unavailable
    /// when their mailbox is enabled and they set no rule of that kind.
    pub(super) fn forwarding_with_voicemail(&self, aor: &AddressOfRecord) -> Option<Forwarding> {
        with_voicemail(
            self.directory.forwarding(aor),
            self.directory.voicemail(aor),
        )
    }

    /// The fork target that deposits a message in `owner`'s mailbox (480 when the mailbox
    /// is off or no service host is configured).
    pub(super) fn deposit_target(&self, owner: &AddressOfRecord) -> Result<Target, CallError> {
        if self.directory.voicemail(owner).is_none() {
            return Err(CallError::NoMailbox);
        }
        let call = VoicemailCall::Deposit(owner.clone());
        tracing::debug!(uri = %call.request_uri(), "call to voicemail");
        self.service_target(&call)
    }

    fn service_target(&self, call: &VoicemailCall) -> Result<Target, CallError> {
        let dest = self
            .cfg
            .services
            .host
            .ok_or(CallError::VoicemailUnavailable)?;
        Ok(Target {
            request_uri: Some(call.request_uri()),
            dest,
            routes: Vec::new(),
            q: 1000,
        })
    }

    /// The local user a request's From names (aliases resolved); the caller's identity
    /// once authenticated. (Like `screening.rs`'s `caller_aor`, kept apart while the core
    /// is restructured.)
    pub(super) fn calling_user(&self, req: &SipMessage) -> Option<AddressOfRecord> {
        let from = req.from()?;
        let domain = self.local_domain_of(&from.uri, Some(req))?;
        let aor = AddressOfRecord::new(from.uri.user?, &domain);
        Some(self.directory.resolve_alias(&aor).unwrap_or(aor))
    }
}
