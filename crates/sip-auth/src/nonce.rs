//! Stateless, signed server nonces.
//!
//! A nonce is `hex(issued_at_be64 || random8 || tag16)` (64 hex characters),
//! where `tag16` is HMAC-SHA256 over a domain-separation label, the timestamp
//! and the random bytes, truncated to 128 bits. The server needs no state to
//! tell its own unexpired nonces from forged or expired ones; it does need
//! [`crate::NonceCountTracker`] to stop a captured `(nonce, nc)` pair from
//! being replayed while the nonce is still fresh.

use std::fmt;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const LABEL: &[u8] = b"switchboard sip-auth nonce v1";
const PAYLOAD_LEN: usize = 16;
const TAG_LEN: usize = 16;
/// Length in characters of every nonce [`NonceSigner::issue`] produces.
pub const NONCE_LEN: usize = 2 * (PAYLOAD_LEN + TAG_LEN);
/// How far in the future a nonce's timestamp may be (clock skew between
/// servers sharing a key) before it is rejected as invalid.
pub const MAX_FUTURE_SKEW_SECS: u64 = 30;

/// Outcome of [`NonceSigner::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceStatus {
    /// Issued by this key and not older than the allowed age.
    Valid {
        /// Unix time (seconds) the nonce was issued at.
        issued_at: u64,
    },
    /// Issued by this key but too old: challenge again with `stale=true`
    /// so the client retries without asking the user for a password.
    Stale,
    /// Not a nonce this key issued (forged, corrupted or malformed).
    Invalid,
}

/// Issues and checks nonces with a server secret. Holds no clock and no RNG:
/// the caller passes the time and fresh random bytes.
#[derive(Clone)]
pub struct NonceSigner {
    /// HMAC-SHA256 already keyed: its inner and outer padded-key states are computed
    /// once here, so a MAC costs two SHA-256 blocks instead of four (a nonce is made
    /// for every challenge and checked for every answer to one).
    keyed: HmacSha256,
}

impl fmt::Debug for NonceSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonceSigner").finish_non_exhaustive()
    }
}

impl NonceSigner {
    /// Creates a signer from a 32-byte secret. Every server that must accept
    /// another's nonces needs the same key; rotating it invalidates all
    /// outstanding nonces (clients then get a fresh challenge).
    pub fn new(key: [u8; 32]) -> Self {
        // HMAC zero-pads keys to the block size, so padding the 32-byte key
        // to 64 bytes gives the same MAC and avoids a fallible constructor.
        let mut block_key = [0u8; 64];
        block_key[..32].copy_from_slice(&key);
        NonceSigner {
            keyed: <HmacSha256 as KeyInit>::new(&block_key.into()),
        }
    }

    fn mac(&self, payload: &[u8; PAYLOAD_LEN]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(LABEL);
        mac.update(payload);
        mac
    }

    /// Issues a nonce stamped with `now_unix_secs`. `random` must be fresh
    /// random bytes per call so that two nonces issued in the same second
    /// differ.
    pub fn issue(&self, now_unix_secs: u64, random: [u8; 8]) -> String {
        let mut payload = [0u8; PAYLOAD_LEN];
        payload[..8].copy_from_slice(&now_unix_secs.to_be_bytes());
        payload[8..].copy_from_slice(&random);
        let tag = self.mac(&payload).finalize().into_bytes();
        let mut raw = [0u8; PAYLOAD_LEN + TAG_LEN];
        raw[..PAYLOAD_LEN].copy_from_slice(&payload);
        raw[PAYLOAD_LEN..].copy_from_slice(&tag[..TAG_LEN]);
        hex::encode(raw)
    }

    /// Checks that `nonce` was issued by this key (constant-time tag
    /// comparison) and is at most `max_age_secs` old at `now_unix_secs`.
    pub fn check(&self, nonce: &str, now_unix_secs: u64, max_age_secs: u64) -> NonceStatus {
        // Only the exact lower-case form issue() produces is accepted, so
        // one nonce has exactly one spelling (replay tracking keys on it).
        let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if nonce.len() != NONCE_LEN || !nonce.bytes().all(lower_hex) {
            return NonceStatus::Invalid;
        }
        let mut raw = [0u8; PAYLOAD_LEN + TAG_LEN];
        if hex::decode_to_slice(nonce, &mut raw).is_err() {
            return NonceStatus::Invalid;
        }
        let mut payload = [0u8; PAYLOAD_LEN];
        payload.copy_from_slice(&raw[..PAYLOAD_LEN]);
        if self
            .mac(&payload)
            .verify_truncated_left(&raw[PAYLOAD_LEN..])
            .is_err()
        {
            return NonceStatus::Invalid;
        }
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&payload[..8]);
        let issued_at = u64::from_be_bytes(ts);
        if issued_at > now_unix_secs.saturating_add(MAX_FUTURE_SKEW_SECS) {
            return NonceStatus::Invalid;
        }
        if now_unix_secs.saturating_sub(issued_at) > max_age_secs {
            return NonceStatus::Stale;
        }
        NonceStatus::Valid { issued_at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn issue_and_check() {
        let s = NonceSigner::new(KEY);
        let n = s.issue(1_000, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(n.len(), NONCE_LEN);
        assert!(n.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            s.check(&n, 1_000, 300),
            NonceStatus::Valid { issued_at: 1_000 }
        );
        assert_eq!(
            s.check(&n, 1_300, 300),
            NonceStatus::Valid { issued_at: 1_000 }
        );
        assert_eq!(s.check(&n, 1_301, 300), NonceStatus::Stale);
        assert_eq!(
            s.check(&n, 1_000 - MAX_FUTURE_SKEW_SECS, 300),
            NonceStatus::Valid { issued_at: 1_000 }
        );
        assert_eq!(
            s.check(&n, 1_000 - MAX_FUTURE_SKEW_SECS - 1, 300),
            NonceStatus::Invalid
        );
        assert_ne!(n, s.issue(1_000, [0; 8]));
    }

    #[test]
    fn forged_and_malformed_nonces_are_invalid() {
        let s = NonceSigner::new(KEY);
        let n = s.issue(1_000, [9; 8]);
        let other = NonceSigner::new([8; 32]);
        assert_eq!(other.check(&n, 1_000, 300), NonceStatus::Invalid);
        // Flip every position in turn: all must be rejected.
        for i in 0..n.len() {
            let mut b = n.clone().into_bytes();
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
            let t = String::from_utf8(b).unwrap();
            assert_eq!(s.check(&t, 1_000, 300), NonceStatus::Invalid, "pos {i}");
        }
        assert_eq!(s.check("", 1_000, 300), NonceStatus::Invalid);
        assert_eq!(s.check(&n[..62], 1_000, 300), NonceStatus::Invalid);
        assert_eq!(s.check(&"zz".repeat(32), 1_000, 300), NonceStatus::Invalid);
        assert_eq!(s.check(&"é".repeat(32), 1_000, 300), NonceStatus::Invalid);
    }

    #[test]
    fn upper_case_hex_is_rejected_and_debug_hides_key() {
        let s = NonceSigner::new(KEY);
        let n = s.issue(5, [0; 8]);
        assert_eq!(s.check(&n, 5, 1), NonceStatus::Valid { issued_at: 5 });
        assert_eq!(s.check(&n.to_uppercase(), 5, 1), NonceStatus::Invalid);
        let direct = <HmacSha256 as Mac>::new_from_slice(&KEY).unwrap();
        let mut padded = s.mac(&[0; PAYLOAD_LEN]);
        let mut d = direct;
        d.update(LABEL);
        d.update(&[0; PAYLOAD_LEN]);
        padded.update(b"");
        assert_eq!(d.finalize().into_bytes(), padded.finalize().into_bytes());
        assert!(!format!("{s:?}").contains('7'));
    }
}
