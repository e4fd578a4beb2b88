//! `switchboard messages ...`: instant messages stored for offline users (issue 17;
//! docs/messages.md): list them, purge them. Reads and writes the database directly; a
//! running server delivers what is left at each user's next REGISTER.

use clap::Subcommand;
use model::AddressOfRecord;

use super::{done, open, parse_aor, print_json, print_table};
use crate::config::Config;

/// `switchboard messages ...`
#[derive(Subcommand, Debug)]
pub enum MessagesCmd {
    /// List the messages waiting (of USER only, when given), oldest first.
    List {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: Option<AddressOfRecord>,
    },
    /// Delete stored messages undelivered: all, or USER's, or only older ones.
    Purge {
        /// USER@DOMAIN (default: every user).
        #[arg(value_parser = parse_aor)]
        user: Option<AddressOfRecord>,
        /// Only messages received more than this many days ago.
        #[arg(long)]
        older_than_days: Option<u32>,
    },
}

/// Runs a `messages` command.
pub async fn run(cfg: &Config, cmd: MessagesCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        MessagesCmd::List { user } => {
            let list = admin::list_instant_messages(&store, user.as_ref()).await?;
            if json {
                print_json(&serde_json::json!(list
                    .iter()
                    .map(|m| serde_json::json!({
                        "id": m.id,
                        "to": m.to.to_string(),
                        "from": m.from,
                        "content_type": m.content_type,
                        "body": m.body,
                        "received_at": m.received_at,
                        "attempts": m.attempts,
                    }))
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["ID", "TO", "FROM", "RECEIVED", "TYPE", "ATTEMPTS", "BODY"],
                    list.iter()
                        .map(|m| {
                            vec![
                                m.id.to_string(),
                                m.to.to_string(),
                                m.from.clone(),
                                admin::utc::date_time(m.received_at),
                                m.content_type.clone(),
                                m.attempts.to_string(),
                                one_line(&m.body),
                            ]
                        })
                        .collect(),
                );
            }
        }
        MessagesCmd::Purge {
            user,
            older_than_days,
        } => {
            let n = admin::purge_instant_messages(
                &store,
                user.as_ref(),
                older_than_days,
                crate::run::wall_clock(),
            )
            .await?;
            done(json, &format!("{n} message(s) purged"));
        }
    }
    Ok(())
}

/// The body's first 60 characters on one line, for the table.
fn one_line(body: &str) -> String {
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(60)
        .collect();
    if body.chars().count() > 60 {
        format!("{flat}...")
    } else {
        flat
    }
}
