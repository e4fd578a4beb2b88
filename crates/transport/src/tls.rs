//! SIP over TLS (RFC 3261 §26, RFC 5630): the server's certificate and key, reloaded
//! while the server runs, and the TLS handshakes of inbound and outbound connections.
//!
//! This module owns the rustls configuration (ring as the crypto provider): the server
//! side reads `certificate` and `private_key` PEM files, and [`TlsContext::reload`] swaps
//! them for the next handshake (connections already up keep theirs); the client side
//! verifies a peer's certificate against `ca_file` (default: the system's CA bundle) and
//! the peer's IP address, or the domain name DNS located it for (RFC 5922 §4: the
//! domain of the URI, given through [`TlsContext::expect_name`]), unless verification is
//! switched off for a lab, or the address has a check of its own
//! ([`TlsContext::set_peer_checks`]: a gateway's pin or skip, `tls_check.rs`).
//!
//! Not here: framing and the connection table (shared with TCP: `connection.rs`,
//! `table.rs`), and when to reload (the server watches its signals and the files).

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::{Mutex, RwLock};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector, TlsStream};

use crate::tls_check::{Lenient, PeerCheck, PeerChecks, MAX_PEER_CHECKS};

/// Bound on a TLS handshake, inbound or outbound.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most peer addresses with a domain name to verify; past it the oldest is forgotten
/// (its next connection is verified by IP address, and refused unless the certificate
/// names it).
const MAX_PEER_NAMES: usize = 4096;
/// The CA bundle of Debian and its derivatives, used when no `ca_file` is given.
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Where the certificate and key are, and how peers are checked.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// PEM file with the server's certificate chain (leaf first).
    pub certificate: PathBuf,
    /// PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub private_key: PathBuf,
    /// PEM file of the CAs that outbound connections trust; None: the system bundle.
    pub ca_file: Option<PathBuf>,
    /// Verify the certificates of the peers this server connects to (chain and IP
    /// address). False accepts any certificate: for labs only.
    pub verify_peers: bool,
}

/// Why the TLS configuration could not be loaded. The previous one stays in force.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("tls: reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A PEM file held no certificate, or no private key.
    #[error("tls: {path}: {what}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What was missing or malformed.
        what: String,
    },
    /// rustls refused the certificate or key (e.g. the key does not match).
    #[error("tls: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The TLS configuration in force: cheap to share, reloadable.
pub struct TlsContext {
    settings: TlsSettings,
    provider: Arc<CryptoProvider>,
    server: RwLock<Arc<ServerConfig>>,
    client: Arc<ClientConfig>,
    /// The client side for peers whose certificate is not checked (`skip`).
    client_any: Arc<ClientConfig>,
    /// Addresses whose certificate is pinned or not checked, bounded by
    /// [`MAX_PEER_CHECKS`].
    checks: RwLock<PeerChecks>,
    /// Modification times of the certificate and key when last loaded.
    stamps: Mutex<(Option<SystemTime>, Option<SystemTime>)>,
    /// The domain name each outbound peer address must prove (RFC 5922), bounded by
    /// [`MAX_PEER_NAMES`].
    names: Mutex<PeerNames>,
}

/// Peer address -> domain name, oldest first out.
#[derive(Default)]
struct PeerNames {
    by_addr: HashMap<SocketAddr, String>,
    order: VecDeque<SocketAddr>,
}

impl PeerNames {
    /// Records `domain` for `addr`, forgetting the oldest addresses past `max`.
    fn insert(&mut self, addr: SocketAddr, domain: String, max: usize) {
        if self.by_addr.insert(addr, domain).is_none() {
            self.order.push_back(addr);
            while self.order.len() > max {
                if let Some(old) = self.order.pop_front() {
                    self.by_addr.remove(&old);
                }
            }
        }
    }
}

impl std::fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsContext")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TlsContext {
    /// Reads the certificate, key and CAs.
    pub fn load(settings: TlsSettings) -> Result<Arc<TlsContext>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let stamps = file_stamps(&settings);
        let server = server_config(&provider, &settings)?;
        let client = client_config(&provider, &settings)?;
        let client_any = lenient_config(&provider, Lenient::any(provider.clone()))?;
        Ok(Arc::new(TlsContext {
            settings,
            provider,
            server: RwLock::new(Arc::new(server)),
            client: Arc::new(client),
            client_any: Arc::new(client_any),
            checks: RwLock::new(PeerChecks::default()),
            stamps: Mutex::new(stamps),
            names: Mutex::new(PeerNames::default()),
        }))
    }

    /// Outbound connections to `addr` must present a certificate for `domain` (sent as
    /// SNI too): DNS located `addr` for a URI of that domain (RFC 5922 §4). The latest
    /// domain for an address wins; at most [`MAX_PEER_NAMES`] addresses are kept.
    pub fn expect_name(&self, addr: SocketAddr, domain: &str) {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        self.names.lock().insert(addr, domain, MAX_PEER_NAMES);
    }

    /// Replaces the addresses whose certificate is checked otherwise than by the chain
    /// and name (a gateway's `pin:` or `skip`); every other address is verified. At most
    /// [`MAX_PEER_CHECKS`] are kept (the rest are verified, and a warning says so).
    /// Connections already up keep the check they passed.
    pub fn set_peer_checks(&self, checks: impl IntoIterator<Item = (SocketAddr, PeerCheck)>) {
        let (checks, left_out) = PeerChecks::from_iter(checks, MAX_PEER_CHECKS);
        if left_out > 0 {
            tracing::warn!(
                left_out,
                max = MAX_PEER_CHECKS,
                "tls: too many peers with a check of their own; the rest are verified"
            );
        }
        *self.checks.write() = checks;
    }

    /// The name a connection to `remote` verifies: its domain when DNS gave one, else its
    /// IP address.
    fn server_name(&self, remote: SocketAddr) -> ServerName<'static> {
        let domain = self.names.lock().by_addr.get(&remote).cloned();
        domain
            .and_then(|d| ServerName::try_from(d.as_str()).ok().map(|n| n.to_owned()))
            .unwrap_or_else(|| ServerName::IpAddress(remote.ip().into()))
    }

    /// The settings it was loaded with.
    pub fn settings(&self) -> &TlsSettings {
        &self.settings
    }

    /// Rereads the certificate and key; the next handshake uses them. On error the
    /// previous ones stay in force.
    pub fn reload(&self) -> Result<(), TlsError> {
        let stamps = file_stamps(&self.settings);
        let server = server_config(&self.provider, &self.settings)?;
        *self.server.write() = Arc::new(server);
        *self.stamps.lock() = stamps;
        Ok(())
    }

    /// Reloads when the certificate or key file changed since the last load; true if it
    /// did.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let now = file_stamps(&self.settings);
        if *self.stamps.lock() == now {
            return Ok(false);
        }
        self.reload().map(|()| true)
    }

    fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.server.read().clone())
    }

    /// The client side for `remote`: its own check when it has one, else the chain and
    /// name check (or none, with `verify_peers` off).
    fn connector(&self, remote: SocketAddr) -> Result<TlsConnector, rustls::Error> {
        let check = self.checks.read().get(remote);
        let config = match check {
            PeerCheck::Verify => self.client.clone(),
            PeerCheck::Skip => {
                tracing::warn!(
                    peer = %remote,
                    "tls: certificate not checked (tls_verify = skip): labs only"
                );
                self.client_any.clone()
            }
            PeerCheck::Pin(pin) => Arc::new(lenient_config(
                &self.provider,
                Lenient::pinned(self.provider.clone(), pin),
            )?),
        };
        Ok(TlsConnector::from(config))
    }
}

fn file_stamps(s: &TlsSettings) -> (Option<SystemTime>, Option<SystemTime>) {
    let stamp = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (stamp(&s.certificate), stamp(&s.private_key))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: path.to_path_buf(),
            what: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            path: path.to_path_buf(),
            what: "no CERTIFICATE block".into(),
        });
    }
    Ok(certs)
}

fn server_config(
    provider: &Arc<CryptoProvider>,
    s: &TlsSettings,
) -> Result<ServerConfig, TlsError> {
    let certs = read_certs(&s.certificate)?;
    let bytes = std::fs::read(&s.private_key).map_err(|source| TlsError::Read {
        path: s.private_key.clone(),
        source,
    })?;
    let key = PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsError::Pem {
        path: s.private_key.clone(),
        what: format!("no usable private key ({e})"),
    })?;
    Ok(ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?)
}

fn client_config(
    provider: &Arc<CryptoProvider>,
    s: &TlsSettings,
) -> Result<ClientConfig, TlsError> {
    if !s.verify_peers {
        return Ok(lenient_config(provider, Lenient::any(provider.clone()))?);
    }
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let mut roots = RootCertStore::empty();
    let ca = s
        .ca_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(SYSTEM_CA_BUNDLE));
    match read_certs(&ca) {
        Ok(certs) => {
            let (added, ignored) = roots.add_parsable_certificates(certs);
            tracing::debug!(file = %ca.display(), added, ignored, "tls: trusted CAs loaded");
        }
        // An explicit CA file must load; the system bundle may be absent.
        Err(e) if s.ca_file.is_some() => return Err(e),
        Err(e) => tracing::warn!(error = %e, "tls: no CAs trusted for outbound connections"),
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// The client side with `verifier` instead of the chain and name check.
fn lenient_config(
    provider: &Arc<CryptoProvider>,
    verifier: Lenient,
) -> Result<ClientConfig, rustls::Error> {
    Ok(ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// The server side of a handshake on an accepted connection, bounded in time.
pub(crate) async fn accept(
    ctx: &TlsContext,
    stream: TcpStream,
) -> io::Result<TlsStream<TcpStream>> {
    let handshake = ctx.acceptor().accept(stream);
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(r) => r.map(TlsStream::Server),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "tls handshake timed out",
        )),
    }
}

/// The client side of a handshake to `remote`, whose certificate must name its IP
/// address or the domain DNS located it for (unless `verify_peers` is off or the address
/// has a check of its own), bounded in time.
pub(crate) async fn connect(
    ctx: &TlsContext,
    stream: TcpStream,
    remote: SocketAddr,
) -> io::Result<TlsStream<TcpStream>> {
    let name = ctx.server_name(remote);
    let connector = ctx.connector(remote).map_err(io::Error::other)?;
    let handshake = connector.connect(name, stream);
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(r) => r.map(TlsStream::Client),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "tls handshake timed out",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_names_are_bounded_oldest_out() {
        let addr = |p: u16| SocketAddr::from(([192, 0, 2, 1], p));
        let mut names = PeerNames::default();
        names.insert(addr(1), "a.example".into(), 2);
        names.insert(addr(2), "b.example".into(), 2);
        names.insert(addr(1), "c.example".into(), 2);
        assert_eq!(
            names.by_addr[&addr(1)],
            "c.example",
            "the latest domain wins"
        );
        names.insert(addr(3), "d.example".into(), 2);
        assert_eq!(names.by_addr.len(), 2);
        assert!(
            !names.by_addr.contains_key(&addr(1)),
            "the oldest is forgotten"
        );
        assert_eq!(names.order.len(), 2);
    }
}
