//! Certificates for the TLS and WSS tests, made by OpenSSL (`openssl req -x509`): a
//! self-signed one for 127.0.0.1 (also a CA, OpenSSL's default), or one signed by such
//! a CA, as a real server presents, for 127.0.0.1 or for a domain name only. Files
//! `DIR/NAME.pem` and `DIR/NAME.key`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `openssl s_server` on a free loopback port with `cert`/`key`, taking one connection,
/// printing what it receives on its stdout and sending what is written to its stdin (both
/// piped): (its port, the process), once it listens.
pub fn s_server(cert: &Path, key: &Path) -> (u16, std::process::Child) {
    let port = crate::ports::free_port();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-naccept", "1"])
        .args(["-accept", &format!("127.0.0.1:{port}")])
        .arg("-cert")
        .arg(cert)
        .arg("-key")
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl not installed?");
    // Not probed by connecting: s_server takes one connection only.
    crate::wait::wait_until(
        "openssl s_server to listen",
        crate::wait::HANG_GUARD,
        || crate::ports::tcp_listening(port),
    );
    (port, child)
}

/// A self-signed certificate for 127.0.0.1: (certificate, key).
pub fn self_signed(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    certificate(dir, name, "IP:127.0.0.1", None)
}

/// A certificate for 127.0.0.1 signed by the CA `issuer` (certificate, key), not itself
/// a CA.
pub fn signed_by(dir: &Path, name: &str, issuer: &(PathBuf, PathBuf)) -> (PathBuf, PathBuf) {
    certificate(dir, name, "IP:127.0.0.1", Some(issuer))
}

/// A certificate for the domain `domain` only (no IP address) signed by the CA `issuer`,
/// as a SIP provider located through DNS presents (RFC 5922): (certificate, key).
pub fn for_domain(
    dir: &Path,
    name: &str,
    domain: &str,
    issuer: &(PathBuf, PathBuf),
) -> (PathBuf, PathBuf) {
    certificate(dir, name, &format!("DNS:{domain}"), Some(issuer))
}

fn certificate(
    dir: &Path,
    name: &str,
    san: &str,
    issuer: Option<&(PathBuf, PathBuf)>,
) -> (PathBuf, PathBuf) {
    let (cert, key) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    let mut cmd = Command::new("openssl");
    cmd.args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", &format!("/CN={name}")])
        .args(["-addext", &format!("subjectAltName={san}")]);
    if let Some((ca, ca_key)) = issuer {
        cmd.args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-CA")
            .arg(ca)
            .arg("-CAkey")
            .arg(ca_key);
    }
    let st = cmd
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl not installed?");
    assert!(st.success(), "openssl req failed");
    (cert, key)
}
