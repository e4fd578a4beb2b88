//! RFC 5626 outbound at the proxy (§5.3): a request to a phone's flow goes over the
//! connection it registered over (the binding's source), and when that connection is
//! gone (the send fails) the flow has failed: the branch answers `430 Flow Failed` and
//! the flow's binding is removed, so later calls no longer try it; the phone registers
//! again over a new connection (its flow recovery, §4.5) and the registrar replaces the
//! binding by instance and reg-id (`registrar` crate).
//!
//! An in-dialog request sent over the flow a Record-Route token named (`flow_route.rs`)
//! answers 430 the same way when its connection is gone.
//!
//! Not here: noticing a closed connection before a request needs it.

use model::AddressOfRecord;
use sip_transaction::TransactionId;

use super::Proxy;

impl Proxy {
    /// Branch `b` of fork `fork_id` could not be sent: true when it went to an outbound
    /// flow, whose binding is then removed (the caller answers 430 for the branch).
    pub(super) fn flow_failed(&mut self, fork_id: TransactionId, b: usize) -> bool {
        let Some(fork) = self.forks.get(&fork_id) else {
            return false;
        };
        let Some(branch) = fork.branches.get(b) else {
            return false;
        };
        if fork.to_flow {
            // An in-dialog request to the flow a token named (flow_route.rs).
            tracing::warn!(
                call_id = fork.request.call_id(),
                method = %fork.request.method(),
                flow = %branch.dest,
                "outbound flow failed: the connection its flow token names is gone (430)"
            );
            return true;
        }
        let Some(to) = fork.request.to() else {
            return false;
        };
        let Some(domain) = self.local_domain_of(&to.uri, Some(&fork.request)) else {
            return false;
        };
        let aor = AddressOfRecord::new(to.uri.user.unwrap_or(""), &domain);
        let aor = self.directory.resolve_alias(&aor).unwrap_or(aor);
        let source = branch.dest.to_source_string();
        let mut gone = Vec::new();
        let removed = self.registrar.location().try_update(&aor, |list| {
            list.retain(|bd| {
                let failed = bd.flow.is_some() && bd.source == source;
                if failed {
                    gone.push(bd.contact.clone());
                }
                !failed
            });
            Ok::<(), ()>(())
        });
        if removed.is_err() || gone.is_empty() {
            return false;
        }
        for contact in &gone {
            tracing::warn!(
                %aor,
                %contact,
                %source,
                "outbound flow failed: its connection is gone, binding removed"
            );
        }
        self.outbox.persist(
            gone.into_iter()
                .map(|c| registrar::Change::Delete(aor.clone(), c))
                .collect(),
        );
        true
    }
}
