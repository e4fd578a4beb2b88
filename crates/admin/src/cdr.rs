//! Call records for people: the filter of `cdr list|export` read from what an operator
//! typed (times, status), listing through [`model::CdrStore`], and RFC 4180 CSV with UTC
//! times. The CLI prints what these return; the portal will call the same functions.
//!
//! This module owns the accepted time forms and the CSV layout (docs/cdr.md). It does not
//! build or store records (the server and `storage` do).

use std::io::{self, Write};

use model::{CallRecord, CdrFilter, CdrStore};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::AdminError;

/// The CSV header, one name per column, in [`csv_row`] order.
pub const CSV_COLUMNS: [&str; 17] = [
    "id",
    "call_id",
    "caller",
    "caller_from",
    "dialled",
    "translated",
    "target",
    "source",
    "gateway",
    "started",
    "answered",
    "ended",
    "duration_secs",
    "status",
    "reason",
    "hangup",
    "chain",
];

/// A time as typed: RFC 3339 (`2026-12-03T18:00:00Z`, any offset), a UTC date
/// (`2026-12-03`, its midnight) or Unix seconds. Unix milliseconds, or why not.
pub fn parse_time(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let at = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<u64>()
            .ok()
            .and_then(|secs| secs.checked_mul(1000))
    } else if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
    } else {
        OffsetDateTime::parse(&format!("{s}T00:00:00Z"), &Rfc3339)
            .ok()
            .and_then(|t| u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
    };
    at.ok_or_else(|| {
        format!("{s:?} is not a time (2026-12-03T18:00:00Z, 2026-12-03 or Unix seconds)")
    })
}

/// Unix milliseconds as RFC 3339 UTC, milliseconds shown when not zero:
/// `2026-12-03T18:00:00.250Z`.
pub fn format_time(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// The filter of `cdr list|export` from its options as typed; errors name the option.
pub fn cdr_filter(
    user: Option<&str>,
    since: Option<&str>,
    until: Option<&str>,
    status: Option<&str>,
) -> Result<CdrFilter, AdminError> {
    let time = |field: &'static str, v: Option<&str>| -> Result<Option<u64>, AdminError> {
        v.map(|v| {
            parse_time(v).map_err(|why| AdminError::invalid(field, format!("{field}: {why}")))
        })
        .transpose()
    };
    let since_ms = time("--since", since)?;
    let until_ms = time("--until", until)?;
    if let (Some(a), Some(b)) = (since_ms, until_ms) {
        if b <= a {
            return Err(AdminError::invalid(
                "--until",
                "--until: must be later than --since",
            ));
        }
    }
    let status = status
        .map(|s| match s.trim().parse::<u16>() {
            Ok(n) if (100..700).contains(&n) => Ok(n),
            _ => Err(AdminError::invalid(
                "--status",
                format!("--status: {s:?} is not a SIP status code (100-699)"),
            )),
        })
        .transpose()?;
    let user = user
        .map(|u| match u.split_once('@') {
            Some((name, domain)) if !name.is_empty() && !domain.is_empty() => {
                Ok(format!("{name}@{}", domain.to_ascii_lowercase()))
            }
            _ => Err(AdminError::invalid(
                "--user",
                format!("--user: {u:?} is not USER@DOMAIN"),
            )),
        })
        .transpose()?;
    Ok(CdrFilter {
        user,
        since_ms,
        until_ms,
        status,
        ..CdrFilter::default()
    })
}

/// Adds the aliases and DIDs of the filter's user (those in the user's own domain, at
/// most [`model::MAX_FILTER_ALIASES`]) to `filter`, so calls dialled to them, answered or
/// forwarded away, are listed as the user's.
pub async fn add_user_aliases(
    store: &dyn model::Store,
    filter: &mut CdrFilter,
) -> Result<(), AdminError> {
    let Some(user) = filter.user.as_deref() else {
        return Ok(());
    };
    let Some(domain) = user.split_once('@').map(|(_, d)| d) else {
        return Ok(());
    };
    filter.aliases = store
        .aliases(Some(domain))
        .await?
        .into_iter()
        .filter(|a| a.target.to_string() == user)
        .map(|a| a.alias.to_string())
        .take(model::MAX_FILTER_ALIASES)
        .collect();
    Ok(())
}

/// The records `filter` selects, oldest first.
pub async fn list_records(
    store: &dyn CdrStore,
    filter: &CdrFilter,
) -> Result<Vec<CallRecord>, AdminError> {
    store.records(filter).await.map_err(AdminError::from)
}

/// One record as CSV fields, in [`CSV_COLUMNS`] order (times RFC 3339 UTC, the duration
/// in seconds with milliseconds, empty for what is unknown).
pub fn csv_row(r: &CallRecord) -> [String; 17] {
    let t = |v: Option<u64>| v.map(format_time).unwrap_or_default();
    [
        r.id.clone(),
        r.call_id.clone(),
        r.caller.clone().unwrap_or_default(),
        r.caller_from.clone(),
        r.dialled.clone(),
        r.translated.clone(),
        r.target.clone(),
        r.source.clone(),
        r.gateway.clone().unwrap_or_default(),
        format_time(r.started_ms),
        t(r.answered_ms),
        t(r.ended_ms),
        r.duration_ms
            .map(|d| format!("{}.{:03}", d / 1000, d % 1000))
            .unwrap_or_default(),
        r.status.to_string(),
        r.reason.clone(),
        r.hangup.clone().unwrap_or_default(),
        r.chain_text(),
    ]
}

/// One CSV field (RFC 4180 §2): quoted when it holds a comma, a quote or a line break,
/// quotes doubled.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `records` as RFC 4180 CSV: a header line, then one line per record, CRLF line
/// ends.
pub fn write_csv(records: &[CallRecord], out: &mut dyn Write) -> io::Result<()> {
    writeln_crlf(out, &CSV_COLUMNS.join(","))?;
    for r in records {
        let line: Vec<String> = csv_row(r).iter().map(|f| field(f)).collect();
        writeln_crlf(out, &line.join(","))?;
    }
    out.flush()
}

fn writeln_crlf(out: &mut dyn Write, line: &str) -> io::Result<()> {
    out.write_all(line.as_bytes())?;
    out.write_all(b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_three_forms_and_back() {
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
        assert_eq!(
            parse_time("2023-11-14T23:13:20+01:00"),
            Ok(1_700_000_000_000)
        );
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("2023-11-14"), Ok(1_699_920_000_000));
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("2023-13-01").is_err());
        assert_eq!(format_time(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(format_time(1_700_000_000_250), "2023-11-14T22:13:20.25Z");
    }

    #[test]
    fn bad_options_are_named() {
        let e = cdr_filter(None, Some("soon"), None, None).unwrap_err();
        assert!(e.to_string().starts_with("--since: \"soon\""), "{e}");
        let e = cdr_filter(None, None, Some("x"), None).unwrap_err();
        assert!(e.to_string().starts_with("--until:"), "{e}");
        let e = cdr_filter(None, None, None, Some("99")).unwrap_err();
        assert!(e.to_string().starts_with("--status:"), "{e}");
        let e = cdr_filter(Some("bob"), None, None, None).unwrap_err();
        assert!(e.to_string().starts_with("--user:"), "{e}");
        let e = cdr_filter(None, Some("2023-11-15"), Some("2023-11-14"), None).unwrap_err();
        assert!(e.to_string().starts_with("--until:"), "{e}");
        let f = cdr_filter(Some("bob@Example.COM"), None, None, Some("486")).unwrap();
        assert_eq!(f.user.as_deref(), Some("bob@example.com"));
        assert_eq!(f.status, Some(486));
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let r = CallRecord {
            id: "r-1".into(),
            caller_from: "\"Alice, A.\" <sip:alice@example.com>".into(),
            started_ms: 1_700_000_000_000,
            duration_ms: Some(61_250),
            status: 200,
            chain: vec![
                ("busy".into(), "sip:carol@example.com".into()),
                ("no-answer".into(), "sip:vm@example.com".into()),
            ],
            ..CallRecord::default()
        };
        let mut out = Vec::new();
        write_csv(&[r], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert!(lines[0].starts_with("id,call_id,caller,"));
        assert!(
            lines[1].contains(",\"\"\"Alice, A.\"\" <sip:alice@example.com>\","),
            "{text}"
        );
        assert!(
            lines[1].contains(",2023-11-14T22:13:20Z,,,61.250,200,,,"),
            "{text}"
        );
        assert!(text.ends_with("\"busy sip:carol@example.com\nno-answer sip:vm@example.com\"\r\n"));
    }
}
