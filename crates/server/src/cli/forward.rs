//! `switchboard forward ...`: call forwarding (RFC 5359 §2.7-§2.9; docs/services.md).

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use model::{
    encode_no_answer, AddressOfRecord, Store, UserSettings, FORWARD_ALWAYS, FORWARD_BUSY,
    FORWARD_NO_ANSWER, FORWARD_UNAVAILABLE,
};

use super::{done, friendly, notify, open, parse_aor, print_json, print_table};
use crate::config::Config;
use crate::control::Command;

/// Seconds of ringing before no-answer forwarding when `--after` is not given.
const DEFAULT_AFTER: u32 = 20;

/// When a call is forwarded.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Every call (§2.7).
    Always,
    /// When the user is busy (§2.8).
    Busy,
    /// When the user does not answer within --after seconds (§2.9).
    NoAnswer,
    /// When the user has no registered phone, or none is reachable.
    Unavailable,
}

impl Kind {
    fn setting(self) -> &'static str {
        match self {
            Kind::Always => FORWARD_ALWAYS,
            Kind::Busy => FORWARD_BUSY,
            Kind::NoAnswer => FORWARD_NO_ANSWER,
            Kind::Unavailable => FORWARD_UNAVAILABLE,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Always => "always",
            Kind::Busy => "busy",
            Kind::NoAnswer => "no-answer",
            Kind::Unavailable => "unavailable",
        }
    }

    const ALL: [Kind; 4] = [Kind::Always, Kind::Busy, Kind::NoAnswer, Kind::Unavailable];
}

/// `switchboard forward ...`
#[derive(Subcommand, Debug)]
pub enum ForwardCmd {
    /// Forward USER's calls to TARGET (a SIP URI, USER@DOMAIN or a number).
    Set {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// When: always, busy, no-answer or unavailable.
        kind: Kind,
        /// Where: sip:URI, USER@DOMAIN or a number of the user's domain.
        target: String,
        /// no-answer: seconds of ringing first (default 20).
        #[arg(long)]
        after: Option<u32>,
    },
    /// Stop forwarding USER's calls (one kind, or all).
    Clear {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// Only this kind.
        kind: Option<Kind>,
    },
    /// List forwarding of every user.
    List,
}

/// `forward ...`
pub async fn run(cfg: &Config, cmd: ForwardCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        ForwardCmd::Set {
            user,
            kind,
            target,
            after,
        } => {
            if store.subscriber(&user).await.map_err(friendly)?.is_none() {
                bail!("user {user} not found");
            }
            super::target::check(&store, "target", &user, &target).await?;
            let value = match (kind, after) {
                (Kind::NoAnswer, a) => {
                    encode_no_answer(&target, a.unwrap_or(DEFAULT_AFTER)).map_err(friendly)?
                }
                (_, Some(_)) => bail!("after: only applies to no-answer forwarding"),
                (_, None) => target.clone(),
            };
            store
                .set_setting(&user, kind.setting(), &value)
                .await
                .map_err(friendly)?;
            notify(cfg, Command::Reload).await;
            done(
                json,
                &format!("calls to {user} forwarded ({}) to {target}", kind.name()),
            );
        }
        ForwardCmd::Clear { user, kind } => {
            if store.subscriber(&user).await.map_err(friendly)?.is_none() {
                bail!("user: {user} not found");
            }
            let kinds = match kind {
                Some(k) => vec![k],
                None => Kind::ALL.to_vec(),
            };
            let mut n = 0;
            for k in kinds {
                if store
                    .delete_setting(&user, k.setting())
                    .await
                    .map_err(friendly)?
                {
                    n += 1;
                }
            }
            notify(cfg, Command::Reload).await;
            done(
                json,
                &format!("{n} forwarding setting(s) of {user} cleared"),
            );
        }
        ForwardCmd::List => {
            let all = UserSettings::group(store.all_settings().await.map_err(friendly)?);
            let mut rows = Vec::new();
            for (aor, s) in &all {
                let f = &s.forwarding;
                let one = |k: Kind, t: &Option<String>| {
                    t.as_ref().map(|t| (aor.to_string(), k, t.clone(), None))
                };
                rows.extend(one(Kind::Always, &f.always));
                rows.extend(one(Kind::Busy, &f.busy));
                if let Some((t, secs)) = &f.no_answer {
                    rows.push((aor.to_string(), Kind::NoAnswer, t.clone(), Some(*secs)));
                }
                rows.extend(one(Kind::Unavailable, &f.unavailable));
            }
            if json {
                print_json(&serde_json::json!(rows
                    .iter()
                    .map(|(u, k, t, a)| serde_json::json!({
                        "user": u, "kind": k.name(), "target": t, "after": a,
                    }))
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["USER", "KIND", "TARGET", "AFTER"],
                    rows.into_iter()
                        .map(|(u, k, t, a)| {
                            vec![
                                u,
                                k.name().to_string(),
                                t,
                                a.map(|s| format!("{s}s")).unwrap_or_default(),
                            ]
                        })
                        .collect(),
                );
            }
        }
    }
    Ok(())
}
