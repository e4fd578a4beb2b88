//! Store errors.

/// What went wrong in a store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or failed.
    #[error("database error: {0}")]
    Backend(String),
    /// A row that must be unique already exists.
    #[error("{what} already exists")]
    Duplicate {
        /// What was duplicated (e.g. "user alice@example.com").
        what: String,
    },
    /// A row that was referenced does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What is missing.
        what: String,
    },
    /// A value is out of bounds.
    #[error("invalid {field}: {why}")]
    Invalid {
        /// The field name.
        field: &'static str,
        /// Why it is invalid.
        why: String,
    },
    /// A bounded collection is at its limit (a mailbox holding `max_messages`).
    #[error("{what} is full")]
    Full {
        /// What is full (e.g. "mailbox alice@example.com").
        what: String,
    },
}
