//! `switchboard forward ...`: call forwarding (RFC 5359 §2.7-§2.9; docs/services.md).

use admin::ForwardKind;
use clap::{Subcommand, ValueEnum};
use model::{AddressOfRecord, Store, UserSettings};

use super::{done, friendly, open, parse_aor, print_json, print_table, publish};
use crate::config::Config;

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
    fn admin(self) -> ForwardKind {
        match self {
            Kind::Always => ForwardKind::Always,
            Kind::Busy => ForwardKind::Busy,
            Kind::NoAnswer => ForwardKind::NoAnswer,
            Kind::Unavailable => ForwardKind::Unavailable,
        }
    }

    fn name(self) -> &'static str {
        self.admin().name()
    }
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
        /// Where: a local USER@DOMAIN or number (of the user's domain) that exists, or an
        /// external sip:URI.
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
            let set = admin::set_forwarding(&store, &user, kind.admin(), &target, after).await?;
            publish(cfg, &set.notices).await;
            done(
                json,
                &format!("calls to {user} forwarded ({}) to {target}", kind.name()),
            );
        }
        ForwardCmd::Clear { user, kind } => {
            let cleared = admin::clear_forwarding(&store, &user, kind.map(Kind::admin)).await?;
            publish(cfg, &cleared.notices).await;
            done(
                json,
                &format!("{} forwarding setting(s) of {user} cleared", cleared.result),
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
