//! `switchboard screen ...`: incoming and outgoing call screening (RFC 5359 §2.13, §2.14;
//! docs/services.md).

use admin::direction_name;
use clap::{Args, Subcommand};
use model::{AddressOfRecord, ScreenDirection, Store, UserSettings};

use super::{done, friendly, open, parse_aor, print_json, print_table, publish};
use crate::config::Config;

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
            let added = admin::add_screen_rule(&store, &user, d, &pattern).await?;
            publish(cfg, &added.notices).await;
            done(
                json,
                &format!(
                    "{} calls of {user} matching {} blocked",
                    direction_name(d),
                    added.result
                ),
            );
        }
        ScreenCmd::Del {
            user,
            direction,
            pattern,
        } => {
            let deleted =
                admin::delete_screen_rule(&store, &user, direction.get(), &pattern).await?;
            publish(cfg, &deleted.notices).await;
            done(json, &format!("rule {} of {user} removed", deleted.result));
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
