//! `switchboard gateway list [--json]`: the stored gateways, with the health the running
//! server knows of each (up/down, failed probes, the last probe answered, calls), asked
//! over the control socket (`gateways`). With no server running it lists the stored
//! configuration and says that health is unknown.
//!
//! Not here: adding and deleting gateways (`pstn.rs`), health itself (the proxy's prober).

use std::collections::HashMap;

use model::Gateway;
use serde_json::Value;

use super::{error, print_json, print_table};
use crate::config::Config;
use crate::control::{self, Command};
use crate::run::wall_clock;

/// What a missing server leaves out, in the text and JSON forms.
const NO_SERVER: &str = "no server is running: stored configuration only, health unknown";

/// Lists `gateways` (from the store) with their health from the running server.
pub async fn run(cfg: &Config, gateways: Vec<Gateway>, json: bool) -> anyhow::Result<()> {
    let health = match control::send(&cfg.control_path(), &Command::Gateways).await {
        Ok(Some(answer)) if !answer.starts_with("error") => Some(by_name(&answer)?),
        Ok(Some(answer)) => {
            error(&format!("the running server answered: {answer}"));
            None
        }
        Ok(None) | Err(_) => None,
    };
    if json {
        print_json(&Value::Array(
            gateways
                .iter()
                .map(|g| {
                    let h = health
                        .as_ref()
                        .map(|h| h.get(&g.name).cloned().unwrap_or(Value::Null));
                    let mut o = serde_json::json!({
                        "name": g.name,
                        "address": g.addr.to_string(),
                        "transport": g.transport.as_str(),
                        "strip": g.strip,
                        "prefix": g.prefix,
                        "probe": g.probe_secs,
                        "tls_verify": g.tls_verify.to_string(),
                        "health": h.unwrap_or(Value::Null),
                    });
                    if health.is_none() {
                        o["note"] = NO_SERVER.into();
                    }
                    o
                })
                .collect(),
        ));
        return Ok(());
    }
    let now = wall_clock();
    print_table(
        &[
            "NAME",
            "ADDRESS",
            "TRANSPORT",
            "STRIP",
            "PREFIX",
            "PROBE",
            "TLS VERIFY",
            "STATE",
            "FAILED PROBES",
            "LAST ANSWER",
            "CALLS",
            "ANSWERED",
            "FAILED",
        ],
        gateways
            .into_iter()
            .map(|g| {
                let h = health.as_ref().and_then(|h| h.get(&g.name));
                let tls = g.tls_summary();
                let mut row = vec![
                    g.name,
                    g.addr.to_string(),
                    g.transport.as_str().into(),
                    g.strip.to_string(),
                    g.prefix,
                    if g.probe_secs == 0 {
                        "never".into()
                    } else {
                        format!("{}s", g.probe_secs)
                    },
                    tls,
                ];
                row.extend(health_cells(h, now));
                row
            })
            .collect(),
    );
    if health.is_none() {
        error(NO_SERVER);
    }
    Ok(())
}

/// The server's answer (a JSON array) by gateway name.
fn by_name(answer: &str) -> anyhow::Result<HashMap<String, Value>> {
    let all: Vec<Value> = serde_json::from_str(answer)
        .map_err(|e| anyhow::anyhow!("unexpected answer from the server ({e}): {answer}"))?;
    Ok(all
        .into_iter()
        .filter_map(|h| {
            let name = h.get("name")?.as_str()?.to_owned();
            Some((name, h))
        })
        .collect())
}

/// STATE, FAILED PROBES, LAST ANSWER, CALLS, ANSWERED, FAILED of one gateway (`-` where
/// the server does not know it: no server, or a gateway it has not loaded yet).
fn health_cells(h: Option<&Value>, now: u64) -> Vec<String> {
    let Some(h) = h else {
        return vec![
            "unknown".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ];
    };
    let n = |k: &str| h.get(k).and_then(Value::as_u64).unwrap_or(0);
    let up = h.get("up").and_then(Value::as_bool).unwrap_or(true);
    let probed = h.get("probed").and_then(Value::as_bool).unwrap_or(false);
    let last = match (
        h.get("last_answer_status").and_then(Value::as_u64),
        h.get("last_answer").and_then(Value::as_u64),
    ) {
        (Some(status), Some(at)) => format!("{status}, {}s ago", now.saturating_sub(at)),
        _ if probed => "none yet".into(),
        _ => "not probed".into(),
    };
    let failed: u64 = h
        .get("failures")
        .and_then(Value::as_object)
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
    vec![
        if up { "up" } else { "down" }.into(),
        n("failed_probes").to_string(),
        last,
        n("attempts").to_string(),
        n("answers").to_string(),
        failed.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_cells_read_the_servers_answer() {
        let answer = r#"[
{"name":"a","up":false,"probed":true,"failed_probes":3,"last_answer_status":200,"last_answer":990,"attempts":5,"answers":2,"failures":{"timeout":1,"server_error":2,"refused":0,"transport":0}},
{"name":"b","up":true,"probed":false,"failed_probes":0,"last_answer_status":null,"last_answer":null,"attempts":0,"answers":0,"failures":{}}
]"#;
        let h = by_name(answer).unwrap();
        assert_eq!(
            health_cells(h.get("a"), 1000),
            ["down", "3", "200, 10s ago", "5", "2", "3"]
        );
        assert_eq!(
            health_cells(h.get("b"), 1000)[..3],
            ["up", "0", "not probed"]
        );
        assert_eq!(health_cells(None, 1000)[0], "unknown");
        assert!(by_name("not json").is_err());
    }
}
