//! The TLS certificate of the server's `tls:` listeners: loading it (and making a
//! self-signed one for the demo on first start), and reloading it on SIGHUP and when its
//! files change, so the next handshake uses the new one without a restart.
//!
//! Not here: the handshakes and rustls settings (`transport::TlsContext`), the `[tls]`
//! keys (`config::tls`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use transport::{TlsContext, TlsSettings, TransportKind};

use crate::config::{Config, Listen};

/// The TLS context, when a `tls:` listener or a certificate is configured. In demo mode a
/// missing default certificate is generated first.
pub fn load(cfg: &Config, listens: &[Listen]) -> anyhow::Result<Option<Arc<TlsContext>>> {
    let wanted = listens
        .iter()
        .any(|l| matches!(l.kind, TransportKind::Tls | TransportKind::Wss));
    if !wanted && cfg.tls.certificate.is_none() {
        return Ok(None);
    }
    let (certificate, private_key, defaults) = cfg.tls.files(&cfg.server.data_dir);
    if defaults && cfg.server.demo && !certificate.exists() && !private_key.exists() {
        let hosts = demo_names(cfg);
        generate_self_signed(&certificate, &private_key, &hosts)?;
        tracing::warn!(
            certificate = %certificate.display(),
            names = %hosts.join(","),
            "no TLS certificate: generated a self-signed one for the demo; set [tls] \
             certificate and private_key to a real one before going live"
        );
    }
    let settings = TlsSettings {
        certificate,
        private_key,
        ca_file: cfg.tls.ca_file.clone(),
        verify_peers: cfg.tls.verify_peers,
    };
    if !settings.verify_peers {
        tracing::warn!("tls.verify_peers = false: outbound TLS accepts any certificate");
    }
    let ctx = TlsContext::load(settings).context("loading the TLS certificate")?;
    Ok(Some(ctx))
}

/// The names the demo certificate is made for: localhost, the advertised host and the
/// listening addresses.
fn demo_names(cfg: &Config) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    names.extend(cfg.sip.advertised_host.clone());
    if let Ok(listens) = cfg.listens() {
        names.extend(
            listens
                .iter()
                .filter(|l| !l.addr.ip().is_unspecified())
                .map(|l| l.addr.ip().to_string()),
        );
    }
    names.sort();
    names.dedup();
    names
}

/// Writes a self-signed certificate for `names` (IP addresses become IP SANs) and its
/// key, readable by the owner only.
pub fn generate_self_signed(
    certificate: &Path,
    private_key: &Path,
    names: &[String],
) -> anyhow::Result<()> {
    let made = rcgen::generate_simple_self_signed(names.to_vec())
        .context("generating a self-signed certificate")?;
    for path in [certificate, private_key] {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    write_private(private_key, made.key_pair.serialize_pem().as_bytes())?;
    std::fs::write(certificate, made.cert.pem())
        .with_context(|| format!("writing {}", certificate.display()))?;
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))
}

/// Reloads the certificate on SIGHUP, and every `watch` when its files changed (never
/// when `watch` is zero). A certificate that does not load is logged and the previous
/// one stays in force.
pub fn spawn_reloader(
    ctx: Arc<TlsContext>,
    watch: Duration,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("installing the SIGHUP handler")?;
    Ok(tokio::spawn(async move {
        let period = if watch.is_zero() {
            Duration::from_secs(3600)
        } else {
            watch
        };
        let mut tick = tokio::time::interval(period);
        tick.tick().await;
        loop {
            let result = tokio::select! {
                _ = hup.recv() => ctx.reload().map(|()| true),
                _ = tick.tick(), if !watch.is_zero() => ctx.reload_if_changed(),
            };
            let cert = ctx.settings().certificate.display().to_string();
            match result {
                Ok(true) => tracing::info!(certificate = %cert, "tls: certificate reloaded"),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "tls: certificate not reloaded, the previous one stays")
                }
            }
        }
    }))
}
