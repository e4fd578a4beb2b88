//! Why a call into the layer was refused. It owns the reasons and their text; what the TU
//! answers on the wire for them is the TU's choice.

use std::fmt;

/// Why a call into the layer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No live transaction has this id (it may have terminated).
    UnknownTransaction,
    /// The transaction is a client transaction, or its state forbids this response
    /// (e.g. a second final response, a provisional after the final).
    WrongState,
    /// The status code is not within 100..=699.
    BadStatus(u16),
    /// The table holds `max_transactions` transactions.
    Overloaded,
    /// The request to send has no branch parameter in its top Via.
    MissingBranch,
    /// A client transaction with this branch and method already exists.
    DuplicateBranch,
    /// A response was given where a request was expected.
    NotARequest,
    /// ACK is never a transaction of its own: send it without the layer.
    AckIsNotATransaction,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownTransaction => f.write_str("unknown transaction"),
            Error::WrongState => f.write_str("response not allowed in this transaction state"),
            Error::BadStatus(s) => write!(f, "bad status code {s}"),
            Error::Overloaded => f.write_str("transaction table full"),
            Error::MissingBranch => f.write_str("request has no Via branch"),
            Error::DuplicateBranch => f.write_str("a client transaction with this branch exists"),
            Error::NotARequest => f.write_str("not a request"),
            Error::AckIsNotATransaction => f.write_str("ACK does not start a transaction"),
        }
    }
}

impl std::error::Error for Error {}
