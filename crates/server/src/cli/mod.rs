//! The administration commands: argument parsing, output, and calls to the `admin` use
//! cases, whose change notices go to a running server over the control socket (it re-reads
//! each changed entity). Errors name the field at fault and exit non-zero.

mod ban;
mod cdr;
mod conference;
mod database;
mod findme;
mod forward;
mod gateway_list;
mod import;
mod messages;
mod output;
mod password;
mod pickup;
mod portal_admin;
mod presence;
mod pstn;
mod screen;
mod voicemail;

use std::io::Write as _;

use admin::{AdminError, ChangeNotice};
use anyhow::{bail, Context};
use clap::Subcommand;
use model::{AddressOfRecord, Store, StoreError};

use crate::config::Config;
use crate::control::{self, Command};
use crate::run::wall_clock;
pub use admin::subscriber_with_password;
pub use ban::{run as ban, BanCmd};
pub use cdr::{run as cdr, CdrCmd};
pub use conference::{rooms_json as conference_rooms_json, run as conference, ConferenceCmd};
pub use database::init;
use database::open;
pub use findme::{run as findme, FindmeCmd};
pub use forward::{run as forward, ForwardCmd};
pub use messages::{run as messages, MessagesCmd};
pub use output::{error, error_json, AlreadyReported};
use output::{print_json, print_table};
use password::PasswordArgs;
pub use pickup::{run as pickup_group, PickupGroupCmd};
pub use portal_admin::{run as portal_admin, AdminCmd};
pub use presence::{run as presence, PresenceCmd};
pub use pstn::{dialplan, gateway, route, trusted, DialplanCmd, GatewayCmd, RouteCmd, TrustedCmd};
pub use screen::{run as screen, ScreenCmd};
pub use voicemail::{run as voicemail, VoicemailCmd};

/// `switchboard domain ...`
#[derive(Subcommand, Debug)]
pub enum DomainCmd {
    /// Serve a new domain.
    Add {
        /// The domain, e.g. example.com.
        domain: String,
    },
    /// Stop serving a domain and delete its users, aliases and registrations.
    Del {
        /// The domain.
        domain: String,
    },
    /// List domains.
    List,
}

/// `switchboard user ...`
#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Add a user; the password is stored only as digest hashes (HA1).
    Add {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Delete a user with its aliases and registrations.
    Del {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
    },
    /// Set a user's permission class: which gateway routes the user may call.
    Set {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// local, national (every user's default), international or premium.
        #[arg(long)]
        class: String,
    },
    /// Disable a user's account: their phones are unregistered, and their REGISTERs and
    /// calls are refused (403 Account Disabled) until `user enable`; nothing else changes.
    Disable {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// Why (one line; kept with the account and shown to admins).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
    },
    /// Change a user's password.
    Passwd {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// List users.
    List {
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Add many users from a CSV file: `username,domain,password` or
    /// `username,domain,ha1_md5,ha1_sha256` per line. Nothing is written when a line is wrong.
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
    },
}

/// `switchboard alias ...`
#[derive(Subcommand, Debug)]
pub enum AliasCmd {
    /// Make ALIAS@DOMAIN reach USER@DOMAIN.
    Add {
        /// ALIAS@DOMAIN (a name or a DID number)
        #[arg(value_parser = parse_aor)]
        alias: AddressOfRecord,
        /// USER@DOMAIN it reaches
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// The alias (a DID) is the user's number on calls to gateways (From and
        /// P-Asserted-Identity).
        #[arg(long)]
        caller_id: bool,
    },
    /// Delete an alias.
    Del {
        /// ALIAS@DOMAIN
        #[arg(value_parser = parse_aor)]
        alias: AddressOfRecord,
    },
    /// List aliases.
    List {
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
    },
}

/// `switchboard location ...`
#[derive(Subcommand, Debug)]
pub enum LocationCmd {
    /// List registered contacts.
    List {
        /// Only this USER@DOMAIN.
        #[arg(value_parser = parse_aor)]
        user: Option<AddressOfRecord>,
    },
    /// Remove the registrations of one user, or of everyone with --all.
    Clear {
        /// The USER@DOMAIN whose registrations go.
        #[arg(value_parser = parse_aor)]
        user: Option<AddressOfRecord>,
        /// Remove every registration of every user.
        #[arg(long, conflicts_with = "user")]
        all: bool,
    },
}

fn parse_aor(s: &str) -> Result<AddressOfRecord, String> {
    AddressOfRecord::parse(s).ok_or_else(|| format!("{s:?} is not USER@DOMAIN"))
}

/// A store error as the CLI says it (see [`AdminError`]'s conversion).
fn friendly(e: StoreError) -> anyhow::Error {
    AdminError::from(e).into()
}

/// A password from wherever the command line said, asked for by a use case once the
/// name has passed its checks.
fn ask(password: &PasswordArgs) -> impl FnOnce() -> Result<String, AdminError> + '_ {
    || {
        password
            .get()
            .map_err(|e| AdminError::invalid("password", format!("{e:#}")))
    }
}

/// Tells a running server what changed, one entity per notice; it re-reads each from the
/// store. An error answer is printed, not fatal: the store is written already.
async fn publish(cfg: &Config, notices: &[ChangeNotice]) {
    for n in notices {
        notify(cfg, Command::Changed(n.clone())).await;
    }
}

async fn notify(cfg: &Config, cmd: Command) {
    match control::send(&cfg.control_path(), &cmd).await {
        Ok(Some(answer)) if answer.starts_with("error") => {
            error(&format!("the running server answered: {answer}"));
        }
        _ => {}
    }
}

fn done(json: bool, what: &str) {
    if json {
        print_json(&serde_json::json!({ "ok": true, "result": what }));
    } else {
        let _ = writeln!(std::io::stdout(), "{what}");
    }
}

/// `domain ...`
pub async fn domain(cfg: &Config, cmd: DomainCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        DomainCmd::Add { domain } => {
            let added = admin::add_domain(&store, &domain).await?;
            publish(cfg, &added.notices).await;
            done(json, &format!("domain {} added", added.result));
        }
        DomainCmd::Del { domain } => {
            let deleted = admin::delete_domain(&store, &domain).await?;
            publish(cfg, &deleted.notices).await;
            // The server's location table drops everything; bindings of the domains that
            // remain come back from the store on its next restart.
            notify(cfg, Command::ClearLocation(None)).await;
            done(json, &format!("domain {} deleted", deleted.result));
        }
        DomainCmd::List => {
            let ds = store.domains().await.map_err(friendly)?;
            if json {
                print_json(&serde_json::json!(ds));
            } else {
                print_table(&["DOMAIN"], ds.iter().map(|d| vec![d.clone()]).collect());
            }
        }
    }
    Ok(())
}

/// `user ...`
pub async fn user(cfg: &Config, cmd: UserCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        UserCmd::Add { user, password } => {
            let added = admin::add_user(&store, &user, ask(&password)).await?;
            publish(cfg, &added.notices).await;
            done(json, &format!("user {user} added"));
        }
        UserCmd::Del { user } => {
            let deleted = admin::delete_user(&store, &user).await?;
            publish(cfg, &deleted.notices).await;
            notify(cfg, Command::ClearLocation(Some(user.clone()))).await;
            done(json, &format!("user {user} deleted"));
        }
        UserCmd::Set { user, class } => {
            let set = admin::set_class(&store, &user, &class).await?;
            publish(cfg, &set.notices).await;
            done(json, &format!("class of {user}: {}", set.result));
        }
        UserCmd::Disable { user, reason } => {
            let disabled = admin::disable_user(&store, &user, &reason).await?;
            publish(cfg, &disabled.notices).await;
            // Its phones go: written first, or a gathered save would bring one back.
            notify(cfg, Command::Flush).await;
            store.delete_bindings(Some(&user)).await.map_err(friendly)?;
            notify(cfg, Command::ClearLocation(Some(user.clone()))).await;
            done(json, &format!("user {user} disabled"));
        }
        UserCmd::Enable { user } => {
            let enabled = admin::enable_user(&store, &user).await?;
            publish(cfg, &enabled.notices).await;
            let what = if enabled.result {
                "enabled"
            } else {
                "was not disabled"
            };
            done(json, &format!("user {user} {what}"));
        }
        UserCmd::Passwd { user, password } => {
            let changed = admin::set_password(&store, &user, ask(&password)).await?;
            publish(cfg, &changed.notices).await;
            done(json, &format!("password of {user} changed"));
        }
        UserCmd::Import { file } => import::run(cfg, &store, &file, json).await?,
        UserCmd::List { domain } => {
            let d = domain.map(|d| admin::check_domain(&d)).transpose()?;
            if let Some(d) = &d {
                admin::check_served(&store, d).await?;
            }
            let users = store.subscribers(d.as_deref()).await.map_err(friendly)?;
            if json {
                print_json(&serde_json::json!(users
                    .iter()
                    .map(|u| u.aor.to_string())
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["USER"],
                    users.iter().map(|u| vec![u.aor.to_string()]).collect(),
                );
            }
        }
    }
    Ok(())
}

/// `alias ...`
pub async fn alias(cfg: &Config, cmd: AliasCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        AliasCmd::Add {
            alias,
            user,
            caller_id,
        } => {
            let added = admin::add_alias(&store, &alias, &user).await?;
            publish(cfg, &added.notices).await;
            if caller_id {
                let set = admin::set_caller_id(&store, &alias).await?;
                publish(cfg, &set.notices).await;
            }
            done(json, &format!("alias {alias} -> {user} added"));
        }
        AliasCmd::Del { alias } => {
            let deleted = admin::delete_alias(&store, &alias).await?;
            publish(cfg, &deleted.notices).await;
            done(json, &format!("alias {alias} deleted"));
        }
        AliasCmd::List { domain } => {
            let d = domain.map(|d| admin::check_domain(&d)).transpose()?;
            if let Some(d) = &d {
                admin::check_served(&store, d).await?;
            }
            let list = store.aliases(d.as_deref()).await.map_err(friendly)?;
            if json {
                print_json(&serde_json::json!(list
                    .iter()
                    .map(|a| serde_json::json!({"alias": a.alias.to_string(), "user": a.target.to_string()}))
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["ALIAS", "USER"],
                    list.iter()
                        .map(|a| vec![a.alias.to_string(), a.target.to_string()])
                        .collect(),
                );
            }
        }
    }
    Ok(())
}

/// `location ...`
pub async fn location(cfg: &Config, cmd: LocationCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        LocationCmd::List { user } => {
            // A running server writes bindings behind, gathered per second: have it write
            // what it holds first, so the list shows every registration it has answered.
            notify(cfg, Command::Flush).await;
            let now = wall_clock();
            let list = store.bindings(user.as_ref(), now).await.map_err(friendly)?;
            if json {
                print_json(&serde_json::json!(list
                    .iter()
                    .map(|b| serde_json::json!({
                        "user": b.aor.to_string(), "contact": b.contact, "expires_in": b.remaining(now),
                        "q": f64::from(b.q) / 1000.0, "source": b.source, "user_agent": b.user_agent, "node": b.node,
                    }))
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["USER", "CONTACT", "EXPIRES", "SOURCE", "USER-AGENT"],
                    list.iter()
                        .map(|b| {
                            vec![
                                b.aor.to_string(),
                                b.contact.clone(),
                                b.remaining(now).to_string(),
                                b.source.clone(),
                                b.user_agent.clone(),
                            ]
                        })
                        .collect(),
                );
            }
        }
        LocationCmd::Clear { user, all } => {
            if user.is_none() && !all {
                bail!(
                    "location clear: missing USER@DOMAIN or --all (--all removes every \
                     registration of every user)"
                );
            }
            // Written first, or a gathered save would bring a cleared binding back.
            notify(cfg, Command::Flush).await;
            let n = store
                .delete_bindings(user.as_ref())
                .await
                .map_err(friendly)?;
            notify(cfg, Command::ClearLocation(user.clone())).await;
            done(json, &format!("{n} registration(s) removed"));
        }
    }
    Ok(())
}

/// `status`: the headline figures as text, or the server's JSON object with `--json`.
pub async fn status(cfg: &Config, json: bool) -> anyhow::Result<()> {
    match control::send(&cfg.control_path(), &Command::Status).await? {
        Some(answer) if json || answer.starts_with("error") => {
            let _ = writeln!(std::io::stdout(), "{answer}");
            Ok(())
        }
        Some(answer) => {
            let v: serde_json::Value = serde_json::from_str(&answer)
                .with_context(|| format!("unexpected answer from the server: {answer}"))?;
            let n = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
            let lines = [
                ("calls up (dialogs)", n("dialogs_active").to_string()),
                ("calls being set up", n("calls_in_setup").to_string()),
                ("calls answered", n("calls_answered").to_string()),
                ("registered contacts", n("registered_contacts").to_string()),
                ("registrations", n("registrations").to_string()),
                ("transactions", n("transactions").to_string()),
                (
                    "requests / responses",
                    format!("{} / {}", n("requests"), n("responses")),
                ),
                ("UDP in / out", format!("{} / {}", n("udp_rx"), n("udp_tx"))),
                (
                    "TCP in / out (connections)",
                    format!(
                        "{} / {} ({})",
                        n("tcp_rx"),
                        n("tcp_tx"),
                        n("tcp_connections")
                    ),
                ),
                (
                    "refused: overload / parse errors",
                    format!("{} / {}", n("overloaded"), n("parse_errors")),
                ),
                (
                    "dropped: queue full / queue delay",
                    format!(
                        "{} / {}",
                        n("dropped_core_queue_full"),
                        n("dropped_queue_delay")
                    ),
                ),
                (
                    "domains / users / aliases",
                    format!("{} / {} / {}", n("domains"), n("users"), n("aliases")),
                ),
            ];
            let mut out = String::new();
            for (k, val) in lines {
                out.push_str(&format!("{k:<34} {val}\n"));
            }
            let _ = write!(std::io::stdout(), "{out}");
            Ok(())
        }
        None => bail!(
            "no server is running with data directory {}",
            cfg.server.data_dir.display()
        ),
    }
}
