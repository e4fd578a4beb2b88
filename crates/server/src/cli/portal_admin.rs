//! `switchboard admin add NAME`: portal accounts (admins, and with `--domain` domain admins
//! of those domains), their passwords hashed with Argon2id by `admin::add_portal_account`.

use clap::Subcommand;

use super::password::PasswordArgs;
use super::{ask, database::open, done};
use crate::config::Config;

/// `switchboard admin ...`
#[derive(Subcommand, Debug)]
pub enum AdminCmd {
    /// Add a web portal account: an admin of everything, or with --domain an admin of
    /// those domains only. The password is stored as an Argon2id hash.
    Add {
        /// The login name (letters, digits, '.', '_', '-').
        name: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// A domain this account administers (repeat for several); without it the account
        /// administers everything.
        #[arg(long = "domain", value_name = "DOMAIN")]
        domains: Vec<String>,
    },
}

/// Runs an `admin` subcommand.
pub async fn run(cfg: &Config, cmd: AdminCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        AdminCmd::Add {
            name,
            password,
            domains,
        } => {
            let role = if domains.is_empty() {
                model::PortalRole::Admin
            } else {
                model::PortalRole::DomainAdmin(domains)
            };
            let what = match &role {
                model::PortalRole::Admin => "portal admin".to_string(),
                model::PortalRole::DomainAdmin(ds) => format!("domain admin of {}", ds.join(", ")),
            };
            admin::add_portal_account(&store, &name, role, ask(&password)).await?;
            done(json, &format!("{what} {name} added"));
        }
    }
    Ok(())
}
