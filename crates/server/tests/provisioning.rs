//! Provisioning through the real `switchboard` binary, one test per defect of issue 11
//! items 5-7 and 9: the CLI finds its configuration and creates no database but with
//! `init`; names clash neither way; nonsense domains, targets and CSV files are refused
//! with errors naming the field; `location clear` asks for `--all`; `--json` errors are
//! JSON; a password read from stdin logs a phone in.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use testkit::database::TempDatabase;
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::wait::{wait_child, HANG_GUARD};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A throw-away working directory and the CLI run inside it, with no configuration from
/// the environment.
struct Admin {
    dir: tempfile::TempDir,
}

impl Admin {
    fn new() -> Admin {
        assert!(
            !Path::new("/etc/switchboard/switchboard.toml").exists(),
            "these tests read the built-in defaults: remove /etc/switchboard/switchboard.toml"
        );
        Admin {
            dir: tempfile::Builder::new()
                .prefix("switchboard-prov")
                .tempdir()
                .unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `cd DIR && [ENV] switchboard ARGS` with `stdin` as standard input.
    fn run_with(&self, env: &[(&str, &Path)], stdin: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.path())
            .env_remove("SWITCHBOARD_CONFIG")
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let st = wait_child(&mut child, "switchboard CLI", HANG_GUARD);
        let mut out = child.wait_with_output().unwrap();
        out.status = st;
        out
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(&[], None, args)
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "switchboard {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs and expects failure; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "switchboard {args:?} should fail, printed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// An initialised database serving example.com with alice.
    fn provisioned() -> Admin {
        let a = Admin::new();
        a.ok(&["init"]);
        a.ok(&["domain", "add", "example.com"]);
        a.ok(&["user", "add", "alice@example.com", "--password", "pw-alice"]);
        a
    }
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// Item 5: `cd /tmp && switchboard domain add lost.example` printed "added" and created
/// `/tmp/data`. Now it fails, says where it looked, asks for `init`, and creates nothing.
#[test]
fn a_command_in_a_fresh_directory_creates_nothing_until_init() {
    let a = Admin::new();
    let err = a.fails(&["domain", "add", "lost.example"]);
    let db = a.path().join("data/switchboard.db");
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert!(err.contains("run `switchboard init`"), "{err}");
    assert!(err.contains("built-in defaults"), "{err}");
    assert_eq!(entries(a.path()), Vec::<PathBuf>::new(), "nothing created");

    // The same with a configuration that leaves data_dir unset.
    let cfg = a.path().join("conf.toml");
    std::fs::write(&cfg, "[registrar]\nmin_expires = 30\n").unwrap();
    let err = a.fails(&["-c", cfg.to_str().unwrap(), "user", "list"]);
    assert!(err.contains("switchboard init"), "{err}");
    assert!(err.contains("conf.toml from --config"), "{err}");
    assert!(!a.path().join("data").exists());

    let out = a.ok(&["init"]);
    assert!(out.contains("initialised"), "{out}");
    assert!(db.is_file());
    a.ok(&["domain", "add", "lost.example"]);
    assert!(a.ok(&["domain", "list"]).contains("lost.example"));
    // init again is harmless and keeps the data.
    assert!(a.ok(&["init"]).contains("already initialised"));
    assert!(a.ok(&["domain", "list"]).contains("lost.example"));
}

/// On MariaDB and PostgreSQL (when their URLs are set): an empty database is not taken for
/// Switchboard's; `init` creates the tables, then provisioning works.
#[test]
fn init_creates_the_schema_on_mariadb_and_postgres() {
    for postgres in [false, true] {
        let Some(db) = TempDatabase::create(postgres) else {
            continue;
        };
        let a = Admin::new();
        let cfg = a.path().join("db.toml");
        std::fs::write(
            &cfg,
            format!(
                "[server]\ndata_dir = {:?}\n[database]\nurl = {:?}\n",
                a.path().join("data"),
                db.url
            ),
        )
        .unwrap();
        let c = cfg.to_str().unwrap();
        let err = a.fails(&["-c", c, "domain", "add", "example.com"]);
        assert!(err.contains("run `switchboard init`"), "{err}");
        // Where it looked, without the password.
        let creds = db.url.split("://").nth(1).and_then(|r| r.split_once('@'));
        if let Some((_, pw)) = creds.and_then(|(c, _)| c.split_once(':')) {
            assert!(!err.contains(&format!(":{pw}@")), "{err}");
            assert!(err.contains(":***@"), "{err}");
        }
        a.ok(&["-c", c, "init"]);
        a.ok(&["-c", c, "domain", "add", "example.com"]);
        assert!(a.ok(&["-c", c, "domain", "list"]).contains("example.com"));
    }
}

/// `--config`, then `SWITCHBOARD_CONFIG`, then `./switchboard.toml`, then defaults.
#[test]
fn the_configuration_is_found_in_the_documented_order() {
    let a = Admin::new();
    let conf = |name: &str, data: &str| {
        let p = a.path().join(name);
        std::fs::write(
            &p,
            format!("[server]\ndata_dir = {:?}\n", a.path().join(data)),
        )
        .unwrap();
        p
    };
    conf("switchboard.toml", "local");
    let env_cfg = conf("env.toml", "from-env");
    let flag_cfg = conf("flag.toml", "from-flag");

    a.ok(&["init"]);
    assert!(a.path().join("local/switchboard.db").is_file());
    let out = a.run_with(&[("SWITCHBOARD_CONFIG", &env_cfg)], None, &["init"]);
    assert!(out.status.success());
    assert!(a.path().join("from-env/switchboard.db").is_file());
    let out = a.run_with(
        &[("SWITCHBOARD_CONFIG", &env_cfg)],
        None,
        &["--config", flag_cfg.to_str().unwrap(), "init"],
    );
    assert!(out.status.success());
    assert!(a.path().join("from-flag/switchboard.db").is_file());

    // Success prints only the answer.
    let out = a.run(&["domain", "list"]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A file named by the variable must exist.
    let missing = a.path().join("missing.toml");
    let out = a.run_with(
        &[("SWITCHBOARD_CONFIG", &missing)],
        None,
        &["domain", "list"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

/// Item 6: a user and an alias may not share a name, in either order, nor through import.
#[test]
fn a_user_and_an_alias_cannot_share_a_name() {
    let a = Admin::provisioned();
    a.ok(&["alias", "add", "15551234@example.com", "alice@example.com"]);
    let err = a.fails(&["user", "add", "15551234@example.com", "--password", "x"]);
    assert!(
        err.contains("user 15551234@example.com: the name is taken by alias"),
        "{err}"
    );
    let csv = a.path().join("users.csv");
    std::fs::write(&csv, "15551234,example.com,secret\n").unwrap();
    let err = a.fails(&["user", "import", csv.to_str().unwrap()]);
    assert!(err.contains("is an alias"), "{err}");

    a.ok(&["user", "add", "bob@example.com", "--password", "pw-bob"]);
    let err = a.fails(&["alias", "add", "bob@example.com", "alice@example.com"]);
    assert!(
        err.contains("alias bob@example.com: the name is taken by user bob@example.com"),
        "{err}"
    );
    let users = a.ok(&["user", "list"]);
    assert!(!users.contains("15551234"), "{users}");
}

/// Item 7: nonsense domains are refused, each with an error naming the field and saying
/// what is wrong; nothing is stored.
#[test]
fn nonsense_domains_are_refused_with_the_reason() {
    let a = Admin::provisioned();
    let long = format!("{}.example", "a".repeat(70));
    for (bad, why) in [
        ("a..b", "empty label"),
        (".com", "empty label"),
        ("foo.", "trailing dot"),
        ("256.1.1.1", "not a valid IPv4 address"),
        (long.as_str(), "longer than 63 characters"),
        ("example.net:5060", "without a port"),
        ("sip:example.net", "without a scheme"),
    ] {
        let err = a.fails(&["domain", "add", bad]);
        assert!(
            err.contains(&format!("error: domain {bad:?}: ")),
            "{bad}: {err}"
        );
        assert!(err.contains(why), "{bad}: {err}");
    }
    assert_eq!(a.ok(&["domain", "list"]).trim(), "DOMAIN\nexample.com");
    // IP literals are domains too.
    a.ok(&["domain", "add", "192.0.2.10"]);
    a.ok(&["domain", "add", "[2001:db8::1]"]);

    let err = a.fails(&["alias", "add", "100@elsewhere.test", "alice@example.com"]);
    assert!(
        err.contains("domain elsewhere.test is not served here"),
        "{err}"
    );
    let err = a.fails(&["user", "list", "--domain", "nowhere.test"]);
    assert!(
        err.contains("domain nowhere.test is not served here"),
        "{err}"
    );

    let cfg = a.path().join("bad.toml");
    std::fs::write(&cfg, "[sip]\nadvertised_host = \"my host\"\n").unwrap();
    let err = a.fails(&["-c", cfg.to_str().unwrap(), "domain", "list"]);
    assert!(err.contains("sip.advertised_host: \"my host\""), "{err}");
}

/// Item 7: forwarding and find-me targets are local users that exist or explicit external
/// SIP URIs; a find-me URI keeps its port; rows pointing into a deleted domain or at a
/// deleted user go with it.
#[test]
fn targets_exist_or_are_external_and_go_with_their_owner() {
    let a = Admin::provisioned();
    let err = a.fails(&[
        "forward",
        "set",
        "alice@example.com",
        "always",
        "ghost@example.com",
    ]);
    assert!(err.contains("no user or alias ghost@example.com"), "{err}");
    let err = a.fails(&["forward", "set", "alice@example.com", "busy", "4711"]);
    assert!(err.contains("no user or alias 4711@example.com"), "{err}");
    let err = a.fails(&[
        "forward",
        "set",
        "alice@example.com",
        "busy",
        "bob@other.net",
    ]);
    assert!(
        err.contains("write the SIP URI, sip:bob@other.net"),
        "{err}"
    );
    let err = a.fails(&[
        "forward",
        "set",
        "alice@example.com",
        "busy",
        "sip:bob@a..b",
    ]);
    assert!(err.contains("empty label"), "{err}");

    a.ok(&[
        "findme",
        "set",
        "alice@example.com",
        "sip:desk@192.0.2.4:5060",
    ]);
    let list = a.ok(&["--json", "findme", "list"]);
    let v: serde_json::Value = serde_json::from_str(list.trim()).unwrap();
    assert_eq!(v[0]["target"], "sip:desk@192.0.2.4:5060");
    assert_eq!(v[0]["ring_secs"], 20);

    // Targets in another served domain, then that domain deleted.
    a.ok(&["domain", "add", "other.test"]);
    a.ok(&["user", "add", "bob@other.test", "--password", "pw-bob"]);
    a.ok(&["user", "add", "carol@example.com", "--password", "pw-carol"]);
    a.ok(&[
        "forward",
        "set",
        "alice@example.com",
        "always",
        "bob@other.test",
    ]);
    a.ok(&[
        "forward",
        "set",
        "alice@example.com",
        "no-answer",
        "sip:bob@other.test",
    ]);
    a.ok(&[
        "forward",
        "set",
        "alice@example.com",
        "busy",
        "carol@example.com",
    ]);
    a.ok(&[
        "findme",
        "set",
        "alice@example.com",
        "bob@other.test,10",
        "sip:desk@192.0.2.4:5060,15",
    ]);
    a.ok(&["domain", "del", "other.test"]);
    let fwd = a.ok(&["--json", "forward", "list"]);
    let v: serde_json::Value = serde_json::from_str(fwd.trim()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{fwd}");
    assert_eq!(v[0]["target"], "carol@example.com");
    let fm = a.ok(&["--json", "findme", "list"]);
    let v: serde_json::Value = serde_json::from_str(fm.trim()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{fm}");
    assert_eq!(v[0]["target"], "sip:desk@192.0.2.4:5060");
    assert_eq!(v[0]["ring_secs"], 15);

    // Deleting a user takes forwarding to it (and to its aliases) along.
    a.ok(&["alias", "add", "200@example.com", "carol@example.com"]);
    a.ok(&["forward", "set", "alice@example.com", "unavailable", "200"]);
    a.ok(&["user", "del", "carol@example.com"]);
    let fwd = a.ok(&["--json", "forward", "list"]);
    assert_eq!(fwd.trim(), "[]");
}

/// Item 7: a CSV file with a UTF-8 byte-order mark (as Excel writes it) imports.
#[test]
fn a_csv_with_a_byte_order_mark_imports() {
    let a = Admin::provisioned();
    let csv = a.path().join("excel.csv");
    std::fs::write(
        &csv,
        "\u{feff}username,domain,password\r\nbob,example.com,pw-bob\r\ncarol,example.com,pw-c\r\n",
    )
    .unwrap();
    let out = a.ok(&["user", "import", csv.to_str().unwrap()]);
    assert!(out.contains("2 user(s) imported"), "{out}");
    let users = a.ok(&["user", "list"]);
    assert!(users.contains("bob@example.com") && users.contains("carol@example.com"));
}

/// Item 7: `location clear` without a user no longer removes everyone: it names the
/// missing argument; `--all` does it.
#[test]
fn location_clear_without_a_user_asks_for_all() {
    let a = Admin::provisioned();
    let err = a.fails(&["location", "clear"]);
    assert!(err.contains("missing USER@DOMAIN or --all"), "{err}");
    let out = a.ok(&["location", "clear", "--all"]);
    assert!(out.contains("registration(s) removed"), "{out}");
    a.ok(&["location", "clear", "alice@example.com"]);
}

/// Item 7: with `--json`, errors are `{"error": "..."}` on stdout, and the exit is
/// non-zero, for a refused value, a missing database and a usage error alike.
#[test]
fn json_errors_are_json() {
    let fresh = Admin::new();
    let a = Admin::provisioned();
    for (who, args) in [
        (&a, vec!["--json", "domain", "add", "a..b"]),
        (&fresh, vec!["--json", "domain", "list"]),
        (&a, vec!["--json", "location", "clear"]),
        (&a, vec!["--json", "user", "add"]),
    ] {
        let out = who.run(&args);
        assert!(!out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let v: serde_json::Value =
            serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}: {text:?}"));
        assert!(
            v["error"].as_str().is_some_and(|s| !s.is_empty()),
            "{args:?}: {v}"
        );
    }
    let out = a.run(&["--json", "domain", "add", "a..b"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"], "domain \"a..b\": empty label");
}

/// Item 9: the password comes from stdin (`--password-stdin`), and the phone then logs in
/// with it (REGISTER → 401 → REGISTER with digest → 200). Without a password and without a
/// terminal, the command says how to give one.
#[test]
fn a_password_from_stdin_logs_a_phone_in() {
    let node = Server::start(BIN, Options::digest());
    let a = Admin {
        dir: tempfile::Builder::new()
            .prefix("switchboard-prov")
            .tempdir()
            .unwrap(),
    };
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
