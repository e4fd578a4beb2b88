//! `switchboard pickup-group ...`: call-pickup groups (issue 17; docs/presence.md). A
//! member dialling `*8` picks up a call ringing another member of their group.

use clap::Subcommand;
use model::AddressOfRecord;

use super::{done, open, parse_aor, print_json, print_table, publish};
use crate::config::Config;

/// `switchboard pickup-group ...`
#[derive(Subcommand, Debug)]
pub enum PickupGroupCmd {
    /// Put users in group NAME (a user is in one group at most: this moves them).
    Add {
        /// The group's name (letters, digits, - _ .).
        name: String,
        /// USER@DOMAIN ...
        #[arg(required = true, value_parser = parse_aor)]
        users: Vec<AddressOfRecord>,
    },
    /// List the groups and their members.
    List,
    /// Delete group NAME (its members leave it).
    Del {
        /// The group's name.
        name: String,
    },
}

/// Runs a `pickup-group` command.
pub async fn run(cfg: &Config, cmd: PickupGroupCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        PickupGroupCmd::Add { name, users } => {
            let added = admin::add_to_pickup_group(&store, &name, &users).await?;
            publish(cfg, &added.notices).await;
            done(
                json,
                &format!("{} user(s) in pickup group {name}", users.len()),
            );
        }
        PickupGroupCmd::Del { name } => {
            let deleted = admin::delete_pickup_group(&store, &name).await?;
            publish(cfg, &deleted.notices).await;
            done(
                json,
                &format!("pickup group {name} deleted ({} members)", deleted.result),
            );
        }
        PickupGroupCmd::List => {
            let groups = admin::pickup_groups(&store).await?;
            if json {
                print_json(&serde_json::json!(groups
                    .iter()
                    .map(|(g, m)| serde_json::json!({
                        "name": g,
                        "members": m.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    }))
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["GROUP", "MEMBERS"],
                    groups
                        .iter()
                        .map(|(g, m)| {
                            let members: Vec<String> = m.iter().map(ToString::to_string).collect();
                            vec![g.clone(), members.join(" ")]
                        })
                        .collect(),
                );
            }
        }
    }
    Ok(())
}
