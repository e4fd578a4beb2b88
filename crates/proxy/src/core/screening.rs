//! The screening stage (RFC 5359 §2.13, §2.14): incoming rules of the callee and
//! outgoing rules of a local caller, answered `403` with Error-Info pointing at the
//! announcement. The rules themselves are in `crate::services::screening`.

use model::{AddressOfRecord, ScreenDirection};
use sip_message::{SipMessage, Uri};

use super::stage::{Flow, RequestCtx, Stage};
use super::Proxy;
use crate::answer::Answer;
use crate::services::screening::{blocking, screened_method, Party};

/// §2.14: an authenticated local caller's outgoing rules.
pub(super) struct OutgoingScreening;

impl Stage for OutgoingScreening {
    fn name(&self) -> &'static str {
        "outgoing-screening"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if cx.authenticated() && p.screened_outgoing(&cx.req, &cx.ruri) {
            let domain = p.default_domain(Some(&cx.req));
            return p.screened_answer(&domain).into();
        }
        Flow::Continue
    }
}

/// §2.13: the callee's incoming rules (only for a callee who exists).
pub(super) struct IncomingScreening;

impl Stage for IncomingScreening {
    fn name(&self) -> &'static str {
        "incoming-screening"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        match &cx.callee {
            Some(callee) if cx.callee_exists && p.screened_incoming(&cx.req, callee) => {
                p.screened_answer(&callee.domain).into()
            }
            _ => Flow::Continue,
        }
    }
}

impl Proxy {
    /// Incoming screening (§2.13) of a request to `callee`: true when one of the callee's
    /// rules blocks the caller.
    fn screened_incoming(&self, req: &SipMessage, callee: &AddressOfRecord) -> bool {
        if !screened_method(req.method()) || req.to_tag().is_some() {
            return false;
        }
        let rules = self.directory.screening(callee);
        if rules.is_empty() {
            return false;
        }
        let blocked = self
            .caller_parties(req)
            .iter()
            .any(|p| blocking(&rules, ScreenDirection::Incoming, p).is_some());
        if blocked {
            tracing::debug!(%callee, "incoming call screened");
        }
        blocked
    }

    /// Outgoing screening (§2.14) of an authenticated local caller: true when one of the
    /// caller's rules blocks the Request-URI.
    fn screened_outgoing(&self, req: &SipMessage, ruri: &str) -> bool {
        if !screened_method(req.method()) || req.to_tag().is_some() {
            return false;
        }
        let Some(caller) = self.caller_aor(req) else {
            return false;
        };
        let rules = self.directory.screening(&caller);
        if rules.is_empty() {
            return false;
        }
        let Ok(uri) = Uri::parse(ruri) else {
            return false;
        };
        let mut parties = vec![Party::of_uri(&uri)];
        if let (Some(user), Some(domain)) = (uri.user, self.local_domain_of(&uri, None)) {
            let aor = AddressOfRecord::new(user, &domain);
            if let Some(real) = self.directory.resolve_alias(&aor) {
                parties.push(Party {
                    user: Some(real.user.clone()),
                    host: real.domain.clone(),
                    anonymous: false,
                });
            }
        }
        let blocked = parties
            .iter()
            .any(|p| blocking(&rules, ScreenDirection::Outgoing, p).is_some());
        if blocked {
            tracing::debug!(%caller, "outgoing call screened");
        }
        blocked
    }

    /// 403, with the announcement in Error-Info: the configured URI, else, when the
    /// service host runs, its own `sip:announce-screened@DOMAIN` ("the person you are
    /// calling does not accept your calls"), in the callee's (incoming) or the caller's
    /// (outgoing) domain.
    fn screened_answer(&self, domain: &str) -> Answer {
        let a = Answer::new(403, "Forbidden");
        let services = &self.cfg.services;
        match (&services.screening_announcement, services.host) {
            (Some(uri), _) => a.with("Error-Info", format_args!("<{uri}>")),
            (None, Some(_)) => a.with(
                "Error-Info",
                format_args!("<sip:{}screened@{domain}>", services.media.announce_prefix),
            ),
            (None, None) => a,
        }
    }

    /// The caller as screening sees it: the From URI (for a local caller, the identity the
    /// authentication stage verified) and, for a local alias, the user it reaches.
    fn caller_parties(&self, req: &SipMessage) -> Vec<Party> {
        let Some(party) = Party::caller(req) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(aor) = self.caller_aor(req) {
            out.push(Party {
                user: Some(aor.user.clone()),
                host: aor.domain.clone(),
                anonymous: party.anonymous,
            });
        }
        out.push(party);
        out
    }

    /// The local user a request's From names (alias resolved), when its domain is ours.
    fn caller_aor(&self, req: &SipMessage) -> Option<AddressOfRecord> {
        let from = req.from()?;
        let domain = self.local_domain_of(&from.uri, None)?;
        let aor = AddressOfRecord::new(from.uri.user?, &domain);
        Some(self.directory.resolve_alias(&aor).unwrap_or(aor))
    }
}
