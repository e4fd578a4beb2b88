//! `switchboard conference list`: the conference bridge's rooms and their participants.
//! Rooms live in the running server's memory only, so the command asks it through the
//! control socket and does not touch the database.

use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::Subcommand;

use super::output::{print_json, print_table};
use crate::config::Config;
use crate::control::{self, Command};

/// `switchboard conference ...`
#[derive(Subcommand, Debug)]
pub enum ConferenceCmd {
    /// The rooms open now, each participant with its caller, call id and time in the
    /// room (`pin` while the PIN is being asked).
    List,
}

/// The control socket's answer to `conferences`: the rooms as JSON.
pub fn rooms_json() -> String {
    let Some(rooms) = crate::media_host::conference_rooms() else {
        return "error: the conference bridge is not running ([media] enabled = false)".into();
    };
    let secs = |t: SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs()
    };
    let v: Vec<serde_json::Value> = rooms
        .list()
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "room": r.name,
                "participants": r.participants.iter().map(|p| serde_json::json!({
                    "call": p.call,
                    "caller": p.caller,
                    "joined_unix": secs(p.joined),
                    "in_room": p.in_room,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::Value::Array(v).to_string()
}

/// Runs a `conference` command.
pub async fn run(cfg: &Config, cmd: ConferenceCmd, json: bool) -> anyhow::Result<()> {
    match cmd {
        ConferenceCmd::List => {
            let path = cfg.control_path();
            let answer = match control::send(&path, &Command::Conferences).await? {
                Some(a) if a.starts_with("error") => {
                    bail!("{}", a.trim_start_matches("error: "))
                }
                Some(a) => a,
                None => bail!(
                    "no server answers on {} (rooms live in the running server's memory)",
                    path.display()
                ),
            };
            let v: serde_json::Value = serde_json::from_str(&answer)
                .with_context(|| format!("unexpected answer from the server: {answer}"))?;
            if json {
                print_json(&v);
                return Ok(());
            }
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_secs();
            let mut rows = Vec::new();
            for r in v.as_array().into_iter().flatten() {
                for p in r["participants"].as_array().into_iter().flatten() {
                    let since = now.saturating_sub(p["joined_unix"].as_u64().unwrap_or(now));
                    rows.push(vec![
                        r["room"].as_str().unwrap_or("-").to_string(),
                        p["caller"].as_str().unwrap_or("-").to_string(),
                        p["call"].as_u64().map_or("-".into(), |c| c.to_string()),
                        if p["in_room"].as_bool().unwrap_or(false) {
                            format!("{since}s")
                        } else {
                            "pin".into()
                        },
                    ]);
                }
            }
            if rows.is_empty() {
                let _ = writeln!(std::io::stdout(), "no conference rooms open");
            } else {
                print_table(&["ROOM", "CALLER", "CALL", "IN ROOM"], rows);
            }
            Ok(())
        }
    }
}
