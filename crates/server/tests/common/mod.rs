//! Harness for the end-to-end tests: a real `switchboard` process on free ports with a
//! temporary data directory, provisioned through its CLI, and real SIPp processes playing
//! the user agents (scenarios in `tests/sipp/` at the repository root).
//!
//! Every wait is bounded (a hang guard), and every wait is for a condition: the server
//! answering `switchboard status`, a UAS's port being bound, a process exiting.

#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr)]

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The server binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// How long any single wait may take before the test fails instead of hanging.
pub const HANG_GUARD: Duration = Duration::from_secs(40);

/// A port free for both UDP and TCP on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP");
}

/// `tests/sipp/NAME` at the repository root.
pub fn scenario(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/sipp")
        .join(name);
    assert!(p.exists(), "missing SIPp scenario {}", p.display());
    p
}

/// Waits for a child with a hang guard; kills it when the guard fires.
pub fn wait_child(child: &mut Child, what: &str, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls `cond` until it holds, failing after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Settings that differ between tests, as TOML lines of their section.
#[derive(Debug, Clone)]
pub struct Options {
    /// Extra lines of `[sip]`.
    pub sip: String,
    /// Extra lines of `[transaction]`.
    pub transaction: String,
    /// Extra lines of `[registrar]`.
    pub registrar: String,
    /// Further sections, appended to the file.
    pub extra: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sip: String::new(),
            // Retransmission timing does not matter in these tests: short timers.
            transaction: "t1_ms = 100\n".into(),
            registrar: "min_expires = 10\ndefault_expires = 60\nmax_expires = 300\n".into(),
            extra: String::new(),
        }
    }
}

/// A running `switchboard run`.
pub struct Server {
    child: Option<Child>,
    /// UDP and TCP port (the same number).
    pub port: u16,
    /// The data directory and config live here.
    pub dir: tempfile::TempDir,
    config: PathBuf,
    log: PathBuf,
    runs: u32,
}

impl Server {
    /// A provisioned server (domain example.com, users alice, bob, carol), answering.
    pub fn start(opts: Options) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("switchboard-e2e")
            .tempdir()
            .unwrap();
        let port = free_port();
        let config = dir.path().join("switchboard.toml");
        let toml = format!(
            "[server]\ndata_dir = {data:?}\ndemo = false\nnode_name = \"e2e\"\nshutdown_grace_secs = 5\n\n\
             [sip]\nlisten = [\"udp:127.0.0.1:{port}\", \"tcp:127.0.0.1:{port}\"]\nudp_workers = 1\n{sip}\n\
             [transaction]\n{tx}\n[registrar]\n{reg}\n[auth]\nenabled = false\n{extra}\n",
            data = dir.path().join("data").display().to_string(),
            sip = opts.sip,
            tx = opts.transaction,
            reg = opts.registrar,
            extra = opts.extra,
        );
        std::fs::write(&config, toml).unwrap();
        let mut s = Server {
            child: None,
            port,
            log: dir.path().join("server.log"),
            dir,
            config,
            runs: 0,
        };
        // The CLI creates no database: `init` does (as an admin would before provisioning).
        s.cli(&["init"]);
        s.cli(&["domain", "add", "example.com"]);
        for u in ["alice", "bob", "carol"] {
            s.cli(&[
                "user",
                "add",
                &format!("{u}@example.com"),
                "--password",
                &format!("pw-{u}"),
            ]);
        }
        s.launch();
        s
    }

    /// `sip:127.0.0.1:PORT` as SIPp's remote host argument.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The socket address of the SIP listener.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Runs `switchboard -c CONFIG ARGS...` and returns its stdout; fails on a non-zero exit.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.cli_raw(args);
        assert!(
            out.status.success(),
            "switchboard {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn cli_raw(&self, args: &[&str]) -> std::process::Output {
        let mut child = Command::new(BIN)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Small outputs: wait first (bounded), then collect.
        let st = wait_child(&mut child, "switchboard CLI", HANG_GUARD);
        let mut out = child.wait_with_output().unwrap();
        out.status = st;
        out
    }

    fn launch(&mut self) {
        self.runs += 1;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(BIN)
            .arg("-c")
            .arg(&self.config)
            .arg("run")
            .env("SWITCHBOARD_LOG", "info,proxy=debug,sip_transaction=debug")
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

    /// The server's log so far (for failure messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
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

/// One SIPp invocation.
#[derive(Debug, Clone)]
pub struct Sipp {
    name: String,
    scenario: PathBuf,
    port: u16,
    remote: Option<String>,
    args: Vec<String>,
    timeout_secs: u64,
    workdir: PathBuf,
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

    /// The messages of the trace, in order, each with its direction
    /// (`true` = sent by this SIPp).
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

    /// The first lines (start lines) of the trace, with direction markers: `>` sent, `<`
    /// received, e.g. `> INVITE`, `< 100`, `< SIP/2.0 180 Ringing` reduced to `< 180`.
    pub fn ladder(&self) -> Vec<String> {
        let mut trace = self.trace();
        // A retransmission is the same message again: one rung.
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

    /// The messages whose start line begins with `start` (e.g. `ACK`, `SIP/2.0 200`),
    /// in `sent` direction.
    pub fn find(&self, sent: bool, start: &str) -> Vec<String> {
        self.trace()
            .into_iter()
            .filter(|(d, m)| *d == sent && m.starts_with(start))
            .map(|(_, m)| m)
            .collect()
    }
}

/// The value of the first header `name` (case-insensitive) of a traced message.
pub fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    headers(msg, name).into_iter().next()
}

/// Every value line of header `name` of a traced message, in order.
pub fn headers<'a>(msg: &'a str, name: &str) -> Vec<&'a str> {
    msg.lines()
        .take_while(|l| !l.trim().is_empty())
        .skip(1)
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
        .collect()
}

impl Sipp {
    /// SIPp playing `scenario` (a file of `tests/sipp/`) from 127.0.0.1:`port`.
    pub fn new(server: &Server, name: &str, scenario_file: &str, port: u16) -> Sipp {
        Sipp {
            name: name.into(),
            scenario: scenario(scenario_file),
            port,
            remote: None,
            args: Vec::new(),
            timeout_secs: 20,
            workdir: server.workdir(name),
        }
    }

    /// The remote host (for a UAC: the server).
    pub fn remote(mut self, addr: &str) -> Self {
        self.remote = Some(addr.into());
        self
    }

    /// `-key NAME VALUE`: the scenario's `[NAME]`.
    pub fn key(mut self, name: &str, value: impl ToString) -> Self {
        self.args.push("-key".into());
        self.args.push(name.into());
        self.args.push(value.to_string());
        self
    }

    /// `-s USER`: the scenario's `[service]` (callee or registering user).
    pub fn service(mut self, user: &str) -> Self {
        self.args.push("-s".into());
        self.args.push(user.into());
        self
    }

    /// Any other SIPp arguments.
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.into());
        self
    }

    /// `-t t1`: TCP, one socket.
    pub fn tcp(self) -> Self {
        self.arg("-t").arg("t1")
    }

    /// The global `-timeout` (SIPp fails when it is reached).
    pub fn timeout(mut self, secs: u64) -> Self {
        self.timeout_secs = secs;
        self
    }

    fn paths(&self) -> (PathBuf, PathBuf, PathBuf) {
        (
            self.workdir.join("messages.log"),
            self.workdir.join("errors.log"),
            self.workdir.join("output.log"),
        )
    }

    fn command(&self) -> Command {
        let (msg, err, out) = self.paths();
        for p in [&msg, &err] {
            let _ = std::fs::remove_file(p);
        }
        let mut c = Command::new("sipp");
        c.current_dir(&self.workdir)
            .arg("-sf")
            .arg(&self.scenario)
            .args(["-i", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .args(["-m", "1", "-l", "1", "-nostdin"])
            .args(["-default_behaviors", "abortunexp"])
            .arg("-timeout")
            .arg(format!("{}s", self.timeout_secs))
            .arg("-timeout_error")
            .args(["-trace_msg", "-message_file"])
            .arg(&msg)
            .arg("-trace_err")
            .arg("-error_file")
            .arg(&err)
            .args(&self.args);
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

    /// Starts in the background (a UAS): returns once its UDP port is bound (or, over
    /// TCP, once it listens). The guard kills it on drop.
    pub fn spawn(&self) -> Background {
        let child = self.command().spawn().expect("sipp not installed?");
        let mut bg = Background {
            child: Some(child),
            sipp: self.clone(),
        };
        let tcp = self.args.iter().any(|a| a == "t1");
        let port = self.port;
        wait_until(&format!("sipp {} to bind", self.name), HANG_GUARD, || {
            if let Some(st) = bg.child.as_mut().unwrap().try_wait().unwrap() {
                let r = bg.sipp.result(st);
                panic!("background sipp {} exited early: {r:?}", bg.sipp.name);
            }
            if tcp {
                TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err()
            } else {
                UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_err()
            }
        });
        bg
    }

    /// Starts in the background without waiting for a bound port (a UAC, or a UAS that
    /// registers first over TCP); the guard kills it on drop.
    pub fn run_background(&self) -> Background {
        Background {
            child: Some(self.command().spawn().expect("sipp not installed?")),
            sipp: self.clone(),
        }
    }

    fn result(&self, st: ExitStatus) -> SippResult {
        let (msg, err, out) = self.paths();
        SippResult {
            code: st.code(),
            messages: std::fs::read_to_string(msg).unwrap_or_default(),
            errors: std::fs::read_to_string(err).unwrap_or_default(),
            output: std::fs::read_to_string(out).unwrap_or_default(),
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

/// Registers `user` from 127.0.0.1:`port` (so the proxy reaches that port, where the UAS
/// will listen) with the §2.1 scenario; expiry `expires` seconds.
pub fn register(server: &Server, user: &str, port: u16, expires: u32) -> SippResult {
    let r = Sipp::new(
        server,
        &format!("register-{user}-{port}"),
        "uac-register-new-expect-200.xml",
        port,
    )
    .remote(&server.addr())
    .service(user)
    .key("expires", expires)
    .run();
    r.assert_ok("REGISTER");
    r
}

/// A UDP socket on 127.0.0.1 speaking raw SIP to the server.
pub struct RawUdp {
    /// The socket.
    pub sock: UdpSocket,
}

impl RawUdp {
    /// Bound to `addr`.
    pub fn bind(addr: SocketAddr) -> RawUdp {
        let sock = UdpSocket::bind(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        RawUdp { sock }
    }

    /// Sends bytes to `to`.
    pub fn send(&self, to: SocketAddr, data: &[u8]) {
        self.sock.send_to(data, to).unwrap();
    }

    /// The next datagram, or None after `limit`.
    pub fn recv(&self, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        let mut buf = vec![0u8; 65536];
        while Instant::now() < deadline {
            match self.sock.recv_from(&mut buf) {
                Ok((n, _)) => return Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("recv: {e}"),
            }
        }
        None
    }
}

/// An OPTIONS to the server itself, from `local` (Via with rport), with Call-ID `call_id`.
pub fn options_ping(local: SocketAddr, server: SocketAddr, call_id: &str) -> Vec<u8> {
    let mut m = Vec::new();
    write!(
        m,
        "OPTIONS sip:{server} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};rport;branch=z9hG4bK-{call_id}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@example.com>;tag=probe\r\n\
         To: <sip:{server}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .unwrap();
    m
}

/// The status code of a response's start line.
pub fn status_of(resp: &str) -> Option<u16> {
    resp.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}
