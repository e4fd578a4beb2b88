//! The dependency rules of docs/architecture.md, checked on `cargo metadata`: pure protocol
//! crates stay sans-IO, SIP logic never reaches for the database, the network or tokio.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Normal (non-dev) dependencies of every workspace package, transitively, by name.
fn closure() -> BTreeMap<String, BTreeSet<String>> {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: BTreeMap<String, String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Direct normal dependencies per package id, from the resolve graph.
    let mut direct: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let id = node["id"].as_str().unwrap().to_string();
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| d["pkg"].as_str().unwrap().to_string())
            .collect();
        direct.insert(id, deps);
    }
    let members: Vec<String> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    let mut result = BTreeMap::new();
    for m in members {
        let mut seen = BTreeSet::new();
        let mut stack = vec![m.clone()];
        while let Some(id) = stack.pop() {
            for d in direct.get(&id).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        result.insert(
            names[&m].clone(),
            seen.iter().map(|id| names[id].clone()).collect(),
        );
    }
    result
}

#[test]
fn dependency_rules_hold() {
    let deps = closure();
    let forbidden: &[(&[&str], &[&str])] = &[
        // Pure protocol: no runtime, no sockets, no database, no other layer.
        (
            &[
                "sip-message",
                "sip-transaction",
                "sip-dialog",
                "sip-auth",
                "sdp",
                "rtp",
            ],
            &[
                "tokio",
                "sqlx",
                "socket2",
                "storage",
                "transport",
                "proxy",
                "registrar",
                "model",
                "server",
            ],
        ),
        // Data: no database driver, no network.
        (
            &["model"],
            &[
                "sqlx",
                "storage",
                "transport",
                "tokio",
                "proxy",
                "registrar",
                "server",
            ],
        ),
        // SIP logic: sees data only through model, never the network or the runtime.
        (
            &["proxy", "registrar"],
            &["sqlx", "storage", "transport", "tokio", "socket2", "server"],
        ),
        // Administration use cases: over model's store traits only, never a database
        // driver, the network, or SIP logic.
        (&["admin"], &["sqlx", "storage", "transport", "proxy"]),
        // The web portal: a front end over admin and model (live data through the
        // server's narrow trait), never SQL, the network layer or SIP logic.
        (
            &["portal"],
            &[
                "sqlx",
                "storage",
                "transport",
                "proxy",
                "registrar",
                "server",
            ],
        ),
        // World edges do not reach up.
        (&["storage", "transport"], &["proxy", "registrar", "server"]),
        // Media services talk SIP to the proxy like phones: they see mailbox data through
        // their own trait, never the database, the proxy or the server. The media engine
        // is a world edge too: no SIP logic, no database.
        (
            &["services", "media"],
            &[
                "proxy",
                "registrar",
                "server",
                "storage",
                "sqlx",
                "transport",
            ],
        ),
    ];
    let mut violations = Vec::new();
    for (crates, banned) in forbidden {
        for c in *crates {
            let Some(d) = deps.get(*c) else {
                violations.push(format!("{c}: not a workspace member"));
                continue;
            };
            for b in *banned {
                if d.contains(*b) {
                    violations.push(format!("{c} depends on {b}"));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "architecture rules broken:\n{}",
        violations.join("\n")
    );
}
