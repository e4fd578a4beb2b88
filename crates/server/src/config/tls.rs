//! `[tls]`: the certificate and key of the TLS listeners, how often their files are
//! checked for changes, and how the certificates of peers this server connects to are
//! checked. The transports load and apply them (`transport::TlsContext`); the demo's
//! self-signed certificate is made by `crate::tls_files`.

use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

/// `[tls]`: certificates for SIP over TLS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSection {
    /// PEM certificate chain (leaf first). Default: `DATA_DIR/tls/certificate.pem`,
    /// generated self-signed on first start in demo mode.
    pub certificate: Option<PathBuf>,
    /// PEM private key of the certificate. Default: `DATA_DIR/tls/private_key.pem`.
    pub private_key: Option<PathBuf>,
    /// PEM file of the CAs trusted for outbound TLS; default: the system's bundle.
    pub ca_file: Option<PathBuf>,
    /// Check the certificate of every peer this server connects to over TLS (its chain
    /// and its IP address). `false` accepts any certificate: for labs only.
    pub verify_peers: bool,
    /// Seconds between checks of the certificate and key files for changes (a changed
    /// file is loaded for the next handshake); 0: only on SIGHUP.
    pub watch_secs: u64,
}

impl Default for TlsSection {
    fn default() -> Self {
        TlsSection {
            certificate: None,
            private_key: None,
            ca_file: None,
            verify_peers: true,
            watch_secs: 5,
        }
    }
}

impl TlsSection {
    /// A certificate and a key are named together, or neither is.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        match (&self.certificate, &self.private_key) {
            (Some(_), None) => bail!("tls.private_key: needed with tls.certificate"),
            (None, Some(_)) => bail!("tls.certificate: needed with tls.private_key"),
            _ => Ok(()),
        }
    }

    /// The certificate and key files, defaults resolved under `data_dir`; true when they
    /// are the defaults (which the demo may generate).
    pub fn files(&self, data_dir: &std::path::Path) -> (PathBuf, PathBuf, bool) {
        match (&self.certificate, &self.private_key) {
            (Some(c), Some(k)) => (c.clone(), k.clone(), false),
            _ => {
                let dir = data_dir.join("tls");
                (
                    dir.join("certificate.pem"),
                    dir.join("private_key.pem"),
                    true,
                )
            }
        }
    }
}
