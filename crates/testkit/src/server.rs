//! A real `switchboard run` on a free port with a temporary data directory: its config
//! built from [`Options`], provisioned through its CLI, ready when its control socket
//! answers, its log kept for failure messages.
//!
//! Two presets: [`Options::default`] (authentication off, the general end-to-end tests) and
//! [`Options::digest`] (authentication on, optionally on MariaDB or PostgreSQL). Owns no
//! SIP: phones are in [`crate::sipp`] and [`crate::softphone`].

#![allow(clippy::print_stderr)] // a failing test prints the server's log

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ports::free_port;
use crate::wait::{wait_child, HANG_GUARD};

/// The domain every test serves (the digest realm).
pub const DOMAIN: &str = "example.com";

/// The provisioned users; each one's password is [`password`]`(user)`.
pub const USERS: [&str; 3] = ["alice", "bob", "carol"];

/// A shared nonce key, so that nodes on one database accept each other's nonces.
pub const NONCE_SECRET: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";

/// `[auth]` lines offering both digest algorithms (the default offers MD5 alone).
pub const BOTH_ALGORITHMS: &str = "algorithms = [\"MD5\", \"SHA-256\"]\n";

/// The password of a provisioned user.
pub fn password(user: &str) -> String {
    format!("{user}-s3cret")
}

/// How a server is set up: each field is a part of its config file.
#[derive(Debug, Clone)]
pub struct Options {
    /// `[server] node_name`.
    pub node_name: String,
    /// `[server] shutdown_grace_secs`.
    pub shutdown_grace_secs: u32,
    /// The address the SIP listeners bind.
    pub listen_host: String,
    /// Extra lines of `[sip]`.
    pub sip: String,
    /// Listeners besides UDP and TCP on the server's port, e.g. `tls:127.0.0.1:5061`.
    pub extra_listen: Vec<String>,
    /// Extra lines of `[transaction]`.
    pub transaction: String,
    /// Lines of `[registrar]`.
    pub registrar: String,
    /// `[database] url`; None: SQLite in the data directory.
    pub db_url: Option<String>,
    /// `[database] shared_location`.
    pub shared_location: bool,
    /// None: `[auth] enabled = false`; Some(lines): enabled, with the shared
    /// [`NONCE_SECRET`] and these extra lines (which may open further sections).
    pub auth: Option<String>,
    /// Further sections, appended to the file.
    pub extra: String,
    /// Create the domain and the users (false for a second node on an already provisioned
    /// database).
    pub provision: bool,
    /// `SWITCHBOARD_LOG` of the running server.
    pub log_filter: String,
    /// On drop: SIGTERM and a short grace before the kill (true), or the kill at once.
    pub terminate_on_drop: bool,
    /// `[server] demo` (false: no demo domain, no generated TLS certificate).
    pub demo: bool,
}

impl Default for Options {
    /// Authentication off, debug logs of the proxy and the transactions.
    fn default() -> Self {
        Options {
            node_name: "e2e".into(),
            shutdown_grace_secs: 5,
            listen_host: "127.0.0.1".into(),
            sip: String::new(),
            extra_listen: Vec::new(),
            // Retransmission timing does not matter in these tests: short timers.
            transaction: "t1_ms = 100\n".into(),
            registrar: "min_expires = 10\ndefault_expires = 60\nmax_expires = 300\n".into(),
            db_url: None,
            shared_location: false,
            auth: None,
            extra: String::new(),
            provision: true,
            log_filter: "info,proxy=debug,sip_transaction=debug".into(),
            terminate_on_drop: false,
            demo: false,
        }
    }
}

impl Options {
    /// These options with `[database] url` set to `db` (instead of SQLite in the data
    /// directory).
    #[cfg(feature = "databases")]
    pub fn on_database(self, db: &crate::database::TempDatabase) -> Options {
        Options {
            db_url: Some(db.url.clone()),
            ..self
        }
    }

    /// These options with the SIP listeners on every address (`0.0.0.0`), so a phone in
    /// a [`crate::netns::OtherHost`] reaches the server at [`crate::netns::HOST_IP`].
    pub fn on_all_addresses(self) -> Options {
        Options {
            listen_host: "0.0.0.0".into(),
            ..self
        }
    }

    /// Authentication on (no extra `[auth]` lines), room for many bindings, info logs.
    pub fn digest() -> Options {
        Options {
            node_name: "auth-e2e".into(),
            shutdown_grace_secs: 2,
            registrar:
                "min_expires = 10\ndefault_expires = 60\nmax_expires = 3600\nmax_bindings = 100000\n"
                    .into(),
            auth: Some(String::new()),
            log_filter: "info".into(),
            terminate_on_drop: true,
            ..Options::default()
        }
    }

    /// The config file's text for `data_dir` and `port`.
    pub fn toml(&self, data_dir: &str, port: u16) -> String {
        let host = &self.listen_host;
        let extra: String = self
            .extra_listen
            .iter()
            .map(|l| format!(", {l:?}"))
            .collect();
        let mut t = format!(
            "[server]\ndata_dir = {data_dir:?}\ndemo = {}\nnode_name = {:?}\nshutdown_grace_secs = {}\n\n\
             [sip]\nlisten = [\"udp:{host}:{port}\", \"tcp:{host}:{port}\"{extra}]\nudp_workers = 1\n{}\n\
             [transaction]\n{}\n[registrar]\n{}\n",
            self.demo, self.node_name, self.shutdown_grace_secs, self.sip, self.transaction, self.registrar,
        );
        if self.db_url.is_some() || self.shared_location {
            t.push_str("[database]\n");
            if let Some(u) = &self.db_url {
                t.push_str(&format!("url = {u:?}\n"));
            }
            t.push_str(&format!("shared_location = {}\n\n", self.shared_location));
        }
        let auth = self.auth.as_deref().unwrap_or("");
        t.push_str(flood_exemption(&format!("{auth}{}", self.extra)));
        match &self.auth {
            Some(lines) => t.push_str(&format!(
                "[auth]\nenabled = true\nnonce_secret = {NONCE_SECRET:?}\n{lines}\n"
            )),
            None => t.push_str("[auth]\nenabled = false\n"),
        }
        if !self.extra.contains("[portal]") {
            // Off unless a test asks: every server would otherwise bind 127.0.0.1:8080.
            t.push_str("[portal]\nlisten = \"\"\n\n");
        }
        t.push_str(&self.extra);
        t.push('\n');
        t
    }
}

/// The tests (and their SIPp phones) send thousands of requests a second from
/// 127.0.0.1: exempt it from the flood limiter, unless the test sets `[flood]` itself
/// (tests/bans.rs floods from 127.0.0.2).
pub fn flood_exemption(config: &str) -> &'static str {
    if config.contains("[flood]") {
        ""
    } else {
        "[flood]\nexempt = [\"127.0.0.1/32\"]\n\n"
    }
}

/// A running `switchboard run`.
pub struct Server {
    bin: PathBuf,
    child: Option<Child>,
    /// UDP and TCP port (the same number).
    pub port: u16,
    /// The data directory, config, log and SIPp traces live here.
    pub dir: tempfile::TempDir,
    config: PathBuf,
    log: PathBuf,
    log_filter: String,
    terminate_on_drop: bool,
}

impl Server {
    /// The binary `bin` (`env!("CARGO_BIN_EXE_switchboard")`) on `opts`, provisioned
    /// (domain example.com, users alice, bob, carol) unless told otherwise, answering its
    /// control socket.
    pub fn start(bin: &str, opts: Options) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("switchboard-e2e")
            .tempdir()
            .unwrap();
        let port = free_port();
        let config = dir.path().join("switchboard.toml");
        let data = dir.path().join("data").display().to_string();
        std::fs::write(&config, opts.toml(&data, port)).unwrap();
        let mut s = Server {
            bin: bin.into(),
            child: None,
            port,
            log: dir.path().join("server.log"),
            dir,
            config,
            log_filter: opts.log_filter,
            terminate_on_drop: opts.terminate_on_drop,
        };
        if opts.provision {
            // The CLI creates no database: `init` does (as an admin would first).
            s.cli(&["init"]);
            s.cli(&["domain", "add", DOMAIN]);
            for u in USERS {
                s.cli(&[
                    "user",
                    "add",
                    &format!("{u}@{DOMAIN}"),
                    "--password",
                    &password(u),
                ]);
            }
        }
        s.launch();
        s
    }

    /// `127.0.0.1:PORT`, SIPp's remote host argument.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The socket address of the SIP listener.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Runs `switchboard -c CONFIG ARGS...`; returns stdout, failing on a non-zero exit.
    pub fn cli(&self, args: &[&str]) -> String {
        crate::cli::stdout_of_success(args, self.cli_raw(args))
    }

    /// Runs the CLI and returns whatever happened.
    pub fn cli_raw(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-c").arg(&self.config).args(args);
        crate::cli::run(cmd, None)
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.config)
            .arg("run")
            .env("SWITCHBOARD_LOG", &self.log_filter)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        // Ready when the control socket answers (it opens after the SIP sockets are bound).
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("switchboard exited at start ({st}):\n{}", self.log_text());
            }
            if self.cli_raw(&["status"]).status.success() {
                break;
            }
            assert!(Instant::now() < deadline, "switchboard never became ready");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `switchboard status` as JSON.
    pub fn status(&self) -> serde_json::Value {
        serde_json::from_str(self.cli(&["--json", "status"]).trim()).unwrap()
    }

    /// SIGTERM, then waits for a clean exit (status 0).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let st = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success(), "kill -TERM failed");
        let st = wait_child(&mut child, "switchboard after SIGTERM", HANG_GUARD);
        assert!(st.success(), "switchboard exited with {st} after SIGTERM");
    }

    /// Sends a signal (`HUP`, `USR1`, ...) to the running server.
    pub fn signal(&self, name: &str) {
        let child = self.child.as_ref().expect("the server is not running");
        let st = Command::new("kill")
            .args([&format!("-{name}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success(), "kill -{name} failed");
    }

    /// SIGKILL: the server dies as in a crash, writing nothing more.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Stops the server and starts it again on the same data directory and ports.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// The server's log so far. Log lines reach the file through the server's log writer
    /// thread, a moment after what they tell of: a running server is first asked to write a
    /// mark (`log-mark` on its control socket), and the file is read once the mark is in it,
    /// so every line logged before this call is there.
    pub fn log_text(&self) -> String {
        let read = || std::fs::read_to_string(&self.log).unwrap_or_default();
        if self.child.is_none() {
            return read();
        }
        static MARKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let token = format!(
            "m{}-{}",
            std::process::id(),
            MARKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let ctl = self.dir.path().join("data").join("switchboard.ctl");
        let asked = (|| -> std::io::Result<()> {
            use std::io::{BufRead, Write};
            let mut s = std::os::unix::net::UnixStream::connect(&ctl)?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(format!("log-mark {token}\n").as_bytes())?;
            let mut answer = String::new();
            std::io::BufReader::new(s).read_line(&mut answer)?;
            Ok(())
        })();
        if asked.is_err() {
            return read(); // stopped or not answering: the file is what there is
        }
        let needle = format!("log mark token={token}");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = read();
            if text.contains(&needle) || Instant::now() >= deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A private working directory for a SIPp run (traces land there).
    pub fn workdir(&self, name: &str) -> PathBuf {
        let d = self.dir.path().join(format!("sipp-{name}"));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if self.terminate_on_drop {
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
                let deadline = Instant::now() + Duration::from_secs(5);
                while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            let log = self.log_text();
            let tail: Vec<&str> = log.lines().rev().take(80).collect();
            eprintln!(
                "---- switchboard log ({}), last lines ----",
                self.log.display()
            );
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
            // Keep the directory (traces) for a post-mortem.
            let keep = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
            eprintln!("kept {}", keep.keep().display());
        }
    }
}

/// A server with the web portal on a free loopback port (`[portal]` with `portal_extra`
/// lines added) and the portal admin `root` (password `root-pw`); answers the portal's
/// address.
pub fn with_portal(bin: &str, portal_extra: &str, options: Options) -> (Server, SocketAddr) {
    let port = free_port();
    let extra = format!(
        "[portal]\nlisten = \"127.0.0.1:{port}\"\n{portal_extra}\n{}",
        options.extra
    );
    let server = Server::start(bin, Options { extra, ..options });
    server.cli(&["admin", "add", "root", "--password", "root-pw"]);
    (server, SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// Adds domain other.test with its portal admin `ops` (password `ops-pw`), who must see
/// nothing of example.com.
pub fn other_domain_admin(server: &Server) {
    server.cli(&["domain", "add", "other.test"]);
    server.cli(&[
        "admin",
        "add",
        "ops",
        "--domain",
        "other.test",
        "--password",
        "ops-pw",
    ]);
}
