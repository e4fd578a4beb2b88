//! `switchboard cdr list|export`: call records from the database (docs/cdr.md), through the
//! `admin` crate's CDR use cases. Neither needs the server running.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use model::CallRecord;

use super::database::open;
use super::output::{print_json, print_table};
use crate::config::Config;

/// Which records: every option narrows.
#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Calls made (authenticated caller) or received (dialled or final target) by
    /// USER@DOMAIN.
    #[arg(long)]
    user: Option<String>,
    /// Started at or after TIME: 2026-12-03T18:00:00Z (RFC 3339, any offset), 2026-12-03
    /// (midnight UTC) or Unix seconds.
    #[arg(long)]
    since: Option<String>,
    /// Started before TIME (same forms as --since).
    #[arg(long)]
    until: Option<String>,
    /// With this final SIP status, e.g. 200, 486, 487.
    #[arg(long)]
    status: Option<String>,
}

/// `switchboard cdr ...`
#[derive(Subcommand, Debug)]
pub enum CdrCmd {
    /// List call records, oldest first (times in UTC).
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// Only the newest N.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Write call records as CSV (RFC 4180, UTC times, a header line).
    Export {
        /// The file to write ("-": standard output).
        #[arg(long)]
        csv: PathBuf,
        #[command(flatten)]
        filter: FilterArgs,
    },
}

/// Runs a `cdr` command.
pub async fn run(cfg: &Config, cmd: CdrCmd, json: bool) -> anyhow::Result<()> {
    let (args, limit) = match &cmd {
        CdrCmd::List { filter, limit } => (filter, *limit),
        CdrCmd::Export { filter, .. } => (filter, None),
    };
    let mut filter = admin::cdr::cdr_filter(
        args.user.as_deref(),
        args.since.as_deref(),
        args.until.as_deref(),
        args.status.as_deref(),
    )?;
    filter.limit = limit;
    let store = open(cfg).await?;
    admin::cdr::add_user_aliases(&store, &mut filter).await?;
    let records = admin::cdr::list_records(&store, &filter).await?;
    store.close().await;
    match cmd {
        CdrCmd::List { .. } if json => {
            print_json(&serde_json::Value::Array(
                records.iter().map(record_json).collect(),
            ));
        }
        CdrCmd::List { .. } => {
            let rows = records.iter().map(table_row).collect();
            print_table(
                &[
                    "STARTED", "CALLER", "DIALLED", "TARGET", "STATUS", "DURATION", "HANGUP",
                ],
                rows,
            );
        }
        CdrCmd::Export { csv, .. } => {
            if csv.as_os_str() == "-" {
                admin::cdr::write_csv(&records, &mut std::io::stdout().lock())?;
                return Ok(());
            }
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(&csv)
                    .with_context(|| format!("--csv: creating {}", csv.display()))?,
            );
            admin::cdr::write_csv(&records, &mut file)
                .with_context(|| format!("--csv: writing {}", csv.display()))?;
            let what = format!(
                "{} call records written to {}",
                records.len(),
                csv.display()
            );
            if json {
                print_json(
                    &serde_json::json!({ "ok": true, "result": what, "count": records.len() }),
                );
            } else {
                let _ = writeln!(std::io::stdout(), "{what}");
            }
        }
    }
    Ok(())
}

fn table_row(r: &CallRecord) -> Vec<String> {
    let dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    vec![
        admin::cdr::format_time(r.started_ms),
        r.caller.clone().unwrap_or_else(|| dash(&r.caller_from)),
        dash(&r.dialled),
        dash(&r.target),
        r.status.to_string(),
        r.duration_ms
            .map(|d| format!("{}.{:03}s", d / 1000, d % 1000))
            .unwrap_or_else(|| {
                if r.answered_ms.is_some() && r.ended_ms.is_none() {
                    "up".into()
                } else {
                    "-".into()
                }
            }),
        r.hangup.clone().unwrap_or_else(|| "-".into()),
    ]
}

/// A record for `--json`: the CSV's names, times as RFC 3339 UTC and Unix milliseconds.
fn record_json(r: &CallRecord) -> serde_json::Value {
    let t = |v: Option<u64>| v.map(admin::cdr::format_time);
    serde_json::json!({
        "id": r.id,
        "call_id": r.call_id,
        "caller": r.caller,
        "caller_from": r.caller_from,
        "dialled": r.dialled,
        "translated": r.translated,
        "target": r.target,
        "source": r.source,
        "gateway": r.gateway,
        "started": admin::cdr::format_time(r.started_ms),
        "started_ms": r.started_ms,
        "answered": t(r.answered_ms),
        "answered_ms": r.answered_ms,
        "ended": t(r.ended_ms),
        "ended_ms": r.ended_ms,
        "duration_ms": r.duration_ms,
        "status": r.status,
        "reason": r.reason,
        "hangup": r.hangup,
        "chain": r.chain.iter().map(|(c, t)| serde_json::json!({"cause": c, "target": t})).collect::<Vec<_>>(),
    })
}
