//! `switchboard ban list|remove`: the bans of the running server (flood and failed
//! authentications). Bans live in the server's memory only, so both commands need it
//! running and ask it through the control socket; they do not touch the database.

use std::io::Write as _;

use anyhow::{bail, Context};
use clap::Subcommand;

use super::output::{print_json, print_table};
use crate::config::Config;
use crate::control::{self, Command};

/// `switchboard ban ...`
#[derive(Subcommand, Debug)]
pub enum BanCmd {
    /// The bans in force: banned sources (flood, many or unknown users), users, and users
    /// from one source.
    List,
    /// Lift every ban of an address (its source ban and its users' bans from it) or of a
    /// user (user@domain). Logged as `unban ... reason=admin`.
    Remove {
        /// An IP address (an IPv6 address lifts its /64) or user@domain.
        target: String,
    },
}

async fn ask(cfg: &Config, cmd: &Command) -> anyhow::Result<String> {
    let path = cfg.control_path();
    match control::send(&path, cmd).await? {
        Some(a) if a.starts_with("error") => bail!("{}", a.trim_start_matches("error: ")),
        Some(a) => Ok(a),
        None => bail!(
            "no server answers on {} (bans live in the running server's memory)",
            path.display()
        ),
    }
}

/// Runs a `ban` command.
pub async fn run(cfg: &Config, cmd: BanCmd, json: bool) -> anyhow::Result<()> {
    match cmd {
        BanCmd::List => {
            let answer = ask(cfg, &Command::Bans).await?;
            let v: serde_json::Value = serde_json::from_str(&answer)
                .with_context(|| format!("unexpected answer from the server: {answer}"))?;
            if json {
                print_json(&v);
                return Ok(());
            }
            let s = |b: &serde_json::Value, k: &str| match &b[k] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => "-".into(),
            };
            let rows: Vec<Vec<String>> = v
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|b| {
                            vec![
                                s(b, "kind"),
                                s(b, "source"),
                                s(b, "user"),
                                s(b, "reason"),
                                s(b, "remaining_secs"),
                            ]
                        })
                        .collect()
                })
                .unwrap_or_default();
            if rows.is_empty() {
                let _ = writeln!(std::io::stdout(), "no bans");
            } else {
                print_table(&["KIND", "SOURCE", "USER", "REASON", "SECS LEFT"], rows);
            }
            Ok(())
        }
        BanCmd::Remove { target } => {
            if proxy::BanTarget::parse(&target).is_none() {
                bail!("{target:?} is neither an IP address nor user@domain");
            }
            let answer = ask(cfg, &Command::Unban(target.clone())).await?;
            let n: u64 = answer
                .strip_prefix("ok ")
                .and_then(|n| n.trim().parse().ok())
                .with_context(|| format!("unexpected answer from the server: {answer}"))?;
            if json {
                print_json(&serde_json::json!({ "target": target, "removed": n }));
            } else if n == 0 {
                bail!("no ban names {target}");
            } else {
                let _ = writeln!(std::io::stdout(), "removed {n} ban(s) of {target}");
            }
            Ok(())
        }
    }
}
