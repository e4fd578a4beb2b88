//! `switchboard findme ...`: the find-me list (RFC 5359 §2.12; docs/services.md).

use clap::Subcommand;
use model::{AddressOfRecord, Store, UserSettings};

use super::{done, friendly, open, parse_aor, print_json, print_table, publish};
use crate::config::Config;

/// `switchboard findme ...`
#[derive(Subcommand, Debug)]
pub enum FindmeCmd {
    /// After USER's own phones, ring each TARGET in turn for SECS seconds (default 20).
    Set {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// TARGET or TARGET,SECS, in order: a local USER@DOMAIN or number, or an external
        /// sip:URI (a trailing :N in a sip: URI is its port); SECS defaults to 20.
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// Remove USER's find-me list.
    Clear {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
    },
    /// List every find-me list.
    List,
}

/// `findme ...`
pub async fn run(cfg: &Config, cmd: FindmeCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        FindmeCmd::Set { user, targets } => {
            let set = admin::set_findme(&store, &user, &targets).await?;
            publish(cfg, &set.notices).await;
            done(
                json,
                &format!("find-me of {user}: {} target(s)", set.result),
            );
        }
        FindmeCmd::Clear { user } => {
            let cleared = admin::clear_findme(&store, &user).await?;
            publish(cfg, &cleared.notices).await;
            done(
                json,
                &format!(
                    "find-me of {user} {}",
                    if cleared.result {
                        "cleared"
                    } else {
                        "was not set"
                    }
                ),
            );
        }
        FindmeCmd::List => {
            let all = UserSettings::group(store.all_settings().await.map_err(friendly)?);
            let rows: Vec<(String, usize, String, u32)> = all
                .iter()
                .filter_map(|(aor, s)| s.findme.as_ref().map(|f| (aor, f)))
                .flat_map(|(aor, f)| {
                    f.targets
                        .iter()
                        .enumerate()
                        .map(move |(i, (t, secs))| (aor.to_string(), i + 1, t.clone(), *secs))
                })
                .collect();
            if json {
                print_json(&serde_json::json!(rows
                    .iter()
                    .map(|(u, i, t, s)| serde_json::json!({"user": u, "order": i, "target": t, "ring_secs": s}))
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["USER", "ORDER", "TARGET", "RING"],
                    rows.into_iter()
                        .map(|(u, i, t, s)| vec![u, i.to_string(), t, format!("{s}s")])
                        .collect(),
                );
            }
        }
    }
    Ok(())
}
