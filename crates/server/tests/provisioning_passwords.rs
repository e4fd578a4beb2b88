//! Provisioning through the real `switchboard` binary, issue 11 item 9: a password read
//! from stdin (or typed at a prompt under a terminal) logs a phone in.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use testkit::cli::Admin;
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::wait::{wait_child, HANG_GUARD};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Item 9: the password comes from stdin (`--password-stdin`), and the phone then logs in
/// with it (REGISTER → 401 → REGISTER with digest → 200). Without a password and without a
/// terminal, the command says how to give one.
#[test]
fn a_password_from_stdin_logs_a_phone_in() {
    let node = Server::start(BIN, Options::digest());
    let a = Admin::unchecked(BIN);
    let cfg = node.dir.path().join("switchboard.toml");
    let out = a.run_with(
        &[("SWITCHBOARD_CONFIG", &cfg)],
        Some("stdin-s3cret\n"),
        &["user", "add", "dave@example.com", "--password-stdin"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = a.run_with(
        &[("SWITCHBOARD_CONFIG", &cfg)],
        None,
        &["user", "add", "erin@example.com"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-stdin"));

    let r = node
        .sipp(
            "register-dave",
            "uac-register-auth-expect-200.xml",
            free_port(),
        )
        .service("dave")
        .credentials("dave", "stdin-s3cret")
        .key("expires", 300)
        .run();
    r.assert_ok("REGISTER of dave with the password given on stdin");

    // The same password changed through stdin: the old one no longer works.
    let out = a.run_with(
        &[("SWITCHBOARD_CONFIG", &cfg)],
        Some("n3w\n"),
        &["user", "passwd", "dave@example.com", "--password-stdin"],
    );
    assert!(out.status.success());
    let r = node
        .sipp(
            "register-dave-new",
            "uac-register-auth-expect-200.xml",
            free_port(),
        )
        .service("dave")
        .credentials("dave", "n3w")
        .key("expires", 300)
        .run();
    r.assert_ok("REGISTER of dave with the changed password");

    // Asked on the terminal (a pseudo-terminal from util-linux `script`), twice, not echoed.
    if which("script") {
        let secret = "pr0mpt-s3cret";
        let mut child = Command::new("script")
            .args([
                "-qec",
                &format!("{BIN} user add frank@example.com"),
                "/dev/null",
            ])
            .env("SWITCHBOARD_CONFIG", &cfg)
            .current_dir(a.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let screen = Screen::new(child.stdout.take().unwrap());
        screen.wait_for("Password: ");
        writeln!(stdin, "{secret}").unwrap();
        screen.wait_for("Password (again): ");
        writeln!(stdin, "{secret}").unwrap();
        screen.wait_for("user frank@example.com added");
        let st = wait_child(&mut child, "switchboard under script", HANG_GUARD);
        assert!(st.success());
        assert!(!screen.text().contains(secret), "echoed: {}", screen.text());
        node.sipp(
            "register-frank",
            "uac-register-auth-expect-200.xml",
            free_port(),
        )
        .service("frank")
        .credentials("frank", secret)
        .key("expires", 300)
        .run()
        .assert_ok("REGISTER of frank with the password typed at the prompt");
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "prompt not tested: no `script` (util-linux)"
        );
    }
}

fn which(prog: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {prog}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What a program under a terminal printed so far, read by a thread.
struct Screen {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    text: std::cell::RefCell<String>,
}

impl Screen {
    fn new(mut out: impl std::io::Read + Send + 'static) -> Screen {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Screen {
            rx,
            text: std::cell::RefCell::new(String::new()),
        }
    }

    /// Waits (bounded) until `what` has been printed.
    fn wait_for(&self, what: &str) {
        while !self.text.borrow().contains(what) {
            let chunk = self
                .rx
                .recv_timeout(HANG_GUARD)
                .unwrap_or_else(|_| panic!("never printed {what:?}: {}", self.text()));
            self.text
                .borrow_mut()
                .push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    fn text(&self) -> String {
        self.text.borrow().clone()
    }
}
