//! DNS answers (RFC 3263) a request or a retarget waited for, and the targets they make.
//! Every name the proxy routes to goes through here: a Request-URI (`pipeline.rs`), a
//! Route header's URI (`pipeline.rs`), a forwarding or find-me target (`services.rs`).
//! A name not looked up yet gives `Need(Query::Resolve)`; its answer comes back into the
//! context (`RequestCtx::resolved`, `FinalCtx::resolved`) and the stage runs again. Each
//! next hop becomes a serial group of its own, so a 503, a timeout or a transport error
//! moves on to the next (RFC 3263 §4.3).
//!
//! Not here: the lookup (the server's resolver answers `Query::Resolve`) or trying the
//! groups in turn (the fork manager).

use super::query::{Missing, Query};
use crate::destination::Destination;
use crate::error::CallError;
use crate::fork::Target;
use crate::route::HopError;

/// DNS answers so far: the URI asked about and its next hops, best first (None: the
/// lookup failed).
pub(crate) type Resolved = Vec<(String, Option<Vec<Destination>>)>;

/// The next hops of `uri` from `answers`; the query to ask when it has not been asked;
/// 404 (no SIP server) or 503 (lookup failed) otherwise, each a log line.
pub(super) fn next_hops<'a>(
    uri: &str,
    answers: &'a [(String, Option<Vec<Destination>>)],
) -> Result<&'a [Destination], Missing> {
    match answers.iter().find(|(u, _)| u == uri) {
        None => Err(Missing::Need(Query::Resolve(uri.to_string()))),
        Some((_, Some(hops))) if !hops.is_empty() => Ok(hops),
        Some((_, Some(_))) => {
            tracing::info!(%uri, "dns: the name has no SIP server");
            Err(Missing::Failed(CallError::Hop(HopError::NoSipServer)))
        }
        Some((_, None)) => {
            tracing::info!(%uri, "dns: lookup failed");
            Err(Missing::Failed(CallError::Hop(HopError::LookupFailed)))
        }
    }
}

/// One serial group per next hop, each sent with `request_uri` (None: unchanged).
pub(super) fn serial_groups(request_uri: Option<&str>, hops: &[Destination]) -> Vec<Vec<Target>> {
    hops.iter()
        .map(|dest| {
            vec![Target {
                request_uri: request_uri.map(str::to_string),
                dest: *dest,
                routes: vec![],
                q: 1000,
            }]
        })
        .collect()
}
