//! The registrar stage: a REGISTER to a local domain is authenticated (401), applied to
//! the location table by the `registrar` crate, answered with the bindings, and logged.

use std::time::Duration;

use model::AddressOfRecord;
use sip_message::SipMessage;
use sip_transaction::TransactionId;

use super::Proxy;
use crate::destination::Destination;
use crate::sanity;

impl Proxy {
    pub(super) fn register(
        &mut self,
        now: Duration,
        wall: u64,
        id: TransactionId,
        req: &SipMessage,
        source: &Destination,
    ) {
        if let Err((status, reason, extra)) = sanity::check_require_for_registrar(req) {
            self.reply(
                now,
                id,
                req,
                source,
                status,
                Some(reason),
                extra.as_deref().unwrap_or(""),
            );
            return;
        }
        let Some(to) = req.to() else {
            self.reply(now, id, req, source, 400, Some("Bad To header"), "");
            return;
        };
        if !to.uri.is_sip() || to.uri.user.is_none() {
            self.reply(
                now,
                id,
                req,
                source,
                400,
                Some("To must be a SIP URI with a user part"),
                "",
            );
            return;
        }
        let Some(domain) = self.local_domain_of(&to.uri, Some(req)) else {
            self.reply(
                now,
                id,
                req,
                source,
                404,
                Some("Domain Not Served Here"),
                "",
            );
            return;
        };
        if let Err((status, reason, headers)) = self.authenticate(req, &domain, 401, source, wall) {
            self.reply(now, id, req, source, status, reason, &headers);
            return;
        }
        let aor = AddressOfRecord::new(to.uri.user.unwrap_or(""), &domain);
        let aor = self.directory.resolve_alias(&aor).unwrap_or(aor);
        if !self.directory.is_subscriber(&aor) {
            self.reply(now, id, req, source, 404, Some("Not Found"), "");
            return;
        }
        let from = source.to_source_string();
        let outcome = self.registrar.handle(req, &aor, &from, wall);
        if outcome.status == 200 {
            self.stats.registrations += 1;
            log_registration_changes(&outcome.changes, &from, wall);
        }
        if outcome.status == 503 {
            self.stats.overloaded += 1;
            self.metrics.overloaded += 1;
        }
        self.changes.extend(outcome.changes);
        self.reply(
            now,
            id,
            req,
            source,
            outcome.status,
            outcome.reason,
            &outcome.headers,
        );
    }
}

/// One `registration` line per binding a REGISTER changed.
fn log_registration_changes(changes: &[registrar::Change], source: &str, wall: u64) {
    use crate::oplog::{registration, RegistrationAction as A};
    use registrar::Change;
    for c in changes {
        match c {
            Change::Add(b) => registration(
                A::New,
                &b.aor,
                &b.contact,
                &source,
                b.expires_at.saturating_sub(wall),
            ),
            Change::Save(b) => registration(
                A::Refreshed,
                &b.aor,
                &b.contact,
                &source,
                b.expires_at.saturating_sub(wall),
            ),
            Change::Delete(aor, contact) => registration(A::Removed, aor, contact, &source, 0),
            Change::DeleteAll(aor) => registration(A::Removed, aor, "*", &source, 0),
        }
    }
}
