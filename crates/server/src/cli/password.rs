//! Where a password comes from: `--password-stdin` (the first line of standard input), a
//! prompt on the terminal (asked twice, not echoed) when standard input is a terminal, or
//! `--password` (visible to other users in `ps` and kept in shell history: for tests and
//! throw-away setups).

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::{bail, Context};
use clap::Args;

/// The password options of `user add` and `user passwd`.
#[derive(Args, Debug, Clone)]
pub struct PasswordArgs {
    /// The SIP password on the command line (visible in `ps` and shell history; prefer the
    /// prompt or --password-stdin).
    #[arg(long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

impl PasswordArgs {
    /// The password, from wherever it was given.
    pub fn get(&self) -> anyhow::Result<String> {
        if let Some(p) = &self.password {
            return Ok(p.clone());
        }
        if self.password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("password: reading standard input")?;
            let p = line.strip_suffix('\n').unwrap_or(&line);
            return Ok(p.strip_suffix('\r').unwrap_or(p).to_string());
        }
        if !std::io::stdin().is_terminal() {
            bail!(
                "password: not given; use --password-stdin to read it from standard input, \
                 or run on a terminal to be asked"
            );
        }
        let first = prompt("Password: ")?;
        let again = prompt("Password (again): ")?;
        if first != again {
            bail!("password: the two entries differ");
        }
        Ok(first)
    }
}

/// Asks on the controlling terminal with echo off.
fn prompt(question: &str) -> anyhow::Result<String> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context("password: opening the terminal")?;
    // Echo off before the prompt shows: someone (or a script) answering the prompt at
    // once must not see the password echoed.
    let restore = echo_off(&tty);
    let _ = (&tty).write_all(question.as_bytes());
    let _ = (&tty).flush();
    let mut line = String::new();
    let r = std::io::BufReader::new(&tty).read_line(&mut line);
    restore_echo(&tty, restore);
    let _ = (&tty).write_all(b"\n");
    r.context("password: reading the terminal")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

#[cfg(target_os = "linux")]
type Saved = Option<rustix::termios::Termios>;
#[cfg(not(target_os = "linux"))]
type Saved = ();

/// Turns echo off; returns what to restore.
#[cfg(target_os = "linux")]
fn echo_off(tty: &std::fs::File) -> Saved {
    use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};
    let saved = tcgetattr(tty).ok()?;
    let mut t = saved.clone();
    t.local_modes.remove(LocalModes::ECHO);
    tcsetattr(tty, OptionalActions::Now, &t).ok()?;
    Some(saved)
}

#[cfg(target_os = "linux")]
fn restore_echo(tty: &std::fs::File, saved: Saved) {
    if let Some(t) = saved {
        let _ = rustix::termios::tcsetattr(tty, rustix::termios::OptionalActions::Now, &t);
    }
}

#[cfg(not(target_os = "linux"))]
fn echo_off(_tty: &std::fs::File) -> Saved {}

#[cfg(not(target_os = "linux"))]
fn restore_echo(_tty: &std::fs::File, _saved: Saved) {}
