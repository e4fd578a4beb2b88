//! `switchboard presence ...`: per-user watcher rules (issue 17; docs/presence.md). A user
//! allows or denies one watcher its busy-lamp (dialog) and presence subscriptions.

use clap::Subcommand;
use model::{AddressOfRecord, Store, WatcherRule};

use super::{done, open, parse_aor, print_json, print_table, publish};
use crate::config::Config;

/// `switchboard presence ...`
#[derive(Subcommand, Debug)]
pub enum PresenceCmd {
    /// Let WATCHER watch USER (even from another local domain).
    Allow {
        /// The watched user, USER@DOMAIN.
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// The watcher, USER@DOMAIN.
        #[arg(value_parser = parse_aor)]
        watcher: AddressOfRecord,
    },
    /// Refuse WATCHER's subscriptions to USER (403 Watcher Denied).
    Deny {
        /// The watched user, USER@DOMAIN.
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// The watcher, USER@DOMAIN.
        #[arg(value_parser = parse_aor)]
        watcher: AddressOfRecord,
    },
    /// List the rules (of USER, or all).
    List {
        /// The watched user, USER@DOMAIN.
        #[arg(value_parser = parse_aor)]
        user: Option<AddressOfRecord>,
    },
    /// Remove USER's rule about WATCHER (the default applies again).
    Del {
        /// The watched user, USER@DOMAIN.
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// The watcher, USER@DOMAIN.
        #[arg(value_parser = parse_aor)]
        watcher: AddressOfRecord,
    },
}

/// Runs a `presence` command.
pub async fn run(cfg: &Config, cmd: PresenceCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        PresenceCmd::Allow { user, watcher } => {
            let d = admin::set_presence_rule(&store, &user, &watcher, WatcherRule::Allow).await?;
            publish(cfg, &d.notices).await;
            done(json, &format!("{user} allows {watcher} to watch"));
        }
        PresenceCmd::Deny { user, watcher } => {
            let d = admin::set_presence_rule(&store, &user, &watcher, WatcherRule::Deny).await?;
            publish(cfg, &d.notices).await;
            done(json, &format!("{user} denies {watcher}"));
        }
        PresenceCmd::Del { user, watcher } => {
            let d = admin::delete_presence_rule(&store, &user, &watcher).await?;
            publish(cfg, &d.notices).await;
            done(json, &format!("{user}'s rule about {watcher} removed"));
        }
        PresenceCmd::List { user } => {
            let rules = store.presence_rules(user.as_ref()).await?;
            if json {
                print_json(&serde_json::json!(rules
                    .iter()
                    .map(|r| serde_json::json!({
                        "user": r.watched.to_string(),
                        "watcher": r.watcher.to_string(),
                        "rule": r.rule.as_str(),
                    }))
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["USER", "WATCHER", "RULE"],
                    rules
                        .iter()
                        .map(|r| {
                            vec![
                                r.watched.to_string(),
                                r.watcher.to_string(),
                                r.rule.to_string(),
                            ]
                        })
                        .collect(),
                );
            }
        }
    }
    Ok(())
}
