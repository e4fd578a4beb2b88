//! `switchboard gateway ...` and `switchboard route ...`: PSTN gateways and the routes
//! (least-cost routing) to them (docs/pstn.md).

use clap::{Args, Subcommand};
use model::PstnStore;

use super::{done, friendly, open, print_json, print_table, publish};
use crate::config::Config;

/// `switchboard gateway ...`
#[derive(Subcommand, Debug)]
pub enum GatewayCmd {
    /// Add a gateway calls to numbers can leave through.
    Add(GatewayArgs),
    /// Change a gateway in place: every field but its name, given as for `add` (its
    /// routes keep it).
    Set(GatewayArgs),
    /// Delete a gateway (no route may use it).
    Del {
        /// Its name.
        name: String,
    },
    /// List gateways, with their health when a server runs (up/down, failed probes,
    /// the last probe answered, calls).
    List,
}

/// A gateway's fields, for `gateway add` and `gateway set`.
#[derive(Args, Debug)]
pub struct GatewayArgs {
    /// Its name (letters, digits, '-', '_', '.').
    pub name: String,
    /// IP:PORT of the gateway.
    pub address: String,
    /// udp (default), tcp or tls.
    #[arg(long)]
    pub transport: Option<String>,
    /// Leading digits removed from the number before it is sent.
    #[arg(long, default_value_t = 0)]
    pub strip: u32,
    /// Digits put in front of the number (after --strip).
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Seconds between OPTIONS probes (default 30; 0: never probed).
    #[arg(long)]
    pub probe: Option<u32>,
    /// How a TLS gateway's certificate is checked: verify (default: the chain and its IP
    /// address), pin:SHA256 (only the leaf certificate's SHA-256 fingerprint, hex with or
    /// without colons) or skip (any certificate; labs only, a warning at each connection).
    #[arg(long, value_name = "verify|pin:SHA256|skip")]
    pub tls_verify: Option<String>,
}

impl GatewayArgs {
    /// The fields as the admin layer takes them.
    fn input(&self) -> admin::GatewayInput<'_> {
        admin::GatewayInput {
            name: &self.name,
            address: &self.address,
            transport: self.transport.as_deref(),
            strip: self.strip,
            prefix: &self.prefix,
            probe_secs: self.probe,
            tls_verify: self.tls_verify.as_deref(),
        }
    }
}

/// `switchboard route ...`
#[derive(Subcommand, Debug)]
pub enum RouteCmd {
    /// Route numbers starting with PREFIX to gateways, tried in order.
    Add {
        /// Leading digits (an optional + first); the longest matching prefix wins.
        prefix: String,
        /// Gateway names, comma-separated, in the order they are tried.
        gateways: String,
        /// The class a caller needs: local, national (default), international, premium.
        #[arg(long)]
        class: Option<String>,
        /// Only for users of this domain (default: every domain).
        #[arg(long)]
        domain: Option<String>,
    },
    /// Delete a route.
    Del {
        /// Its prefix.
        prefix: String,
        /// The domain it was added for (default: the every-domain route).
        #[arg(long)]
        domain: Option<String>,
    },
    /// List routes.
    List,
}

/// `switchboard dialplan ...`
#[derive(Subcommand, Debug)]
pub enum DialplanCmd {
    /// Rewrite numbers DOMAIN's users dial that match MATCH into REPLACEMENT before routing.
    Add {
        /// A served domain.
        domain: String,
        /// A regular expression, e.g. '^0([1-9][0-9]+)$'.
        #[arg(value_name = "MATCH")]
        pattern: String,
        /// The replacement, e.g. '+49$1'.
        replacement: String,
        /// Lower first (default 100); the first matching rule applies.
        #[arg(long, default_value_t = 100, allow_negative_numbers = true)]
        priority: i32,
    },
    /// Delete a rule.
    Del {
        /// Its domain.
        domain: String,
        /// Its expression, as added.
        #[arg(value_name = "MATCH")]
        pattern: String,
    },
    /// List rules.
    List,
    /// Show each rule tried on NUMBER and the result.
    Test {
        /// The domain.
        domain: String,
        /// A number as a user would dial it.
        number: String,
    },
}

/// `dialplan ...`
pub async fn dialplan(cfg: &Config, cmd: DialplanCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        DialplanCmd::Add {
            domain,
            pattern,
            replacement,
            priority,
        } => {
            let added =
                admin::add_dial_rule(&store, &domain, &pattern, &replacement, priority).await?;
            publish(cfg, &added.notices).await;
            done(
                json,
                &format!("{domain}: {pattern} -> {replacement} (priority {priority})"),
            );
        }
        DialplanCmd::Del { domain, pattern } => {
            let gone = admin::delete_dial_rule(&store, &domain, &pattern).await?;
            publish(cfg, &gone.notices).await;
            done(json, &format!("{domain}: {pattern} deleted"));
        }
        DialplanCmd::List => {
            let all = store.dial_rules().await.map_err(friendly)?;
            if json {
                print_json(&serde_json::json!(all
                    .iter()
                    .map(|r| serde_json::json!({
                        "domain": r.domain, "priority": r.priority,
                        "match": r.pattern, "replacement": r.replacement,
                    }))
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["DOMAIN", "PRIORITY", "MATCH", "REPLACEMENT"],
                    all.into_iter()
                        .map(|r| vec![r.domain, r.priority.to_string(), r.pattern, r.replacement])
                        .collect(),
                );
            }
        }
        DialplanCmd::Test { domain, number } => {
            let domain = domain.to_ascii_lowercase();
            let rules: Vec<_> = store
                .dial_rules()
                .await
                .map_err(friendly)?
                .into_iter()
                .filter(|r| r.domain == domain)
                .collect();
            let (out, steps) = model::DialPlan::new(rules).translate(&number);
            if json {
                print_json(&serde_json::json!({
                    "number": number,
                    "result": out,
                    "tried": steps.iter().map(|s| serde_json::json!({
                        "match": s.pattern, "replacement": s.replacement, "result": s.result,
                    })).collect::<Vec<_>>(),
                }));
            } else {
                let mut lines = String::new();
                for s in &steps {
                    match &s.result {
                        Some(r) => lines.push_str(&format!("{}  ->  {r}\n", s.pattern)),
                        None => lines.push_str(&format!("{}  (no match)\n", s.pattern)),
                    }
                }
                lines.push_str(&format!("{number} => {out}"));
                done(false, &lines);
            }
        }
    }
    Ok(())
}

/// `switchboard trusted ...`
#[derive(Subcommand, Debug)]
pub enum TrustedCmd {
    /// Trust ADDRESS[/PREFIX]: its requests are not challenged and count as a local
    /// user's (a gateway's inbound calls, a PBX).
    Add {
        /// ADDRESS or ADDRESS/PREFIX.
        cidr: String,
        /// The gateway it is.
        #[arg(long)]
        gateway: Option<String>,
    },
    /// Stop trusting ADDRESS[/PREFIX].
    Del {
        /// As given to `trusted add`.
        cidr: String,
    },
    /// List trusted peers.
    List,
}

/// `trusted ...`
pub async fn trusted(cfg: &Config, cmd: TrustedCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        TrustedCmd::Add { cidr, gateway } => {
            let added = admin::add_trusted(&store, &cidr, gateway.as_deref()).await?;
            publish(cfg, &added.notices).await;
            done(json, &format!("{} trusted", added.result));
        }
        TrustedCmd::Del { cidr } => {
            let gone = admin::delete_trusted(&store, &cidr).await?;
            publish(cfg, &gone.notices).await;
            done(json, &format!("{cidr} no longer trusted"));
        }
        TrustedCmd::List => {
            let all = store.trusted().await.map_err(friendly)?;
            if json {
                print_json(&serde_json::json!(all
                    .iter()
                    .map(|p| serde_json::json!({ "cidr": p.cidr, "gateway": p.gateway }))
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["CIDR", "GATEWAY"],
                    all.into_iter()
                        .map(|p| vec![p.cidr, p.gateway.unwrap_or_default()])
                        .collect(),
                );
            }
        }
    }
    Ok(())
}

/// `gateway ...`
pub async fn gateway(cfg: &Config, cmd: GatewayCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        GatewayCmd::Add(gw) => {
            let added = admin::add_gateway(&store, &gw.input()).await?;
            publish(cfg, &added.notices).await;
            let what = format!("gateway {} added ({})", gw.name, added.result.addr);
            done(json, &what);
        }
        GatewayCmd::Set(gw) => {
            let set = admin::update_gateway(&store, &gw.input()).await?;
            publish(cfg, &set.notices).await;
            let what = format!("gateway {} changed ({})", gw.name, set.result.addr);
            done(json, &what);
        }
        GatewayCmd::Del { name } => {
            let gone = admin::delete_gateway(&store, &name).await?;
            publish(cfg, &gone.notices).await;
            done(json, &format!("gateway {name} deleted"));
        }
        GatewayCmd::List => {
            let all = store.gateways().await.map_err(friendly)?;
            super::gateway_list::run(cfg, all, json).await?;
        }
    }
    Ok(())
}

/// `route ...`
pub async fn route(cfg: &Config, cmd: RouteCmd, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    match cmd {
        RouteCmd::Add {
            prefix,
            gateways,
            class,
            domain,
        } => {
            let added = admin::add_route(
                &store,
                &prefix,
                &gateways,
                class.as_deref(),
                domain.as_deref(),
            )
            .await?;
            publish(cfg, &added.notices).await;
            done(
                json,
                &format!(
                    "route {prefix} -> {} ({})",
                    added.result.gateways.join(", "),
                    added.result.class
                ),
            );
        }
        RouteCmd::Del { prefix, domain } => {
            let gone = admin::delete_route(&store, &prefix, domain.as_deref()).await?;
            publish(cfg, &gone.notices).await;
            done(json, &format!("route {prefix} deleted"));
        }
        RouteCmd::List => {
            let all = store.routes().await.map_err(friendly)?;
            let domain = |d: &Option<String>| d.clone().unwrap_or_else(|| "*".into());
            if json {
                print_json(&serde_json::json!(all
                    .iter()
                    .map(|r| serde_json::json!({
                        "prefix": r.prefix,
                        "domain": r.domain,
                        "gateways": r.gateways,
                        "class": r.class.as_str(),
                    }))
                    .collect::<Vec<_>>()));
            } else {
                print_table(
                    &["PREFIX", "DOMAIN", "GATEWAYS", "CLASS"],
                    all.iter()
                        .map(|r| {
                            vec![
                                r.prefix.clone(),
                                domain(&r.domain),
                                r.gateways.join(","),
                                r.class.as_str().into(),
                            ]
                        })
                        .collect(),
                );
            }
        }
    }
    Ok(())
}
