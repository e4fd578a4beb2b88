//! The authentication stage: digest challenges and verification (RFC 3261 §22, RFC 7616,
//! RFC 8760) and identity checks. Failed attempts are counted by the throttle
//! (`throttle.rs`); its bans are enforced here (a banned user gets 403) and, for whole
//! sources, before parsing (`core/guard.rs`).
//!
//! Nonces are signed and carry their issue time ([`sip_auth::NonceSigner`]): nothing is
//! stored per challenge, an expired nonce earns `stale=true`, and each (nonce, nc) pair is
//! accepted once ([`sip_auth::NonceCountTracker`]), so captured credentials cannot be
//! replayed. An unknown user is verified against a dummy hash, so it gets the same answer,
//! by the same code path, as a wrong password: no user enumeration.

use std::net::IpAddr;
use std::time::Duration;

use model::AddressOfRecord;
use sip_auth::{Algorithm, Credentials, NcStatus, NonceCountTracker, NonceSigner, NonceStatus};
use sip_message::{HeaderName, SipMessage, Uri};

use crate::bans::BanTable;
use crate::directory::Directory;
use crate::oplog::{self, AuthFailure};
use crate::throttle::Throttle;

/// Authentication settings (`[auth]` in the configuration file).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Challenge local users at all (off only for closed test networks).
    pub enabled: bool,
    /// Seconds a nonce stays valid.
    pub nonce_ttl_secs: u64,
    /// Failed attempts for one user from one source, within the window, before that user
    /// is refused (403) from that source.
    pub max_failures_per_source_user: u32,
    /// Failed attempts for one existing user from anywhere, within the window, before that
    /// user is refused (403) from everywhere.
    pub max_failures_per_user: u32,
    /// Distinct users failing from one source, within the window, before the source is
    /// banned (dropped).
    pub max_users_per_source: u32,
    /// Failed attempts for unknown users from one source, within the window, before the
    /// source is banned (dropped).
    pub max_unknown_per_source: u32,
    /// The window, in seconds.
    pub failure_window_secs: u64,
    /// How long a ban lasts, in seconds.
    pub ban_secs: u64,
    /// Bound on each failure table ((source, user) pairs, users, sources).
    pub max_tracked: usize,
    /// Bound on remembered nonce counts.
    pub max_nonces: usize,
    /// Let an authenticated user send with an alias of theirs in From.
    pub allow_alias_identity: bool,
    /// Algorithms offered, one challenge each, in this order. Clients that follow
    /// RFC 8760 take the first they support; many deployed phones (and SIPp 3.6) take the
    /// first header whatever it says, and some (Debian's baresip 1.0) reject a response
    /// with several challenges outright. So the default is one challenge, MD5; SHA-256 is
    /// for deployments whose phones are known to handle it (docs/authentication.md).
    pub algorithms: Vec<Algorithm>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            enabled: true,
            nonce_ttl_secs: 300,
            max_failures_per_source_user: 10,
            max_failures_per_user: 50,
            max_users_per_source: 10,
            max_unknown_per_source: 10,
            failure_window_secs: 60,
            ban_secs: 300,
            max_tracked: 65536,
            max_nonces: 1 << 20,
            allow_alias_identity: true,
            algorithms: vec![Algorithm::Md5],
        }
    }
}

/// The result of the stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthOutcome {
    /// Verified: who, and which header carried the credentials (to remove it).
    Authenticated(AddressOfRecord, usize),
    /// Send a challenge (401 for REGISTER, 407 otherwise), `stale` when the nonce expired.
    Challenge {
        /// 401 or 407.
        status: u16,
        /// The header fields to add (one challenge per algorithm).
        headers: Vec<(&'static str, String)>,
    },
    /// Refuse with 403 and this reason.
    Forbidden(&'static str),
}

/// Who is being asked to authenticate, where and when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    /// The realm (the user's domain).
    pub realm: &'a str,
    /// 401 (registrar) or 407 (proxy).
    pub status: u16,
    /// The sender's address, for throttling.
    pub source: IpAddr,
    /// Unix time in seconds (nonces).
    pub wall: u64,
    /// The proxy's monotonic clock (failure windows and bans).
    pub now: Duration,
}

/// The authenticator.
pub(crate) struct Authenticator {
    cfg: AuthConfig,
    signer: NonceSigner,
    tracker: NonceCountTracker,
    rng: u64,
    throttle: Throttle,
    failures: u64,
}

const DUMMY_HA1_MD5: &str = "00000000000000000000000000000000";
const DUMMY_HA1_SHA256: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Authenticator {
    pub(crate) fn new(cfg: AuthConfig, key: [u8; 32]) -> Self {
        let seed = u64::from_le_bytes([
            key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
        ]) | 1;
        Authenticator {
            tracker: NonceCountTracker::new(cfg.max_nonces),
            throttle: Throttle::new(cfg.max_tracked),
            signer: NonceSigner::new(key),
            rng: seed,
            failures: 0,
            cfg,
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.cfg.enabled
    }

    /// Credentials that did not verify, since start.
    pub(crate) fn failures(&self) -> u64 {
        self.failures
    }

    pub(crate) fn allow_alias_identity(&self) -> bool {
        self.cfg.allow_alias_identity
    }

    fn random(&mut self) -> [u8; 8] {
        // xorshift64*: nonces need uniqueness, not secrecy (they are signed).
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes()
    }

    /// The challenge header lines, one per configured algorithm (RFC 8760 §2.4), one nonce.
    fn challenge(&mut self, status: u16, realm: &str, stale: bool, wall: u64) -> AuthOutcome {
        let random = self.random();
        let nonce = self.signer.issue(wall, random);
        let name = if status == 401 {
            "WWW-Authenticate"
        } else {
            "Proxy-Authenticate"
        };
        let realm = realm.replace(['"', '\\'], "");
        let stale = if stale { ", stale=true" } else { "" };
        let mut headers = Vec::with_capacity(self.cfg.algorithms.len());
        for alg in &self.cfg.algorithms {
            headers.push((
                name,
                format!(
                    "Digest realm=\"{realm}\", nonce=\"{nonce}\", qop=\"auth\", algorithm={}{stale}",
                    alg.as_str()
                ),
            ));
        }
        AuthOutcome::Challenge { status, headers }
    }

    /// Checks the request's credentials for `at.realm`; failures are counted and bans
    /// made in `bans`.
    pub(crate) fn check(
        &mut self,
        req: &SipMessage,
        at: Attempt<'_>,
        directory: &dyn Directory,
        names_this_server: &dyn Fn(&Uri<'_>) -> bool,
        bans: &mut BanTable,
    ) -> AuthOutcome {
        let Attempt {
            realm,
            status,
            source,
            wall,
            now,
        } = at;
        // The user the request claims (To of a REGISTER, From otherwise): a banned user
        // is refused before being challenged.
        let claimed = (if status == 401 { req.to() } else { req.from() })
            .filter(|_| bans.any())
            .and_then(|na| na.uri.user.map(|u| AddressOfRecord::new(u, realm)));
        if let Some(user) = claimed.filter(|u| bans.user_banned(source, u, now)) {
            oplog::auth_failure(&user.to_string(), source, AuthFailure::Banned);
            return AuthOutcome::Forbidden("Too Many Failed Authentications");
        }
        let header = if status == 401 {
            HeaderName::Authorization
        } else {
            HeaderName::ProxyAuthorization
        };
        // The credentials for our realm (a request may carry others for other proxies).
        let found = req.header_values(header).find_map(|(i, v)| {
            Credentials::parse(v)
                .ok()
                .filter(|c| c.realm.eq_ignore_ascii_case(realm))
                .map(|c| (i, c))
        });
        let Some((index, creds)) = found else {
            return self.challenge(status, realm, false, wall);
        };
        let algorithm = creds.effective_algorithm();
        if !self.cfg.algorithms.contains(&algorithm) || creds.userhash {
            return self.challenge(status, realm, false, wall);
        }
        let uri_ok = uri_matches(&creds.uri, req.request_uri_str())
            || Uri::parse(&creds.uri).is_ok_and(|u| u.user.is_none() && names_this_server(&u));
        let aor = AddressOfRecord::new(&creds.username, realm);
        if !uri_ok {
            oplog::auth_failure(&aor.to_string(), source, AuthFailure::BadCredentials);
            return AuthOutcome::Forbidden("Digest URI Does Not Match Request-URI");
        }
        if bans.user_banned(source, &aor, now) {
            oplog::auth_failure(&aor.to_string(), source, AuthFailure::Banned);
            return AuthOutcome::Forbidden("Too Many Failed Authentications");
        }
        let issued_at = match self
            .signer
            .check(&creds.nonce, wall, self.cfg.nonce_ttl_secs)
        {
            NonceStatus::Valid { issued_at } => Some(issued_at),
            NonceStatus::Stale => None,
            NonceStatus::Invalid => return self.challenge(status, realm, false, wall),
        };
        // Same work for unknown users as for known ones.
        let ha1 = directory.credentials(&aor);
        let ha1_hex = match (&ha1, algorithm) {
            (Some((md5, _)), Algorithm::Md5) => md5.as_str(),
            (Some((_, sha)), _) => sha.as_str(),
            (None, Algorithm::Md5) => DUMMY_HA1_MD5,
            (None, _) => DUMMY_HA1_SHA256,
        };
        let ok = sip_auth::verify(&creds, ha1_hex, req.method_str(), req.body()) && ha1.is_some();
        if !ok {
            self.failures += 1;
            let known = ha1.is_some();
            let why = if known {
                AuthFailure::WrongPassword
            } else {
                AuthFailure::UnknownUser
            };
            oplog::auth_failure(&aor.to_string(), source, why);
            self.throttle
                .failed(&self.cfg, source, &aor, known, now, bans);
            return self.challenge(status, realm, false, wall);
        }
        let Some(issued_at) = issued_at else {
            // Right password, old nonce: ask again with stale=true (RFC 7616 §3.3).
            return self.challenge(status, realm, true, wall);
        };
        // Nonces past their lifetime are refused by the signer: stop tracking them.
        self.tracker
            .forget_issued_before(wall.saturating_sub(self.cfg.nonce_ttl_secs));
        let nc = if creds.qop.is_some() {
            creds.nc.unwrap_or(0)
        } else {
            1
        };
        match self.tracker.check_and_record(&creds.nonce, issued_at, nc) {
            NcStatus::Accepted => {}
            NcStatus::Replayed { .. } => {
                oplog::auth_failure(&aor.to_string(), source, AuthFailure::Replay);
                return self.challenge(status, realm, true, wall);
            }
            NcStatus::Forgotten => return self.challenge(status, realm, true, wall),
        }
        self.throttle.succeeded(source, &aor);
        AuthOutcome::Authenticated(aor, index)
    }
}

/// The digest `uri` must name the Request-URI. Accepted: the same text, or the same URI
/// once parsed (scheme and host compared without case, default port 5060 made explicit,
/// parameters in any order). The caller also accepts a URI naming this server itself
/// (SIPp and some phones put the proxy's address there). See docs/authentication.md.
fn uri_matches(digest_uri: &str, request_uri: &str) -> bool {
    if digest_uri == request_uri {
        return true;
    }
    let (Ok(a), Ok(b)) = (Uri::parse(digest_uri), Uri::parse(request_uri)) else {
        return false;
    };
    let mut pa: Vec<String> = a
        .params
        .split(';')
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut pb: Vec<String> = b
        .params
        .split(';')
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    pa.sort();
    pb.sort();
    a.scheme == b.scheme
        && a.user == b.user
        && a.host.eq_ignore_ascii_case(b.host)
        && a.port.unwrap_or(5060) == b.port.unwrap_or(5060)
        && pa == pb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_uri_quirks() {
        assert!(uri_matches("sip:example.com", "sip:example.com"));
        assert!(uri_matches("sip:EXAMPLE.com:5060", "sip:example.com"));
        assert!(uri_matches(
            "sip:bob@example.com;transport=udp;lr",
            "sip:bob@example.com;lr;transport=UDP"
        ));
        assert!(!uri_matches("sip:alice@example.com", "sip:bob@example.com"));
        assert!(!uri_matches(
            "sip:bob@example.com:5070",
            "sip:bob@example.com"
        ));
    }
}
