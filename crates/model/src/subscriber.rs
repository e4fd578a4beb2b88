//! Subscribers (users who authenticate) and aliases (other names that reach them).

use crate::aor::AddressOfRecord;

/// A provisioned user. Passwords are stored only as digest HA1 hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    /// The user's address-of-record; `domain` is also the digest realm.
    pub aor: AddressOfRecord,
    /// MD5(user:realm:password), lowercase hex.
    pub ha1_md5: String,
    /// SHA-256(user:realm:password), lowercase hex.
    pub ha1_sha256: String,
}

/// Another name (an alias or a DID number) that reaches a subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The alias.
    pub alias: AddressOfRecord,
    /// The subscriber it reaches.
    pub target: AddressOfRecord,
}
