//! The screening stage (RFC 5359 §2.13, §2.14): incoming rules of the callee and
//! outgoing rules of a local caller, answered `403` with Error-Info pointing at the
//! announcement. The rules themselves are in `crate::services::screening`.

use std::time::Duration;

use model::{AddressOfRecord, ScreenDirection};
use sip_message::{SipMessage, Uri};
use sip_transaction::TransactionId;

use super::Proxy;
use crate::destination::Destination;
use crate::services::screening::{blocking, screened_method, Party};

impl Proxy {
    /// Incoming screening (§2.13) of a request to `callee`: answers 403 and returns true
    /// when one of the callee's rules blocks the caller.
    pub(super) fn screened_incoming(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: &SipMessage,
        source: &Destination,
        callee: &AddressOfRecord,
    ) -> bool {
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
            self.reply_screened(now, id, req, source);
        }
        blocked
    }

    /// Outgoing screening (§2.14) of an authenticated local caller: answers 403 and
    /// returns true when one of the caller's rules blocks the Request-URI.
    pub(super) fn screened_outgoing(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: &SipMessage,
        source: &Destination,
        ruri: &str,
    ) -> bool {
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
            self.reply_screened(now, id, req, source);
        }
        blocked
    }

    fn reply_screened(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: &SipMessage,
        source: &Destination,
    ) {
        let extra = match &self.cfg.services.screening_announcement {
            Some(uri) => format!("Error-Info: <{uri}>\r\n"),
            None => String::new(),
        };
        self.reply(now, id, req, source, 403, Some("Forbidden"), &extra);
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
