//! The last stages of the request route: the callee (alias or DID -> local user) and
//! the callee's phones (the location table, or in shared-database mode a query), turned
//! into the fork's targets or into 480 / 302.

use model::{AddressOfRecord, Binding};
use sip_message::Method;

use super::query::{locate, Missing};
use super::stage::{Flow, RequestCtx, Stage, Targets};
use super::Proxy;
use crate::answer::Answer;
use crate::config::ProxyMode;
use crate::error::CallError;
use crate::fork::contact_groups;

/// Alias or DID -> subscriber. An authenticated caller gets 404 for a name nobody has; a
/// caller who has not authenticated must not learn which names exist (issue 12): an
/// absent user takes the same path as a user with no phone online (the location lookup,
/// which finds nothing) and gets the same 480, in the same time.
pub(super) struct LocalRouting;

impl Stage for LocalRouting {
    fn name(&self) -> &'static str {
        "local-routing"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        let domain = if cx.local {
            std::mem::take(&mut cx.host)
        } else {
            p.default_domain(Some(&cx.req))
        };
        let aor = AddressOfRecord::new(cx.ruri_user().unwrap_or(""), &domain);
        let aor = p.directory.resolve_alias(&aor).unwrap_or(aor);
        cx.callee_exists = p.directory.is_subscriber(&aor);
        if !cx.callee_exists && cx.authenticated() {
            return CallError::NotFound.answer().into();
        }
        cx.callee = Some(aor);
        Flow::Continue
    }
}

/// The callee's phones: every live binding, in serial q-groups.
pub(super) struct Location;

impl Stage for Location {
    fn name(&self) -> &'static str {
        "location"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        let Some(aor) = &cx.callee else {
            return Answer::new(500, "No Callee").into();
        };
        match locate(p, aor, cx.wall, &cx.found) {
            Ok(bindings) => p.bindings_flow(cx.req.method(), bindings),
            Err(Missing::Need(q)) => Flow::Need(q),
            Err(Missing::Failed(e)) => e.answer_logged().into(),
        }
    }
}

impl Proxy {
    /// Where a request to phones `bindings` goes: 480 when there are none, their contacts
    /// in a 302 (redirect mode), else a fork over them.
    fn bindings_flow(&self, method: Method, bindings: Vec<Binding>) -> Flow {
        if bindings.is_empty() {
            return CallError::Unavailable.answer().into();
        }
        if self.cfg.mode == ProxyMode::Redirect && method == Method::Invite {
            let contacts = bindings.iter().map(|b| {
                (
                    "Contact",
                    format!("<{}>;q={}.{:03}", b.contact, b.q / 1000, b.q % 1000),
                )
            });
            return Answer::status(302).with_all(contacts).into();
        }
        let groups = contact_groups(bindings);
        if groups.is_empty() {
            return CallError::Unavailable.answer().into();
        }
        Flow::Forward(Targets {
            groups,
            direct: None,
            service: None,
        })
    }
}
