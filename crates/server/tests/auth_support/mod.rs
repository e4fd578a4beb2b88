//! Harness for the authentication end-to-end tests (`auth_*.rs`): a real `switchboard` with
//! `[auth] enabled = true` on SQLite, MariaDB or PostgreSQL, provisioned through its CLI,
//! and real SIPp processes playing the phones (scenarios in `tests/sipp/`).
//!
//! Every wait is bounded and waits for a condition (the control socket answering, a UAS's
//! port being bound, a process exiting).

#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr)]

// The general end-to-end harness: its helpers are shared; its `Server` runs with
// authentication off on SQLite, hence `Node` here.
#[path = "../common/mod.rs"]
mod common;

#[allow(unused_imports)] // each test crate uses its own subset
pub use common::{
    flood_exemption, free_port, header, headers, scenario, status_of, wait_child, wait_until,
    RawUdp, BIN,
};

pub mod netns;
pub mod softphone;

use std::io::Write as _;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long any single wait may take before the test fails instead of hanging.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// The domain every test serves (the digest realm).
pub const DOMAIN: &str = "example.com";

/// The provisioned users; each one's password is `password(user)`.
pub const USERS: [&str; 3] = ["alice", "bob", "carol"];

/// A shared nonce key, so that nodes on one database accept each other's nonces.
pub const NONCE_SECRET: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";

/// `[auth]` lines offering both digest algorithms (the default offers MD5 alone).
pub const BOTH_ALGORITHMS: &str = "algorithms = [\"MD5\", \"SHA-256\"]\n";

/// The password of a provisioned user.
pub fn password(user: &str) -> String {
    format!("{user}-s3cret")
}

/// How a node is set up.
#[derive(Debug, Clone)]
pub struct Opts {
    /// `[database] url`; None: SQLite in the data directory.
    pub db_url: Option<String>,
    /// `[database] shared_location`.
    pub shared_location: bool,
    /// `[server] node_name`.
    pub node_name: String,
    /// Extra lines of `[auth]` (after `enabled = true`).
    pub auth: String,
    /// Create the domain and the users (false for a second node on an already provisioned
    /// database).
    pub provision: bool,
    /// The address the SIP listeners bind (`0.0.0.0`: every interface, as by default).
    pub listen_host: String,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            db_url: None,
            shared_location: false,
            node_name: "auth-e2e".into(),
            auth: String::new(),
            provision: true,
            listen_host: "127.0.0.1".into(),
        }
    }
}

/// A running `switchboard run` with authentication on.
pub struct Node {
    child: Option<Child>,
    /// UDP and TCP port (the same number).
    pub port: u16,
    /// The data directory, config, log and SIPp traces live here.
    pub dir: tempfile::TempDir,
    config: PathBuf,
    log: PathBuf,
}

impl Node {
    /// A node on `opts`, provisioned (domain example.com, users alice, bob, carol) unless
    /// told otherwise, answering its control socket.
    pub fn start(opts: Opts) -> Node {
        let dir = tempfile::Builder::new()
            .prefix("switchboard-auth")
            .tempdir()
            .unwrap();
        let port = free_port();
        let config = dir.path().join("switchboard.toml");
        let db = match &opts.db_url {
            Some(u) => format!("url = {u:?}\n"),
            None => String::new(),
        };
        let toml = format!(
            "[server]\ndata_dir = {data:?}\ndemo = false\nnode_name = {node:?}\nshutdown_grace_secs = 2\n\n\
             [sip]\nlisten = [\"udp:{host}:{port}\", \"tcp:{host}:{port}\"]\nudp_workers = 1\n\n\
             [transaction]\nt1_ms = 100\n\n\
             [registrar]\nmin_expires = 10\ndefault_expires = 60\nmax_expires = 3600\nmax_bindings = 100000\n\n\
             [database]\n{db}shared_location = {shared}\n\n\
             {flood}[auth]\nenabled = true\nnonce_secret = {NONCE_SECRET:?}\n{auth}\n",
            flood = common::flood_exemption(&opts.auth),
            data = dir.path().join("data").display().to_string(),
            node = opts.node_name,
            shared = opts.shared_location,
            auth = opts.auth,
            host = opts.listen_host,
        );
        std::fs::write(&config, toml).unwrap();
        let mut n = Node {
            child: None,
            port,
            log: dir.path().join("server.log"),
            dir,
            config,
        };
        if opts.provision {
            // The CLI creates no database: `init` does (as an admin would first).
            n.cli(&["init"]);
            n.cli(&["domain", "add", DOMAIN]);
            for u in USERS {
                n.cli(&[
                    "user",
                    "add",
                    &format!("{u}@{DOMAIN}"),
                    "--password",
                    &password(u),
                ]);
            }
        }
        n.launch();
        n
    }

    /// `127.0.0.1:PORT`, SIPp's remote host argument.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Runs `switchboard -c CONFIG ARGS...`; returns stdout, failing on a non-zero exit.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.cli_raw(args);
        assert!(
            out.status.success(),
            "switchboard {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs the CLI and returns whatever happened.
    pub fn cli_raw(&self, args: &[&str]) -> std::process::Output {
        let mut child = Command::new(BIN)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read while it runs (a large `--json` list would fill the pipe otherwise).
        let out = std::thread::scope(|s| {
            let stdout = child.stdout.take().unwrap();
            let stderr = child.stderr.take().unwrap();
            let o = s.spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
            let e = s.spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
            let st = wait_child(&mut child, "switchboard CLI", HANG_GUARD);
            (st, o.join().unwrap(), e.join().unwrap())
        });
        std::process::Output {
            status: out.0,
            stdout: out.1.into_bytes(),
            stderr: out.2.into_bytes(),
        }
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(BIN)
            .arg("-c")
            .arg(&self.config)
            .arg("run")
            .env("SWITCHBOARD_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
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

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A SIPp run of `scenario_file` from 127.0.0.1:`port` against this node.
    pub fn sipp(&self, name: &str, scenario_file: &str, port: u16) -> Sipp {
        let workdir = self.dir.path().join(format!("sipp-{name}"));
        std::fs::create_dir_all(&workdir).unwrap();
        Sipp {
            name: name.into(),
            scenario: scenario(scenario_file),
            port,
            remote: Some(self.addr()),
            args: Vec::new(),
            calls: 1,
            timeout_secs: 20,
            workdir,
            local_ip: "127.0.0.1".into(),
            netns: None,
        }
        // The scenarios' domains: example.com unless a test says otherwise.
        .key("domain", DOMAIN)
        .key("from_domain", DOMAIN)
        .key("to_domain", DOMAIN)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            let log = self.log_text();
            let tail: String = log
                .lines()
                .rev()
                .take(80)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            eprintln!(
                "---- switchboard log tail ({}) ----\n{tail}",
                self.log.display()
            );
            let keep = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
            eprintln!("kept {}", keep.keep().display());
        }
    }
}

/// One SIPp invocation.
#[derive(Debug, Clone)]
pub struct Sipp {
    name: String,
    scenario: PathBuf,
    port: u16,
    remote: Option<String>,
    args: Vec<String>,
    calls: u32,
    timeout_secs: u64,
    /// Where the traces go.
    pub workdir: PathBuf,
    /// SIPp's own address (`-i`).
    local_ip: String,
    /// Run inside this network namespace (`ip netns exec`).
    netns: Option<String>,
}

/// What a finished SIPp left behind.
#[derive(Debug)]
pub struct SippResult {
    /// Exit code (0: every call succeeded).
    pub code: Option<i32>,
    /// The message trace (`-trace_msg`).
    pub messages: String,
    /// The error trace (`-trace_err`).
    pub errors: String,
    /// What SIPp printed.
    pub output: String,
    /// The final statistics line pairs of `-trace_stat` (name → value).
    pub stats: Vec<(String, String)>,
}

impl SippResult {
    /// Fails unless SIPp exited 0.
    pub fn assert_ok(&self, what: &str) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "SIPp {what} failed.\n--- errors ---\n{}\n--- messages ---\n{}\n--- output ---\n{}",
            self.errors,
            self.messages,
            self.output
        );
        self
    }

    /// The messages of the trace, in order, each with its direction (`true` = sent).
    pub fn trace(&self) -> Vec<(bool, String)> {
        let mut out = Vec::new();
        let mut cur: Option<(bool, String)> = None;
        for line in self.messages.lines() {
            let l = line.trim_end_matches('\r');
            if l.starts_with("----------------------------------------------- ") {
                if let Some(m) = cur.take() {
                    out.push(m);
                }
                continue;
            }
            if cur.is_none() {
                if l.contains("message sent") {
                    cur = Some((true, String::new()));
                } else if l.contains("message received") {
                    cur = Some((false, String::new()));
                }
                continue;
            }
            if let Some((_, m)) = cur.as_mut() {
                m.push_str(l);
                m.push('\n');
            }
        }
        if let Some(m) = cur.take() {
            out.push(m);
        }
        out.into_iter()
            .map(|(d, m)| (d, m.trim().to_string()))
            .filter(|(_, m)| !m.is_empty())
            .collect()
    }

    /// The start lines of the trace: `> REGISTER`, `< 401`, ... (retransmissions merged).
    pub fn ladder(&self) -> Vec<String> {
        let mut trace = self.trace();
        trace.dedup();
        trace
            .iter()
            .map(|(sent, m)| {
                let first = m.lines().next().unwrap_or("");
                let what = match first.strip_prefix("SIP/2.0 ") {
                    Some(rest) => rest.split(' ').next().unwrap_or("").to_string(),
                    None => first.split(' ').next().unwrap_or("").to_string(),
                };
                format!("{} {what}", if *sent { ">" } else { "<" })
            })
            .collect()
    }

    /// The messages, in `sent` direction, whose start line begins with `start`.
    pub fn find(&self, sent: bool, start: &str) -> Vec<String> {
        self.trace()
            .into_iter()
            .filter(|(d, m)| *d == sent && m.starts_with(start))
            .map(|(_, m)| m)
            .collect()
    }

    /// A counter of the final statistics (e.g. `SuccessfulCall(C)`).
    pub fn stat(&self, name: &str) -> Option<u64> {
        self.stats
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.trim().parse().ok())
    }
}

/// The parameter `name` of a digest challenge or credentials header value.
pub fn digest_param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let rest = value.trim().strip_prefix("Digest")?;
    rest.split(',').find_map(|p| {
        let (n, v) = p.split_once('=')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"'))
    })
}

impl Sipp {
    /// `-key NAME VALUE`: the scenario's `[NAME]` (replacing an earlier value).
    pub fn key(mut self, name: &str, value: impl ToString) -> Self {
        if let Some(i) = self
            .args
            .windows(2)
            .position(|w| w[0] == "-key" && w[1] == name)
        {
            self.args.drain(i..i + 3);
        }
        self.args.push("-key".into());
        self.args.push(name.into());
        self.args.push(value.to_string());
        self
    }

    /// `-s USER`: the scenario's `[service]` (the user registering, or the callee).
    pub fn service(self, user: &str) -> Self {
        self.arg("-s").arg(user)
    }

    /// `-au USER -ap PASSWORD`: what `[authentication]` answers challenges with.
    pub fn credentials(self, user: &str, password: &str) -> Self {
        self.arg("-au").arg(user).arg("-ap").arg(password)
    }

    /// Any other SIPp arguments.
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.into());
        self
    }

    /// `-r N`: new calls per second.
    pub fn rate(self, per_sec: u32) -> Self {
        self.arg("-r").arg(&per_sec.to_string())
    }

    /// `-m N` (default 1).
    pub fn calls(mut self, n: u32) -> Self {
        self.calls = n;
        self
    }

    /// No remote host (a UAS).
    pub fn uas(mut self) -> Self {
        self.remote = None;
        self
    }

    /// Plays from `ip` inside the network namespace `ns`, towards `remote` (HOST:PORT).
    pub fn in_netns(mut self, ns: &str, ip: &str, remote: &str) -> Self {
        self.netns = Some(ns.into());
        self.local_ip = ip.into();
        self.remote = Some(remote.into());
        self
    }

    /// The global `-timeout`.
    pub fn timeout(mut self, secs: u64) -> Self {
        self.timeout_secs = secs;
        self
    }

    fn paths(&self) -> [PathBuf; 4] {
        ["messages.log", "errors.log", "output.log", "stats.csv"].map(|f| self.workdir.join(f))
    }

    fn command(&self) -> Command {
        let [msg, err, out, stat] = self.paths();
        for p in [&msg, &err, &stat] {
            let _ = std::fs::remove_file(p);
        }
        let mut c = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "sipp"]);
                c
            }
            None => Command::new("sipp"),
        };
        c.current_dir(&self.workdir)
            .arg("-sf")
            .arg(&self.scenario)
            .arg("-i")
            .arg(&self.local_ip)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-m")
            .arg(self.calls.to_string())
            .args(["-nostdin", "-default_behaviors", "abortunexp"])
            .arg("-timeout")
            .arg(format!("{}s", self.timeout_secs))
            .arg("-timeout_error")
            .args(["-trace_err", "-error_file"])
            .arg(&err)
            .args(["-trace_stat", "-stf"])
            .arg(&stat);
        if self.calls <= 10 {
            c.args(["-trace_msg", "-message_file"]).arg(&msg);
        }
        c.args(&self.args);
        if let Some(r) = &self.remote {
            c.arg(r);
        }
        let out = std::fs::File::create(out).unwrap();
        c.stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        c
    }

    /// Runs to completion (bounded by the hang guard).
    pub fn run(&self) -> SippResult {
        let mut child = self.command().spawn().expect("sipp not installed?");
        let st = wait_child(
            &mut child,
            &format!("sipp {}", self.name),
            Duration::from_secs(self.timeout_secs) + HANG_GUARD,
        );
        self.result(st)
    }

    /// Starts a UAS in the background; returns once its UDP port is bound. Killed on drop.
    pub fn spawn(&self) -> Background {
        let child = self.command().spawn().expect("sipp not installed?");
        let mut bg = Background {
            child: Some(child),
            sipp: self.clone(),
        };
        let port = self.port;
        wait_until(&format!("sipp {} to bind", self.name), HANG_GUARD, || {
            if let Some(st) = bg.child.as_mut().unwrap().try_wait().unwrap() {
                let r = bg.sipp.result(st);
                panic!("background sipp {} exited early: {r:?}", bg.sipp.name);
            }
            UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_err()
        });
        bg
    }

    fn result(&self, st: ExitStatus) -> SippResult {
        let [msg, err, out, stat] = self.paths();
        let stats_text = std::fs::read_to_string(stat).unwrap_or_default();
        // `-trace_stat`: a header line of names and one line per period, `;`-separated.
        let mut lines = stats_text.lines().filter(|l| !l.trim().is_empty());
        let names: Vec<&str> = lines.next().unwrap_or("").split(';').collect();
        let last: Vec<&str> = lines.next_back().unwrap_or("").split(';').collect();
        let stats = names
            .iter()
            .zip(last.iter())
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        SippResult {
            code: st.code(),
            messages: std::fs::read_to_string(msg).unwrap_or_default(),
            errors: std::fs::read_to_string(err).unwrap_or_default(),
            output: std::fs::read_to_string(out).unwrap_or_default(),
            stats,
        }
    }
}

/// A SIPp running in the background; killed on drop unless waited for.
pub struct Background {
    child: Option<Child>,
    sipp: Sipp,
}

impl Background {
    /// Waits for it to finish (bounded) and returns what it left.
    pub fn wait(mut self) -> SippResult {
        let mut child = self.child.take().unwrap();
        let st = wait_child(
            &mut child,
            &format!("sipp {}", self.sipp.name),
            Duration::from_secs(self.sipp.timeout_secs) + HANG_GUARD,
        );
        self.sipp.result(st)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// RFC 3665 §2.1 with digest authentication: `user` registers from 127.0.0.1:`port` with
/// its password (REGISTER → 401 → REGISTER with Authorization → 200).
pub fn register(node: &Node, user: &str, port: u16) -> SippResult {
    let r = node
        .sipp(
            &format!("register-{user}-{port}"),
            "uac-register-auth-expect-200.xml",
            port,
        )
        .service(user)
        .credentials(user, &password(user))
        .key("expires", 300)
        .run();
    r.assert_ok(&format!("REGISTER of {user} with credentials"));
    r
}

/// Bob's phone: his SIPp registers with digest on `callee_node` from a fresh port, then
/// answers one call there (INVITE → 180 → 200 → ACK → BYE → 200). Returns once bob's
/// binding is in the store `seen_from` reads (the registrar writes it a moment after its
/// 200; a shared-location node looks callees up there) and the UAS listens.
pub fn bob_answers(callee_node: &Node, seen_from: &Node) -> Background {
    let bob_port = free_port();
    register(callee_node, "bob", bob_port);
    wait_until("bob's binding in the store", HANG_GUARD, || {
        !contacts(seen_from, "bob").is_empty()
    });
    callee_node
        .sipp("bob-uas", "uas-invite-answer-expect-bye.xml", bob_port)
        .uas()
        .spawn()
}

/// The RFC 3665 §3.1 call with proxy authentication, from `caller`@example.com (alice or
/// one of her aliases) with alice's credentials, through `caller_node` to bob, whose phone
/// is `bob`: INVITE → 407 → ACK → INVITE with Proxy-Authorization → 100 → 180 → 200 → ACK
/// → BYE → 200. Returns the caller's run.
pub fn call_bob_as(caller_node: &Node, caller: &str, bob: Background) -> SippResult {
    let alice = caller_node
        .sipp(
            &format!("{caller}-call"),
            "uac-invite-auth-expect-200.xml",
            free_port(),
        )
        .service("bob")
        .key("caller", caller)
        .credentials("alice", &password("alice"))
        .run();
    alice.assert_ok(&format!("{caller}'s authenticated INVITE"));
    bob.wait().assert_ok("bob's UAS");
    assert_eq!(
        alice.ladder(),
        [
            "> INVITE", "< 407", "> ACK", "> INVITE", "< 100", "< 180", "< 200", "> ACK", "> BYE",
            "< 200"
        ],
        "{}",
        alice.messages
    );
    alice
}

/// Bob registers on `callee_node`; alice calls him through `caller_node` with digest
/// authentication ([`bob_answers`], then [`call_bob_as`] alice).
pub fn authenticated_call(callee_node: &Node, caller_node: &Node) -> SippResult {
    let bob = bob_answers(callee_node, caller_node);
    call_bob_as(caller_node, "alice", bob)
}

/// The registered contacts of `user` in the store (`switchboard location list --json`).
pub fn contacts(node: &Node, user: &str) -> Vec<String> {
    contacts_of(node, &format!("{user}@{DOMAIN}"))
}

/// The registered contacts of `aor` (USER@DOMAIN) in the store.
pub fn contacts_of(node: &Node, aor: &str) -> Vec<String> {
    let out = node.cli(&["--json", "location", "list", aor]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| b["contact"].as_str().unwrap().to_string())
        .collect()
}

/// Waits until the store lists exactly `expected` for `user` (bindings are written behind
/// the registrar, a moment after its 200).
pub fn wait_for_contacts(node: &Node, user: &str, expected: &[String]) {
    wait_for_contacts_of(node, &format!("{user}@{DOMAIN}"), expected);
}

/// [`wait_for_contacts`] for `aor` (USER@DOMAIN).
pub fn wait_for_contacts_of(node: &Node, aor: &str, expected: &[String]) {
    let user = aor;
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let now = contacts_of(node, aor);
        if now == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{user}'s contacts: {now:?}, expected {expected:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A name no other test run uses: `prefix_<pid>_<nanos>`.
pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// The URL in `var`; None (after saying so on stderr) when unset, unless
/// `SWITCHBOARD_REQUIRE_DBS=1`, which makes a missing URL a failure.
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("SWITCHBOARD_REQUIRE_DBS").as_deref() == Ok("1") => {
            panic!("{var} is not set, and SWITCHBOARD_REQUIRE_DBS=1 requires it (eval \"$(scripts/dbs.sh)\")")
        }
        _ => {
            // Straight to stderr: libtest would capture `eprintln!` and hide the line.
            let _ = writeln!(
                std::io::stderr(),
                "not run: set {var} to test this backend (eval \"$(scripts/dbs.sh)\")"
            );
            None
        }
    }
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (head, _) = url.rsplit_once('/').unwrap();
    format!("{head}/{db}")
}

/// A fresh database on a MariaDB or PostgreSQL server, dropped when this goes.
pub struct TempDatabase {
    /// The URL of the new database.
    pub url: String,
    admin_url: String,
    name: String,
    postgres: bool,
}

fn admin_sql(admin_url: &str, postgres: bool, sql: &str) -> Result<(), sqlx::Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection as _;
        if postgres {
            let mut c = sqlx::PgConnection::connect(admin_url).await?;
            sqlx::raw_sql(sql).execute(&mut c).await.map(drop)
        } else {
            let mut c = sqlx::MySqlConnection::connect(admin_url).await?;
            sqlx::raw_sql(sql).execute(&mut c).await.map(drop)
        }
    })
}

impl TempDatabase {
    /// A new database on the server of `SWITCHBOARD_TEST_POSTGRES_URL` (postgres) or
    /// `SWITCHBOARD_TEST_MYSQL_URL`; None when that is unset (see [`server_url`]).
    pub fn create(postgres: bool) -> Option<TempDatabase> {
        let var = if postgres {
            "SWITCHBOARD_TEST_POSTGRES_URL"
        } else {
            "SWITCHBOARD_TEST_MYSQL_URL"
        };
        let base = server_url(var)?;
        let name = unique("switchboard_auth");
        // Identifiers cannot be bound; `name` is ours, alphanumeric and underscores.
        let sql = if postgres {
            format!("CREATE DATABASE \"{name}\"")
        } else {
            format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        };
        admin_sql(&base, postgres, &sql).unwrap();
        let mut url = with_database(&base, &name);
        if !postgres {
            url = url.replacen("mysql://", "mariadb://", 1);
        }
        Some(TempDatabase {
            url,
            admin_url: base,
            name,
            postgres,
        })
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let sql = if self.postgres {
            format!("DROP DATABASE \"{}\" WITH (FORCE)", self.name)
        } else {
            format!("DROP DATABASE `{}`", self.name)
        };
        if let Err(e) = admin_sql(&self.admin_url, self.postgres, &sql) {
            eprintln!("dropping test database {}: {e}", self.name);
        }
    }
}
