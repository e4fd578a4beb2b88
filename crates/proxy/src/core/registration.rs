//! The registrar stage: a REGISTER to a local domain is authenticated (401), applied to
//! the location table by the `registrar` crate, answered with the bindings, and logged.

use model::AddressOfRecord;
use sip_message::{Method, SipMessage};

use super::stage::{Flow, RequestCtx, Stage};
use super::Proxy;
use crate::answer::Answer;
use crate::destination::Destination;
use crate::sanity;

/// A REGISTER to a local domain (or to this server) ends here, answered.
pub(super) struct Registrar;

impl Stage for Registrar {
    fn name(&self) -> &'static str {
        "registrar"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if cx.req.method() != Method::Register || !cx.for_us() {
            return Flow::Continue;
        }
        Flow::Reply(p.register(cx.wall, &cx.req, &cx.source))
    }
}

impl Proxy {
    fn register(&mut self, wall: u64, req: &SipMessage, source: &Destination) -> Answer {
        if let Err(refusal) = sanity::check_require_for_registrar(req) {
            let (status, reason, header) = refusal;
            return Answer::new(status, reason).with_all(header);
        }
        let Some(to) = req.to() else {
            return Answer::new(400, "Bad To header");
        };
        if !to.uri.is_sip() || to.uri.user.is_none() {
            return Answer::new(400, "To must be a SIP URI with a user part");
        }
        let Some(domain) = self.local_domain_of(&to.uri, Some(req)) else {
            return Answer::new(404, "Domain Not Served Here");
        };
        if let Err(answer) = self.authenticate(req, &domain, 401, source, wall) {
            return answer;
        }
        let aor = AddressOfRecord::new(to.uri.user.unwrap_or(""), &domain);
        let aor = self.directory.resolve_alias(&aor).unwrap_or(aor);
        if !self.directory.is_subscriber(&aor) {
            return Answer::new(404, "Not Found");
        }
        let from = source.to_source_string();
        let outcome = self.registrar.handle(req, &aor, &from, wall);
        if outcome.status == 200 {
            self.stats.registrations += 1;
            log_registration_changes(&outcome.changes, &from, wall);
            self.messages_on_register(&aor, &outcome.changes); // messages.rs
            self.keep_alive_registration(self.clock, req, source, &outcome.changes);
            // keepalive.rs
        }
        if outcome.status == 503 {
            self.stats.overloaded += 1;
            self.metrics.overloaded += 1;
        }
        self.outbox.persist(outcome.changes);
        Answer {
            status: outcome.status,
            reason: outcome.reason,
            headers: outcome.headers,
        }
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
