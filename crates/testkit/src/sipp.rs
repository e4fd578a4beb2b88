//! One SIPp invocation, built step by step: scenario (a file of `tests/sipp/`), local
//! port and address, remote, calls and rate, keys, credentials, TCP, a network namespace;
//! run to completion, or in the background (a UAS waits for its port). Every run leaves
//! its message, error and statistics traces in a private directory, read back as a
//! [`SippResult`].

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::ports::free_port;
use crate::server::{Server, DOMAIN};
use crate::sipp_trace::last_stats;
pub use crate::sipp_trace::{
    digest_param, header, headers, rungs, tag, twin_ladder, SippResult, BLF_ONE_CALL_RUNGS,
};
use crate::wait::{wait_child, wait_until, HANG_GUARD};

/// `tests/sipp/NAME` at the repository root.
pub fn scenario(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/sipp")
        .join(name);
    assert!(p.exists(), "missing SIPp scenario {}", p.display());
    p
}

/// `127.0.0.1:PORT` for a 3PCC twin socket on a free port (`-3pcc`, `sendCmd` /
/// `recvCmd` between two SIPp processes playing one phone).
pub fn twin() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// The trace a running SIPp named `name` has written so far (its `messages.log`).
pub fn trace_so_far(server: &Server, name: &str) -> SippResult {
    SippResult {
        code: None,
        messages: std::fs::read_to_string(server.workdir(name).join("messages.log"))
            .unwrap_or_default(),
        errors: String::new(),
        output: String::new(),
        stats: Vec::new(),
    }
}

/// Waits (bounded) until the trace of a background SIPp named `name` holds `needle`.
pub fn wait_trace(server: &Server, name: &str, needle: &str) {
    let path = server.workdir(name).join("messages.log");
    wait_until(&format!("{name} to trace {needle:?}"), HANG_GUARD, || {
        std::fs::read_to_string(&path).is_ok_and(|t| t.contains(needle))
    });
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
    /// `-l`: simultaneous calls at most.
    limit: Option<u32>,
    timeout_secs: u64,
    /// Where the traces go.
    pub workdir: PathBuf,
    /// SIPp's own address (`-i`).
    local_ip: String,
    /// Run inside this network namespace (`ip netns exec`).
    netns: Option<String>,
}

impl Sipp {
    /// SIPp playing `scenario_file` from 127.0.0.1:`port`, one call, no remote host yet
    /// (a UAS, or see [`Sipp::remote`]).
    pub fn new(server: &Server, name: &str, scenario_file: &str, port: u16) -> Sipp {
        Sipp::with_workdir(name, scenario_file, port, server.workdir(name))
    }

    /// SIPp playing `scenario_file` from 127.0.0.1:`port`, its traces in `dir/name`, for
    /// tests without a [`Server`] (e.g. against the service host directly).
    pub fn in_dir(dir: &Path, name: &str, scenario_file: &str, port: u16) -> Sipp {
        let workdir = dir.join(format!("sipp-{name}"));
        std::fs::create_dir_all(&workdir).unwrap();
        Sipp::with_workdir(name, scenario_file, port, workdir)
    }

    /// One call of `scenario_file` from 127.0.0.1:`port`, traces in `workdir`.
    fn with_workdir(name: &str, scenario_file: &str, port: u16, workdir: PathBuf) -> Sipp {
        Sipp {
            name: name.into(),
            scenario: scenario(scenario_file),
            port,
            remote: None,
            args: Vec::new(),
            calls: 1,
            limit: Some(1),
            timeout_secs: 20,
            workdir,
            local_ip: "127.0.0.1".into(),
            netns: None,
        }
    }

    /// SIPp playing `scenario_file` from 127.0.0.1:`port` against `server`, with the
    /// scenarios' domains set to example.com (`[domain]`, `[from_domain]`, `[to_domain]`).
    pub fn against(server: &Server, name: &str, scenario_file: &str, port: u16) -> Sipp {
        let mut s = Sipp::new(server, name, scenario_file, port);
        s.remote = Some(server.addr());
        s.limit = None;
        s.key("domain", DOMAIN)
            .key("from_domain", DOMAIN)
            .key("to_domain", DOMAIN)
    }

    /// The remote host (for a UAC: the server).
    pub fn remote(mut self, addr: &str) -> Self {
        self.remote = Some(addr.into());
        self
    }

    /// No remote host (a UAS).
    pub fn uas(mut self) -> Self {
        self.remote = None;
        self
    }

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

    /// `-t t1`: TCP, one socket.
    pub fn tcp(self) -> Self {
        self.arg("-t").arg("t1")
    }

    /// `-r N`: new calls per second.
    pub fn rate(self, per_sec: u32) -> Self {
        self.arg("-r").arg(&per_sec.to_string())
    }

    /// `-m N` (default 1). Above 10 calls no message trace is written.
    pub fn calls(mut self, n: u32) -> Self {
        self.calls = n;
        self
    }

    /// Plays from `ip` inside the network namespace `ns`, towards `remote` (HOST:PORT).
    pub fn in_netns(mut self, ns: &str, ip: &str, remote: &str) -> Self {
        self.netns = Some(ns.into());
        self.local_ip = ip.into();
        self.remote = Some(remote.into());
        self
    }

    /// The global `-timeout` (SIPp fails when it is reached).
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
            .arg(self.calls.to_string());
        if let Some(l) = self.limit {
            c.arg("-l").arg(l.to_string());
        }
        c.args(["-nostdin", "-default_behaviors", "abortunexp"])
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
        let [msg, err, out, stat] = self.paths();
        SippResult {
            code: st.code(),
            messages: std::fs::read_to_string(msg).unwrap_or_default(),
            errors: std::fs::read_to_string(err).unwrap_or_default(),
            output: std::fs::read_to_string(out).unwrap_or_default(),
            stats: last_stats(&std::fs::read_to_string(stat).unwrap_or_default()),
        }
    }
}

impl Server {
    /// [`Sipp::against`] this server.
    pub fn sipp(&self, name: &str, scenario_file: &str, port: u16) -> Sipp {
        Sipp::against(self, name, scenario_file, port)
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
