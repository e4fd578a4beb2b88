//! Call records (CDRs): one [`CallRecord`] per call attempt, what an operator bills from
//! and answers "why did my call fail" with, and the [`CdrStore`] trait that keeps them.
//!
//! This module owns the record's fields and their meaning (docs/cdr.md describes each
//! column) and the filter the CLI and the portal list records by. Building records from
//! the proxy's call events is the server's (`server/src/cdr/`); the SQL is `storage`'s.

use async_trait::async_trait;

use crate::error::StoreError;

/// One call attempt. Times are Unix milliseconds, UTC.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallRecord {
    /// Unique per attempt (one node's run and its call number): the row's key.
    pub id: String,
    /// The SIP Call-ID.
    pub call_id: String,
    /// `user@domain` the caller authenticated as; None for a caller from outside.
    pub caller: Option<String>,
    /// The From URI as the caller sent it.
    pub caller_from: String,
    /// The Request-URI the caller dialled.
    pub dialled: String,
    /// The number after the dial plan (the dialled URI while no dial plan exists).
    pub translated: String,
    /// Where the call went last: the dialled user, a forwarding target, or a gateway.
    pub target: String,
    /// Where the INVITE came from, `udp:192.0.2.7:5060`.
    pub source: String,
    /// The gateway the call left through (None: not through a gateway).
    pub gateway: Option<String>,
    /// When the INVITE arrived.
    pub started_ms: u64,
    /// When the 2xx went to the caller.
    pub answered_ms: Option<u64>,
    /// When the call ended: its BYE (or timeout) when answered, else its final answer.
    /// None for an answered call still up (or cut off by a crash).
    pub ended_ms: Option<u64>,
    /// Answered calls: from the answer to the end, once ended.
    pub duration_ms: Option<u64>,
    /// The final status sent to the caller.
    pub status: u16,
    /// Its reason phrase when the server chose one.
    pub reason: String,
    /// Who ended it: `caller`, `callee`, `timeout` or `server` (None while up, and for
    /// calls that failed other than by the caller's CANCEL).
    pub hangup: Option<String>,
    /// Each retarget, in order: (cause, new target); causes are `always`, `busy`,
    /// `no-answer`, `unavailable`, `find-me`.
    pub chain: Vec<(String, String)>,
}

impl CallRecord {
    /// The forwarding chain as stored: `cause target` entries, one per line.
    pub fn chain_text(&self) -> String {
        self.chain
            .iter()
            .map(|(c, t)| format!("{c} {t}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Reads [`CallRecord::chain_text`] back.
    pub fn parse_chain(text: &str) -> Vec<(String, String)> {
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(c, t)| (c.to_string(), t.to_string()))
            .collect()
    }
}

/// Most aliases a [`CdrFilter`] carries (the query's size stays bounded).
pub const MAX_FILTER_ALIASES: usize = 32;

/// Which records to list; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CdrFilter {
    /// Calls made (authenticated caller) or received (dialled or final target) by this
    /// `user@domain`.
    pub user: Option<String>,
    /// Aliases and DIDs of `user` (`number@domain`): a call dialled to one of them is the
    /// user's too (answered there, or forwarded away from them). At most
    /// [`MAX_FILTER_ALIASES`].
    pub aliases: Vec<String>,
    /// Started at or after (Unix ms).
    pub since_ms: Option<u64>,
    /// Started before (Unix ms).
    pub until_ms: Option<u64>,
    /// With this final status.
    pub status: Option<u16>,
    /// At most this many, the newest.
    pub limit: Option<u32>,
    /// Only calls made from (authenticated caller) or to (dialled or final target) these
    /// domains (lowercase); `None` for all (a domain admin's history).
    pub domains: Option<Vec<String>>,
    /// Only records older than this one, in (start, id) order: the oldest row of the
    /// previous page (keyset paging, newest first).
    pub before: Option<(u64, String)>,
}

/// Where call records are kept. Implementation: `storage::SqlStore`.
#[async_trait]
pub trait CdrStore: Send + Sync + 'static {
    /// Inserts or replaces records by id, in one transaction (an answered call's row is
    /// written at the answer and replaced at its end).
    async fn save_records(&self, records: &[CallRecord]) -> Result<(), StoreError>;
    /// Records matching `filter`, oldest first.
    async fn records(&self, filter: &CdrFilter) -> Result<Vec<CallRecord>, StoreError>;
    /// Deletes records started before `before_ms`; returns how many.
    async fn delete_records_before(&self, before_ms: u64) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_reads_back() {
        let r = CallRecord {
            chain: vec![
                ("busy".into(), "sip:carol@example.com".into()),
                (
                    "no-answer".into(),
                    "sip:vm@192.0.2.9:5070;transport=udp".into(),
                ),
            ],
            ..CallRecord::default()
        };
        assert_eq!(CallRecord::parse_chain(&r.chain_text()), r.chain);
        assert!(CallRecord::parse_chain("").is_empty());
    }
}
