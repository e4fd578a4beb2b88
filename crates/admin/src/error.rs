//! Administration errors: each names the field at fault, and its text is the CLI's message.

use model::StoreError;

/// Why a use case refused or failed. The `Display` text is the whole message (it starts
/// with the field or the entity), as the CLI prints it after `error: `.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A value is malformed or out of bounds.
    #[error("{message}")]
    Invalid {
        /// The field at fault (`domain`, `user`, `password`, `target`, ...).
        field: &'static str,
        /// The whole message, naming the field.
        message: String,
    },
    /// Something the request refers to does not exist (a user, a domain not served here,
    /// a screening rule).
    #[error("{message}")]
    NotFound {
        /// The field at fault.
        field: &'static str,
        /// The whole message.
        message: String,
    },
    /// The name is taken (a user and an alias never share a name).
    #[error("{message}")]
    Conflict {
        /// The field at fault.
        field: &'static str,
        /// The whole message.
        message: String,
    },
    /// The store refused (duplicate, missing row) or failed.
    #[error("{0}")]
    Store(StoreError),
}

impl AdminError {
    /// An invalid value of `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(field: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            field,
            message: message.into(),
        }
    }

    /// The field at fault, when one is known.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Invalid { field, .. }
            | Self::NotFound { field, .. }
            | Self::Conflict { field, .. } => Some(field),
            Self::Store(StoreError::Invalid { field, .. }) => Some(field),
            Self::Store(_) => None,
        }
    }

    /// The HTTP status a web front end answers with: 400, 404, 409, 507 (a full mailbox), or 503 when the
    /// database failed.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Invalid { .. } | Self::Store(StoreError::Invalid { .. }) => 400,
            Self::NotFound { .. } | Self::Store(StoreError::NotFound { .. }) => 404,
            Self::Conflict { .. } | Self::Store(StoreError::Duplicate { .. }) => 409,
            Self::Store(StoreError::Full { .. }) => 507,
            Self::Store(StoreError::Backend(_)) => 503,
        }
    }
}

/// A store error as the CLI says it: `domain "a..b": empty label` for invalid values.
impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid { field, why } if why.starts_with('"') => {
                Self::invalid(field, format!("{field} {why}"))
            }
            StoreError::Invalid { field, why } => Self::invalid(field, format!("{field}: {why}")),
            e => Self::Store(e),
        }
    }
}
