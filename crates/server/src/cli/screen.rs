//! `switchboard screen ...`: incoming and outgoing call screening (RFC 5359 §2.13, §2.14;
//! docs/services.md).

use anyhow::bail;
use clap::{Args, Subcommand};
use model::{
    encode_patterns, screen_setting, AddressOfRecord, ScreenDirection, ScreenPattern, Store,
    UserSettings,
};

use super::{done, friendly, notify, open, parse_aor, print_json, print_table};
use crate::config::Config;
use crate::control::Command;

/// Which calls a rule applies to.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct Direction {
    /// Calls to the user, matched on the caller.
    #[arg(long)]
    incoming: bool,
    /// Calls by the user, matched on the number or address called.
    #[arg(long)]
    outgoing: bool,
}

impl Direction {
    fn get(&self) -> ScreenDirection {
        if self.outgoing {
            ScreenDirection::Outgoing
        } else {
            ScreenDirection::Incoming
        }
    }
}

fn direction_name(d: ScreenDirection) -> &'static str {
    match d {
        ScreenDirection::Incoming => "incoming",
        ScreenDirection::Outgoing => "outgoing",
    }
}

/// `switchboard screen ...`
#[derive(Subcommand, Debug)]
pub enum ScreenCmd {
    /// Block calls matching PATTERN: user@domain, @domain, a number prefix like +1900*,
    /// or anonymous.
    Add {
        /// USER@DOMAIN whose calls are screened.
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        #[command(flatten)]
        direction: Direction,
        /// user@domain, @domain, PREFIX* or anonymous.
        pattern: String,
    },
    /// Remove a rule.
    Del {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        #[command(flatten)]
        direction: Direction,
        /// The pattern as added.
        pattern: String,
    },
    /// List the rules of every user (or one).
    List {
        /// Only this USER@DOMAIN.
        #[arg(value_parser = parse_aor)]
        user: Option<AddressOfRecord>,
    },
}

async fn patterns(
    store: &storage::SqlStore,
    user: &AddressOfRecord,
    d: ScreenDirection,
) -> anyhow::Result<Vec<ScreenPattern>> {
    let rows = store.settings(user).await.map_err(friendly)?;
    let s = UserSettings::from_rows(rows.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    Ok(s.patterns(d))
}

/// `screen ...`
pub async fn run(cfg: &Config, cmd: ScreenCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        ScreenCmd::Add {
            user,
            direction,
            pattern,
        } => {
            let d = direction.get();
            let p = ScreenPattern::parse(&pattern).map_err(friendly)?;
            let mut list = patterns(&store, &user, d).await?;
            if !list.contains(&p) {
                list.push(p.clone());
            }
            store
                .set_setting(&user, screen_setting(d), &encode_patterns(&list))
                .await
                .map_err(friendly)?;
            notify(cfg, Command::Reload).await;
            done(
                json,
                &format!("{} calls of {user} matching {p} blocked", direction_name(d)),
            );
        }
        ScreenCmd::Del {
            user,
            direction,
            pattern,
        } => {
            let d = direction.get();
            let p = ScreenPattern::parse(&pattern).map_err(friendly)?;
            let mut list = patterns(&store, &user, d).await?;
            let before = list.len();
            list.retain(|x| *x != p);
            if list.len() == before {
                bail!(
                    "pattern: {p} is not in the {} rules of {user}",
                    direction_name(d)
                );
            }
            if list.is_empty() {
                store
                    .delete_setting(&user, screen_setting(d))
                    .await
                    .map_err(friendly)?;
            } else {
                store
                    .set_setting(&user, screen_setting(d), &encode_patterns(&list))
                    .await
                    .map_err(friendly)?;
            }
            notify(cfg, Command::Reload).await;
            done(json, &format!("rule {p} of {user} removed"));
        }
        ScreenCmd::List { user } => {
            let all = UserSettings::group(store.all_settings().await.map_err(friendly)?);
            let rows: Vec<(String, &'static str, String)> = all
                .iter()
                .filter(|(aor, _)| user.as_ref().is_none_or(|u| u == *aor))
                .flat_map(|(aor, s)| {
                    s.screening.iter().map(move |r| {
                        (
                            aor.to_string(),
                            direction_name(r.direction),
                            r.pattern.to_string(),
                        )
                    })
                })
                .collect();
            if json {
                print_json(&serde_json::json!(rows
                    .iter()
                    .map(|(u, d, p)| serde_json::json!({"user": u, "direction": d, "pattern": p}))
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["USER", "DIRECTION", "PATTERN"],
                    rows.into_iter()
                        .map(|(u, d, p)| vec![u, d.to_string(), p])
                        .collect(),
                );
            }
        }
    }
    Ok(())
}
