//! The layer's configuration: timer values, the bound of the transaction table and the
//! automatic `100 Trying`. It owns the defaults; it does not apply them (the table and the
//! server INVITE transaction do).

use std::time::Duration;

#[cfg(doc)]
use super::{Error, RequestOutcome, TransactionLayer};
use crate::timers::Timers;

/// Configuration of a [`TransactionLayer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// T1, T2, T4 and Timer D.
    pub timers: Timers,
    /// The most transactions (client and server) alive at once. When the table is full a new
    /// request yields [`RequestOutcome::Overloaded`] and [`TransactionLayer::send_request`]
    /// fails with [`Error::Overloaded`]. Default 1,048,576: RFC 3261 keeps a
    /// transaction 32 s after its final response (Timer J, or RFC 6026's Timer L/M), so a
    /// sustained N calls/s holds ~110·N of them and N registrations/s ~32·N.
    pub max_transactions: usize,
    /// When the server INVITE transaction sends `100 Trying` by itself if the TU has sent no
    /// provisional response yet: `Some(Duration::ZERO)` at once, `Some(d)` after `d`
    /// (RFC 3261 §17.2.1 suggests 200 ms, the default), `None` never (the TU sends it).
    /// The generated 100 copies the request's Via unchanged (no `received`/`rport`).
    pub auto_100_trying: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timers: Timers::default(),
            max_transactions: 1 << 20,
            auto_100_trying: Some(Duration::from_millis(200)),
        }
    }
}
