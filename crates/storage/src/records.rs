//! The `call_records` table: call records (CDRs), upserted by id in batches (an answered
//! call's row is written at the answer and again at its end), listed by filter, and
//! deleted past their retention.
//!
//! What a record means is `model`'s ([`CallRecord`]); building them is the server's. Text
//! longer than its column is cut at the column's length (a Call-ID or URI from a phone may
//! be longer than any sane one), never refused: a call record is never lost for it.

use std::borrow::Cow;
use std::collections::HashSet;

use futures_util::TryStreamExt;
use model::{CallRecord, CdrFilter, StoreError};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::db::{backend_err, text, time_arg, Arg, BATCH_ROWS};
use crate::dialect::values;
use crate::SqlStore;

/// The columns, in [`record_args`] and [`decode_record`] order, with their length limits
/// (text columns; 0 for others), as in `migrations/*/0002_cdr.sql`.
const COLUMNS: [(&str, usize); 17] = [
    ("id", 64),
    ("call_id", 255),
    ("caller", 512),
    ("caller_from", 512),
    ("dialled", 512),
    ("translated", 512),
    ("target", 512),
    ("source", 128),
    ("gateway", 255),
    ("started_ms", 0),
    ("answered_ms", 0),
    ("ended_ms", 0),
    ("duration_ms", 0),
    ("status", 0),
    ("reason", 255),
    ("hangup", 16),
    ("chain", 0),
];

/// `s` cut to at most `max` characters (0: no limit).
fn cut(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        Some((at, _)) if max > 0 => Cow::Owned(s[..at].to_string()),
        _ => Cow::Borrowed(s),
    }
}

fn opt_time(t: Option<u64>) -> Arg<'static> {
    Arg::OptInt(t.map(time_arg))
}

/// The parameters of one row, in [`COLUMNS`] order.
fn record_args(r: &CallRecord) -> Vec<Arg<'_>> {
    fn s(i: usize, v: &str) -> Arg<'_> {
        Arg::Str(cut(v, COLUMNS[i].1))
    }
    fn o(i: usize, v: &Option<String>) -> Arg<'_> {
        Arg::OptStr(v.as_deref().map(|v| cut(v, COLUMNS[i].1)))
    }
    vec![
        s(0, &r.id),
        s(1, &r.call_id),
        o(2, &r.caller),
        s(3, &r.caller_from),
        s(4, &r.dialled),
        s(5, &r.translated),
        s(6, &r.target),
        s(7, &r.source),
        o(8, &r.gateway),
        Arg::Int(time_arg(r.started_ms)),
        opt_time(r.answered_ms),
        opt_time(r.ended_ms),
        opt_time(r.duration_ms),
        Arg::Small(i32::from(r.status)),
        s(14, &r.reason),
        o(15, &r.hangup),
        Arg::Str(Cow::Owned(r.chain_text())),
    ]
}

fn decode_record<'r, R>(r: &'r R) -> Result<CallRecord, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
{
    let time = |i: usize| -> Result<Option<u64>, sqlx::Error> {
        let v: Option<i64> = r.try_get(i)?;
        Ok(v.map(|v| u64::try_from(v).unwrap_or(0)))
    };
    // Unchecked for the same reason as `text`: MySQL's binary collation.
    let opt = |i: usize| -> Result<Option<String>, sqlx::Error> { r.try_get_unchecked(i) };
    Ok(CallRecord {
        id: text(r, 0)?,
        call_id: text(r, 1)?,
        caller: opt(2)?,
        caller_from: text(r, 3)?,
        dialled: text(r, 4)?,
        translated: text(r, 5)?,
        target: text(r, 6)?,
        source: text(r, 7)?,
        gateway: opt(8)?,
        started_ms: time(9)?.unwrap_or(0),
        answered_ms: time(10)?,
        ended_ms: time(11)?,
        duration_ms: time(12)?,
        status: u16::try_from(r.try_get::<i32, _>(13)?).unwrap_or(0),
        reason: text(r, 14)?,
        hangup: opt(15)?,
        chain: CallRecord::parse_chain(&text(r, 16)?),
    })
}

fn names() -> String {
    COLUMNS.map(|c| c.0).join(", ")
}

impl SqlStore {
    /// The upsert of `rows` records, in this backend's dialect.
    fn record_upsert_sql(&self, rows: usize) -> Cow<'static, str> {
        let backend = self.backend();
        let update: Vec<&str> = COLUMNS[1..].iter().map(|c| c.0).collect();
        let sql = format!(
            "INSERT INTO call_records ({}) VALUES {} {}",
            names(),
            values(COLUMNS.len(), rows),
            backend.upsert(&["id"], &update)
        );
        Cow::Owned(backend.placeholders(&sql).into_owned())
    }
}

pub(crate) async fn save(s: &SqlStore, records: &[CallRecord]) -> Result<(), StoreError> {
    // One row per id and statement (PostgreSQL refuses to upsert a row twice in one): the
    // last version of a record wins.
    let mut seen = HashSet::new();
    let mut rows: Vec<Vec<Arg<'_>>> = Vec::with_capacity(records.len());
    for r in records.iter().rev() {
        if seen.insert(r.id.as_str()) {
            rows.push(record_args(r));
        }
    }
    rows.reverse();
    let stmts = rows
        .chunks(BATCH_ROWS / 2)
        .map(|chunk| {
            (
                s.record_upsert_sql(chunk.len()),
                chunk.iter().flatten().collect(),
            )
        })
        .collect::<Vec<_>>();
    s.transaction(&stmts, false).await.map_err(backend_err)?;
    Ok(())
}

pub(crate) async fn list(s: &SqlStore, f: &CdrFilter) -> Result<Vec<CallRecord>, StoreError> {
    let mut conds: Vec<String> = Vec::new();
    let mut args: Vec<Arg<'_>> = Vec::new();
    if let Some(u) = &f.user {
        let mut alts = vec!["caller = ? OR target = ? OR dialled = ?".to_string()];
        let uri = format!("sip:{u}");
        args.push(Arg::Str(Cow::Borrowed(u)));
        args.push(Arg::Str(Cow::Owned(uri.clone())));
        args.push(Arg::Str(Cow::Owned(uri)));
        // A call dialled to one of the user's aliases is theirs, wherever it went.
        for a in f.aliases.iter().take(model::MAX_FILTER_ALIASES) {
            alts.push("dialled = ?".into());
            args.push(Arg::Str(Cow::Owned(format!("sip:{a}"))));
        }
        conds.push(format!("({})", alts.join(" OR ")));
    }
    if let Some(t) = f.since_ms {
        conds.push("started_ms >= ?".into());
        args.push(Arg::Int(time_arg(t)));
    }
    if let Some(t) = f.until_ms {
        conds.push("started_ms < ?".into());
        args.push(Arg::Int(time_arg(t)));
    }
    if let Some(st) = f.status {
        conds.push("status = ?".into());
        args.push(Arg::Small(i32::from(st)));
    }
    if let Some(domains) = &f.domains {
        // A caller of the domain, or a dialled or final target in it (`sip:u@d`, with
        // parameters or a port); none at all for an empty list.
        let mut alts = vec!["1 = 0".to_string()];
        for d in domains {
            let d = d.to_ascii_lowercase();
            alts.push("caller LIKE ?".into());
            args.push(Arg::Str(Cow::Owned(format!("%@{d}"))));
            for col in ["dialled", "target"] {
                for tail in ["", ";%", ":%"] {
                    alts.push(format!("{col} LIKE ?"));
                    args.push(Arg::Str(Cow::Owned(format!("%@{d}{tail}"))));
                }
            }
        }
        conds.push(format!("({})", alts.join(" OR ")));
    }
    if let Some((ms, id)) = &f.before {
        conds.push("(started_ms < ? OR (started_ms = ? AND id < ?))".into());
        args.push(Arg::Int(time_arg(*ms)));
        args.push(Arg::Int(time_arg(*ms)));
        args.push(Arg::Str(Cow::Borrowed(id)));
    }
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    // The newest `limit`, listed oldest first.
    let sql = match f.limit {
        Some(n) => format!(
            "SELECT * FROM (SELECT {} FROM call_records{filter} ORDER BY started_ms DESC, id DESC LIMIT {n}) AS newest ORDER BY started_ms, id",
            names()
        ),
        None => format!(
            "SELECT {} FROM call_records{filter} ORDER BY started_ms, id",
            names()
        ),
    };
    let sql = s.sql(&sql);
    with_pool!(&s.pool, p => {
        bound!(&sql, args)
            .fetch(p)
            .and_then(|r| std::future::ready(decode_record(&r)))
            .try_collect()
            .await
    })
    .map_err(backend_err)
}

pub(crate) async fn delete_before(s: &SqlStore, before_ms: u64) -> Result<u64, StoreError> {
    s.execute(
        "DELETE FROM call_records WHERE started_ms < ?",
        &[Arg::Int(time_arg(before_ms))],
    )
    .await
    .map_err(backend_err)
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn long_text_is_cut_at_a_character() {
        assert_eq!(cut("abc", 2), "ab");
        assert_eq!(cut("äöü", 2), "äö");
        assert_eq!(cut("abc", 5), "abc");
        assert_eq!(cut("abc", 0), "abc");
    }
}
