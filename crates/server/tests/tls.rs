//! Issue 19, slice 1: SIP over TLS with real TLS peers. Debian's baresip registers and
//! calls over a `tls:` listener; the server's outbound TLS to a gateway (OpenSSL's
//! `s_server` as the peer) verifies the peer's certificate, and refuses one it does not
//! trust; the certificate is reloaded on SIGHUP and when its files change, without a
//! restart (OpenSSL's `s_client` shows which certificate a new handshake gets); a
//! gateway's certificate is pinned or not checked when its `--tls-verify` says so; the
//! demo generates a self-signed certificate on first start.
//!
//! ```text
//! Alice (baresip)          Switchboard (tls:127.0.0.1:T)      Bob (baresip, auto-answer)
//!  |                             |<== TLS: REGISTER / 401 / 200 ==|
//!  |== TLS: REGISTER ... 200 ===>|                                |
//!  |== TLS: INVITE / 407 / INVITE>|== TLS (bob's connection): INVITE =>|
//!  |<= 200 ======================|<= 200 ==========================|
//!  |=== 440 Hz (RTP) ============================================>|
//! ```

use std::io::Read as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use testkit::certs::{s_server, self_signed, signed_by};
use testkit::location::contacts;
use testkit::open::caller;
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::softphone::{baresip_call, tone_share, Baresip};
use testkit::wait::{wait_child, wait_until, HANG_GUARD};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// The base64 body of the first PEM certificate in `text`, whitespace removed.
fn pem_body(text: &str) -> String {
    let begin = "-----BEGIN CERTIFICATE-----";
    let Some(start) = text.find(begin) else {
        return String::new();
    };
    let rest = &text[start + begin.len()..];
    let end = rest.find("-----END CERTIFICATE-----").unwrap_or(rest.len());
    rest[..end].split_whitespace().collect()
}

/// The certificate a new TLS handshake with `port` gets (`openssl s_client`).
fn presented_certificate(port: u16) -> String {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("openssl not installed?");
    pem_body(&String::from_utf8_lossy(&out.stdout))
}

/// A server with a `tls:` listener on its own port, its certificate `cert`/`key`, and
/// `more` lines of `[tls]`. Returns it and the TLS port.
fn tls_server(base: Options, cert: &Path, key: &Path, more: &str) -> (Server, u16) {
    let tls = free_port();
    let extra = format!(
        "[tls]\ncertificate = {cert:?}\nprivate_key = {key:?}\n{more}\n{}",
        base.extra
    );
    let node = Server::start(
        BIN,
        Options {
            extra_listen: vec![format!("tls:127.0.0.1:{tls}")],
            extra,
            ..base
        },
    );
    (node, tls)
}

#[test]
fn baresip_registers_and_calls_over_tls() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(certs.path(), "switchboard");
    let (node, tls) = tls_server(Options::digest(), &cert, &key, "");
    let proxy = format!("sip:127.0.0.1:{tls};transport=tls");
    let (_alice, bob) = baresip_call(&node, &proxy, Baresip::on_loopback);
    // Bob registered over TLS (his binding stays until he quits).
    let bound = contacts(&node, "bob");
    assert!(bound[0].contains("transport=tls"), "{bound:?}");
    let log = node.log_text();
    for line in [
        "registration action=new aor=bob@example.com",
        "source=tls:127.0.0.1:",
        "call answered",
        "hangup=caller",
    ] {
        assert!(log.contains(line), "no `{line}` in the server log:\n{log}");
    }
    let status = node.status();
    assert_eq!(status["dialogs_active"], 0);
    assert_eq!(status["tls_handshake_failures"], 0, "{status}");
    // The media went end to end (the signalling was encrypted, the RTP is plain).
    let heard = bob.heard();
    assert!(heard.len() > 8000 * 2, "bob heard {} samples", heard.len());
    let share = tone_share(&heard[4000..], 440.0, 8000.0);
    assert!(share > 0.5, "bob did not hear alice's 440 Hz ({share:.2})");
}

/// `openssl s_server` on a free port with `cert`/`key`: a TLS peer that prints what it
/// receives. Its stdin is kept open (EOF there would end the session).
struct TlsPeer {
    port: u16,
    child: Child,
}

impl TlsPeer {
    fn start(cert: &Path, key: &Path) -> TlsPeer {
        let (port, child) = s_server(cert, key);
        TlsPeer { port, child }
    }

    /// Everything it printed, once it has exited or been stopped.
    fn received(mut self) -> String {
        let _ = self.child.kill();
        wait_child(&mut self.child, "openssl s_server", HANG_GUARD);
        let mut out = String::new();
        if let Some(mut s) = self.child.stdout.take() {
            let _ = s.read_to_string(&mut out);
        }
        out
    }
}

#[test]
fn outbound_tls_verifies_the_peer_certificate() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(certs.path(), "switchboard");
    // The carrier's certificate is issued by an authority the server trusts; the
    // impostor's by another one.
    let authority = self_signed(certs.path(), "authority");
    let rogue = self_signed(certs.path(), "rogue");
    let (trusted_cert, trusted_key) = signed_by(certs.path(), "carrier", &authority);
    let (stranger_cert, stranger_key) = signed_by(certs.path(), "impostor", &rogue);
    let more = format!("ca_file = {:?}", authority.0);
    let base = Options {
        extra: "[pstn]\ngateway_timeout_ms = 500\n".into(),
        ..Options::default()
    };
    let (node, _) = tls_server(base, &cert, &key, &more);
    let good = TlsPeer::start(&trusted_cert, &trusted_key);
    let bad = TlsPeer::start(&stranger_cert, &stranger_key);
    for (name, peer) in [("carrier", &good), ("impostor", &bad)] {
        node.cli(&[
            "gateway",
            "add",
            name,
            &format!("127.0.0.1:{}", peer.port),
            "--transport",
            "tls",
            "--probe",
            "0",
        ]);
    }
    node.cli(&["route", "add", "0", "carrier"]);
    node.cli(&["route", "add", "9", "impostor"]);

    // A certificate signed by an authority the server does not trust: the handshake is
    // refused, nothing is sent, the caller gets 503 at once.
    caller(
        &node,
        "to-impostor",
        "uac-invite-expect-503.xml",
        "90301234",
    )
    .run()
    .assert_ok("a call through a gateway whose certificate is not trusted");
    let status = node.status();
    assert_eq!(status["tls_handshake_failures"], 1, "{status}");
    let seen = bad.received();
    assert!(!seen.contains("INVITE"), "the impostor got: {seen}");
    let log = node.log_text();
    assert!(
        log.contains("connect failed") && log.contains("transport=TLS"),
        "no refused connection in the server log:\n{log}"
    );

    // The trusted gateway gets the INVITE over TLS (it never answers: 503 after the
    // gateway timeout).
    caller(&node, "to-carrier", "uac-invite-expect-503.xml", "0301234")
        .run()
        .assert_ok("a call through a gateway that does not answer");
    let seen = good.received();
    assert!(seen.contains("INVITE sip:0301234@127.0.0.1:"), "{seen}");
    assert!(seen.contains(";transport=tls SIP/2.0"), "{seen}");
    assert!(seen.contains("Via: SIP/2.0/TLS 127.0.0.1:"), "{seen}");
}

#[test]
fn the_certificate_reloads_without_a_restart() {
    let certs = tempfile::tempdir().unwrap();
    let live = tempfile::tempdir().unwrap();
    let (cert, key) = (live.path().join("cert.pem"), live.path().join("key.pem"));
    let install = |name: &str| {
        let (c, k) = self_signed(certs.path(), name);
        // The key first: a check between the two writes sees a key that does not match
        // the old certificate, refuses it and keeps the old pair.
        std::fs::copy(&k, &key).unwrap();
        std::fs::copy(&c, &cert).unwrap();
        pem_body(&std::fs::read_to_string(&c).unwrap())
    };

    // SIGHUP (file watching off).
    let first = install("first");
    let (node, tls) = tls_server(Options::default(), &cert, &key, "watch_secs = 0");
    assert_eq!(presented_certificate(tls), first);
    let second = install("second");
    assert_ne!(first, second);
    node.signal("HUP");
    wait_until("the new certificate after SIGHUP", HANG_GUARD, || {
        presented_certificate(tls) == second
    });
    // A broken file is refused and the certificate in force stays.
    std::fs::write(&cert, "not a certificate").unwrap();
    node.signal("HUP");
    wait_until("the refused reload in the log", HANG_GUARD, || {
        node.log_text().contains("certificate not reloaded")
    });
    assert_eq!(presented_certificate(tls), second);
    drop(node);

    // The files change: the next handshake gets the new certificate, no signal needed.
    let third = install("third");
    let (node, tls) = tls_server(Options::default(), &cert, &key, "watch_secs = 1");
    assert_eq!(presented_certificate(tls), third);
    let fourth = install("fourth");
    wait_until(
        "the changed certificate file to be picked up",
        HANG_GUARD,
        || presented_certificate(tls) == fourth,
    );
    assert!(node.log_text().contains("tls: certificate reloaded"));
}

/// The SHA-256 fingerprint of the certificate in `cert`, as openssl prints it
/// (`AB:CD:...`).
fn openssl_fingerprint(cert: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert)
        .output()
        .expect("openssl not installed?");
    let text = String::from_utf8_lossy(&out.stdout);
    let (_, hex) = text.trim().split_once('=').expect("a fingerprint line");
    hex.to_owned()
}

/// A call to `number` (routed to the gateway `lab`) that ends in 503: at once when the
/// handshake is refused, after the gateway timeout when the gateway got the INVITE (it
/// never answers).
fn call_lab(node: &Server, name: &str) {
    caller(node, name, "uac-invite-expect-503.xml", "0301234")
        .run()
        .assert_ok(name);
}

/// `gateway add|set lab` to `peer` over TLS with `--tls-verify verify`.
fn lab_gateway(node: &Server, op: &str, peer: &TlsPeer, verify: &str) {
    node.cli(&[
        "gateway",
        op,
        "lab",
        &format!("127.0.0.1:{}", peer.port),
        "--transport",
        "tls",
        "--probe",
        "0",
        "--tls-verify",
        verify,
    ]);
}

#[test]
fn a_gateway_certificate_is_verified_pinned_or_skipped() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(certs.path(), "switchboard");
    // The lab gateway's self-signed certificate, which no authority vouches for, and
    // another one for a wrong pin.
    let (gw_cert, gw_key) = self_signed(certs.path(), "lab-gateway");
    let (other_cert, _) = self_signed(certs.path(), "other");
    let base = Options {
        extra: "[pstn]\ngateway_timeout_ms = 500\n".into(),
        ..Options::default()
    };
    // The trusted authorities: the server's own certificate only.
    let more = format!("ca_file = {cert:?}");
    let (node, _) = tls_server(base, &cert, &key, &more);

    // verify (the default): the self-signed certificate is refused, nothing is sent.
    let peer = TlsPeer::start(&gw_cert, &gw_key);
    lab_gateway(&node, "add", &peer, "verify");
    node.cli(&["route", "add", "0", "lab"]);
    call_lab(&node, "verify-refused");
    assert_eq!(node.status()["tls_handshake_failures"], 1);
    let seen = peer.received();
    assert!(!seen.contains("INVITE"), "a refused gateway got: {seen}");

    // A bad pin is refused by the CLI, naming the field; the gateway stays as it was.
    let bad = node.cli_raw(&[
        "gateway",
        "set",
        "lab",
        "127.0.0.1:5061",
        "--transport",
        "tls",
        "--tls-verify",
        "pin:12:34:zz",
    ]);
    assert!(!bad.status.success());
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(said.contains("tls_verify"), "{said}");

    // pin: the gateway's fingerprint (as openssl prints it): reached, whatever its chain.
    let pin = openssl_fingerprint(&gw_cert);
    let peer = TlsPeer::start(&gw_cert, &gw_key);
    lab_gateway(&node, "set", &peer, &format!("pin:{pin}"));
    let listed = node.cli(&["--json", "gateway", "list"]);
    assert!(
        listed.contains(&format!("\"tls_verify\":\"pin:{pin}\"")),
        "{listed}"
    );
    let table = node.cli(&["gateway", "list"]);
    let short = format!("pin:{}...", pin[..11].replace(':', ""));
    assert!(
        table.contains("TLS VERIFY") && table.contains(&short),
        "{table}"
    );
    call_lab(&node, "pinned");
    let seen = peer.received();
    assert!(seen.contains("INVITE sip:0301234@127.0.0.1:"), "{seen}");
    assert_eq!(node.status()["tls_handshake_failures"], 1);

    // A wrong pin (another certificate's, lower case without colons): refused.
    let wrong = openssl_fingerprint(&other_cert)
        .replace(':', "")
        .to_ascii_lowercase();
    let peer = TlsPeer::start(&gw_cert, &gw_key);
    lab_gateway(&node, "set", &peer, &format!("pin:{wrong}"));
    call_lab(&node, "wrong-pin");
    assert_eq!(node.status()["tls_handshake_failures"], 2);
    let seen = peer.received();
    assert!(
        !seen.contains("INVITE"),
        "a wrongly pinned gateway got: {seen}"
    );
    let log = node.log_text();
    assert!(
        log.contains("not the pinned one") && log.contains(&pin),
        "no pin mismatch (with the presented fingerprint) in the log:\n{log}"
    );

    // skip: any certificate, and a warning at the connection.
    let peer = TlsPeer::start(&gw_cert, &gw_key);
    lab_gateway(&node, "set", &peer, "skip");
    call_lab(&node, "skipped");
    let port = peer.port;
    let seen = peer.received();
    assert!(seen.contains("INVITE sip:0301234@127.0.0.1:"), "{seen}");
    let log = node.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("certificate not checked")
                && l.contains(&format!("127.0.0.1:{port}"))),
        "no skip warning for 127.0.0.1:{port} in the log:\n{log}"
    );
}

#[test]
fn the_demo_generates_a_self_signed_certificate_on_first_start() {
    let tls = free_port();
    let node = Server::start(
        BIN,
        Options {
            demo: true,
            extra_listen: vec![format!("tls:127.0.0.1:{tls}")],
            ..Options::default()
        },
    );
    // No [tls] files configured: the defaults in the data directory were generated.
    let dir = node.dir.path().join("data").join("tls");
    let (cert, key) = (dir.join("certificate.pem"), dir.join("private_key.pem"));
    assert!(key.exists(), "no {}", key.display());
    let generated = pem_body(&std::fs::read_to_string(&cert).unwrap());
    assert!(
        !generated.is_empty(),
        "no certificate in {}",
        cert.display()
    );
    assert!(node
        .log_text()
        .contains("generated a self-signed one for the demo"));
    // A TLS client gets that certificate, and it names 127.0.0.1.
    assert_eq!(presented_certificate(tls), generated);
    let checked = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{tls}")])
        .args(["-verify_ip", "127.0.0.1", "-verify_return_error", "-CAfile"])
        .arg(&cert)
        .stdin(Stdio::null())
        .output()
        .expect("openssl not installed?");
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success() && said.contains("Verify return code: 0 (ok)"),
        "the demo certificate does not verify for 127.0.0.1: {said}"
    );
}
