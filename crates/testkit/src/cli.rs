//! The `switchboard` command line, run to completion: [`run`] for any prepared command
//! (used by [`crate::server::Server::cli`] too), and [`Admin`], the CLI in a throw-away
//! working directory with no configuration from the environment, as an administrator
//! would meet it before any server runs.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::wait::{wait_child, HANG_GUARD};

/// Runs `cmd` with `stdin` as its standard input (none: `/dev/null`), reading its output
/// while it runs (a large `--json` list would fill the pipe otherwise); bounded by the
/// hang guard.
pub fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = std::thread::scope(|s| {
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let o = s.spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
        let e = s.spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
        let st = wait_child(&mut child, "switchboard CLI", HANG_GUARD);
        (st, o.join().unwrap(), e.join().unwrap())
    });
    Output {
        status: out.0,
        stdout: out.1.into_bytes(),
        stderr: out.2.into_bytes(),
    }
}

/// The stdout of `switchboard ARGS`, failing the test (with its stderr) unless it exited 0.
pub fn stdout_of_success(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "switchboard {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A throw-away working directory and the CLI run inside it, with no configuration from
/// the environment.
pub struct Admin {
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Admin {
    /// The binary `bin` in a fresh directory; fails when a system-wide configuration
    /// would be read instead of the built-in defaults.
    pub fn new(bin: &str) -> Admin {
        assert!(
            !Path::new("/etc/switchboard/switchboard.toml").exists(),
            "these tests read the built-in defaults: remove /etc/switchboard/switchboard.toml"
        );
        Admin::unchecked(bin)
    }

    /// The binary `bin` in a fresh directory, without that check (for a test that names
    /// its configuration itself).
    pub fn unchecked(bin: &str) -> Admin {
        Admin {
            bin: bin.into(),
            dir: tempfile::Builder::new()
                .prefix("switchboard-prov")
                .tempdir()
                .unwrap(),
        }
    }

    /// An initialised database serving example.com with alice.
    pub fn provisioned(bin: &str) -> Admin {
        let a = Admin::new(bin);
        a.ok(&["init"]);
        a.ok(&["domain", "add", "example.com"]);
        a.ok(&["user", "add", "alice@example.com", "--password", "pw-alice"]);
        a
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `cd DIR && [ENV] switchboard ARGS` with `stdin` as standard input.
    pub fn run_with(&self, env: &[(&str, &Path)], stdin: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.bin);
        cmd.current_dir(self.path())
            .env_remove("SWITCHBOARD_CONFIG")
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(cmd, stdin)
    }

    /// `cd DIR && switchboard ARGS`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(&[], None, args)
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        stdout_of_success(args, self.run(args))
    }

    /// Runs and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "switchboard {args:?} should fail, printed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

/// The entries of `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}
