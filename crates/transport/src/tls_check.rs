//! How an outbound TLS peer's certificate is checked when the operator said so for its
//! address (a gateway's `--tls-verify`): [`PeerCheck`], the bounded table of checks by
//! address, and the two rustls verifiers that replace the chain check: one that accepts
//! only a pinned leaf certificate (its SHA-256 fingerprint), one that accepts any.
//!
//! Both still check that the handshake is signed by the certificate's key, so a pinned
//! peer proves it holds the pinned certificate's key.
//!
//! Not here: the chain and name check of every other peer (`tls.rs`, rustls's WebPKI
//! verifier with the trusted CAs), and which addresses get which check (the server, from
//! its gateways).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// Most addresses with a check of their own; past it the rest are verified as any peer.
pub(crate) const MAX_PEER_CHECKS: usize = 4096;

/// How the certificate of the peer at one address is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeerCheck {
    /// The chain against the trusted CAs and the peer's name (`[tls]`): every peer's
    /// default.
    #[default]
    Verify,
    /// Only the SHA-256 fingerprint of the leaf certificate's DER bytes, whatever its
    /// chain, names and dates.
    Pin([u8; 32]),
    /// Any certificate (labs only): each connection logs a warning.
    Skip,
}

/// Peer address -> its check; addresses not in it are verified.
#[derive(Debug, Default)]
pub(crate) struct PeerChecks(HashMap<SocketAddr, PeerCheck>);

impl PeerChecks {
    /// The checks of `checks` (`Verify` ones need no entry), at most `max` of them; the
    /// number left out is returned.
    pub(crate) fn from_iter(
        checks: impl IntoIterator<Item = (SocketAddr, PeerCheck)>,
        max: usize,
    ) -> (PeerChecks, usize) {
        let mut map = HashMap::new();
        let mut left_out = 0;
        for (addr, check) in checks {
            if check == PeerCheck::Verify {
                continue;
            }
            if map.len() >= max && !map.contains_key(&addr) {
                left_out += 1;
                continue;
            }
            map.insert(addr, check);
        }
        (PeerChecks(map), left_out)
    }

    /// The check for `addr`.
    pub(crate) fn get(&self, addr: SocketAddr) -> PeerCheck {
        self.0.get(&addr).copied().unwrap_or_default()
    }
}

/// The SHA-256 fingerprint of a certificate (of its DER bytes), as
/// `openssl x509 -fingerprint -sha256` computes it.
pub fn fingerprint(cert: &[u8]) -> [u8; 32] {
    Sha256::digest(cert).into()
}

/// Whether `cert` is the pinned one.
fn pin_matches(pin: &[u8; 32], cert: &[u8]) -> bool {
    fingerprint(cert) == *pin
}

/// Colon-separated upper-case hex, as openssl prints a fingerprint.
fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Accepts any certificate (`verify_peers = false`, a gateway's `skip`), or only a pinned
/// one; either way the handshake must be signed by the certificate's key.
#[derive(Debug)]
pub(crate) struct Lenient {
    provider: Arc<CryptoProvider>,
    /// None: any certificate.
    pin: Option<[u8; 32]>,
}

impl Lenient {
    /// Accepts any certificate.
    pub(crate) fn any(provider: Arc<CryptoProvider>) -> Lenient {
        Lenient {
            provider,
            pin: None,
        }
    }

    /// Accepts only the certificate whose SHA-256 fingerprint is `pin`.
    pub(crate) fn pinned(provider: Arc<CryptoProvider>, pin: [u8; 32]) -> Lenient {
        Lenient {
            provider,
            pin: Some(pin),
        }
    }

    /// The decision on a leaf certificate, apart from the handshake's signature.
    fn decide(&self, end_entity: &[u8]) -> Result<(), rustls::Error> {
        match &self.pin {
            None => Ok(()),
            Some(pin) if pin_matches(pin, end_entity) => Ok(()),
            Some(pin) => {
                tracing::warn!(
                    pinned = %hex(pin),
                    presented = %hex(&fingerprint(end_entity)),
                    "tls: the peer's certificate is not the pinned one"
                );
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ))
            }
        }
    }
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.decide(end_entity.as_ref())
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    #[test]
    fn fingerprint_is_sha256_of_the_der_bytes() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            hex(&fingerprint(b"abc")),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:\
             B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn a_pin_accepts_its_certificate_only() {
        let cert = b"a certificate's DER bytes".as_slice();
        let pinned = Lenient::pinned(provider(), fingerprint(cert));
        assert!(pinned.decide(cert).is_ok());
        let other = pinned.decide(b"another certificate").unwrap_err();
        assert!(
            matches!(
                other,
                rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
            ),
            "{other:?}"
        );
        assert!(Lenient::any(provider()).decide(b"anything").is_ok());
    }

    #[test]
    fn checks_are_by_address_and_bounded() {
        let addr = |p: u16| SocketAddr::from(([192, 0, 2, 1], p));
        let (checks, left_out) = PeerChecks::from_iter(
            [
                (addr(1), PeerCheck::Skip),
                (addr(2), PeerCheck::Verify),
                (addr(3), PeerCheck::Pin([7; 32])),
                (addr(4), PeerCheck::Skip),
            ],
            2,
        );
        assert_eq!(checks.get(addr(1)), PeerCheck::Skip);
        assert_eq!(checks.get(addr(2)), PeerCheck::Verify, "no entry needed");
        assert_eq!(checks.get(addr(3)), PeerCheck::Pin([7; 32]));
        assert_eq!(checks.get(addr(4)), PeerCheck::Verify, "past the bound");
        assert_eq!(left_out, 1);
        assert_eq!(
            checks.get(SocketAddr::from(([192, 0, 2, 1], 9))),
            PeerCheck::Verify,
            "another port of the same host is another peer"
        );
    }
}
