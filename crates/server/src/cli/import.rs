//! `switchboard user import FILE.csv`: many users at once.
//!
//! A UTF-8 byte-order mark at the start (as Excel writes it) is skipped.
//! Each line is `username,domain,password` or `username,domain,ha1_md5,ha1_sha256` (the
//! format is told by the number of fields, line by line). A header line (first field
//! `username`), blank lines and `#` comments are skipped; fields may be double-quoted
//! (`"a,b"`, `""` for a quote) and are trimmed.
//!
//! All or nothing for the file's content: every line is checked first (syntax, served
//! domain, duplicates in the file and in the store) and any error means nothing is written;
//! every error is reported with its line number and field. Then the users go in by batches
//! of [`BATCH`], each batch one transaction. Should the database fail midway (connection
//! lost, a user added concurrently), the batches already committed stay, and the command
//! says how many users were imported, up to which line, before exiting non-zero.

use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model::{AddressOfRecord, Store, Subscriber};
use storage::SqlStore;

use super::output::{error, print_json, AlreadyReported};
use admin::{check_aor, check_domain, check_password, subscriber_with_password};

use super::{friendly, notify};
use crate::config::Config;
use crate::control::Command;

/// Users per transaction.
pub const BATCH: usize = 500;

/// Errors printed one by one before the summary (they all go into `--json`).
const MAX_PRINTED: usize = 50;

/// One rejected line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the file.
    pub line: usize,
    /// The field at fault (`username`, `domain`, `password`, `ha1_md5`, `ha1_sha256`) or
    /// `line` for the line's shape.
    pub field: &'static str,
    /// What is wrong, starting with the field's name where there is one.
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A checked line, ready to insert.
#[derive(Debug, Clone)]
pub struct Row {
    /// Its line number.
    pub line: usize,
    /// The user with both HA1 hashes.
    pub subscriber: Subscriber,
}

/// Splits one CSV line into trimmed fields; `None` on an unterminated quote.
fn split_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            }
            '"' if cur.trim().is_empty() && !was_quoted => {
                cur.clear();
                quoted = true;
                was_quoted = true;
            }
            ',' if !quoted => {
                fields.push(finish(&cur, was_quoted));
                cur.clear();
                was_quoted = false;
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(finish(&cur, was_quoted));
    Some(fields)
}

/// A field's value: quoted fields keep their inner spaces (the text after the closing
/// quote, if any, is appended trimmed); unquoted ones are trimmed.
fn finish(s: &str, was_quoted: bool) -> String {
    if was_quoted {
        s.trim_end().to_string()
    } else {
        s.trim().to_string()
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks the file's text against the served domains, the users already in the store
/// (`existing`) and the aliases (`aliases`: a user may not take an alias's name), domains
/// lower-case. Returns the rows to insert, or every error found.
pub fn parse(
    text: &str,
    served: &HashSet<String>,
    existing: &HashSet<(String, String)>,
    aliases: &HashSet<(String, String)>,
) -> Result<Vec<Row>, Vec<LineError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut first_content = true;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let err = |field: &'static str, message: String| LineError {
            line,
            field,
            message,
        };
        let Some(fields) = split_fields(trimmed) else {
            errors.push(err("line", "unterminated double quote".into()));
            continue;
        };
        let header = first_content && fields[0].eq_ignore_ascii_case("username");
        first_content = false;
        if header {
            continue;
        }
        if fields.len() != 3 && fields.len() != 4 {
            errors.push(err(
                "line",
                format!(
                    "expected 3 fields (username,domain,password) or 4 \
                     (username,domain,ha1_md5,ha1_sha256), found {}",
                    fields.len()
                ),
            ));
            continue;
        }
        let (user, domain) = (&fields[0], &fields[1]);
        if user.is_empty() {
            errors.push(err("username", "username: must not be empty".into()));
            continue;
        }
        let domain = match check_domain(domain) {
            Ok(d) => d,
            Err(e) => {
                errors.push(err("domain", e.to_string()));
                continue;
            }
        };
        let aor = AddressOfRecord::new(user, &domain);
        if let Err(e) = check_aor("username", &aor) {
            errors.push(err("username", e.to_string()));
            continue;
        }
        if !served.contains(&domain) {
            errors.push(err("domain", format!("domain {domain:?} is not served")));
            continue;
        }
        let subscriber = if fields.len() == 3 {
            if let Err(e) = check_password(&fields[2]) {
                errors.push(err("password", e.to_string()));
                continue;
            }
            subscriber_with_password(&aor, &fields[2])
        } else {
            let (md5, sha) = (&fields[2], &fields[3]);
            if !is_hex(md5, 32) {
                errors.push(err(
                    "ha1_md5",
                    "ha1_md5: must be 32 hexadecimal digits".into(),
                ));
                continue;
            }
            if !is_hex(sha, 64) {
                errors.push(err(
                    "ha1_sha256",
                    "ha1_sha256: must be 64 hexadecimal digits".into(),
                ));
                continue;
            }
            Subscriber {
                aor: aor.clone(),
                ha1_md5: md5.to_ascii_lowercase(),
                ha1_sha256: sha.to_ascii_lowercase(),
            }
        };
        let key = (aor.user.clone(), domain.clone());
        if let Some(first) = seen.get(&key) {
            errors.push(err(
                "username",
                format!("username: {aor} already appears on line {first}"),
            ));
            continue;
        }
        if existing.contains(&key) {
            errors.push(err("username", format!("username: {aor} already exists")));
            continue;
        }
        if aliases.contains(&key) {
            errors.push(err(
                "username",
                format!("username: {aor} is an alias (a user cannot take an alias's name)"),
            ));
            continue;
        }
        seen.insert(key, line);
        rows.push(Row { line, subscriber });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

fn progress(len: usize) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} users  {per_sec}  eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

fn summary(
    json: bool,
    file: &Path,
    imported: usize,
    total: usize,
    errors: &[LineError],
    failure: Option<&str>,
) {
    if !json {
        return;
    }
    print_json(&serde_json::json!({
        "ok": errors.is_empty() && failure.is_none(),
        "file": file.display().to_string(),
        "users": total,
        "imported": imported,
        "errors": errors.iter().map(|e| serde_json::json!({
            "line": e.line, "field": e.field, "message": e.to_string(),
        })).collect::<Vec<_>>(),
        "database_error": failure,
    }));
}

/// `user import FILE`
pub async fn run(cfg: &Config, store: &SqlStore, file: &Path, json: bool) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let served: HashSet<String> = store
        .domains()
        .await
        .map_err(friendly)?
        .into_iter()
        .map(|d| d.to_ascii_lowercase())
        .collect();
    let existing: HashSet<(String, String)> = store
        .subscribers(None)
        .await
        .map_err(friendly)?
        .into_iter()
        .map(|s| (s.aor.user, s.aor.domain.to_ascii_lowercase()))
        .collect();
    let aliases: HashSet<(String, String)> = store
        .aliases(None)
        .await
        .map_err(friendly)?
        .into_iter()
        .map(|a| (a.alias.user, a.alias.domain.to_ascii_lowercase()))
        .collect();
    let rows = match parse(&text, &served, &existing, &aliases) {
        Ok(rows) => rows,
        Err(errors) => {
            for e in errors.iter().take(MAX_PRINTED) {
                error(&e.to_string());
            }
            if errors.len() > MAX_PRINTED {
                error(&format!("... and {} more", errors.len() - MAX_PRINTED));
            }
            let msg = format!(
                "{} error(s) in {}; nothing imported",
                errors.len(),
                file.display()
            );
            if json {
                summary(json, file, 0, 0, &errors, None);
                return Err(AlreadyReported(msg).into());
            }
            bail!(msg);
        }
    };
    let bar = progress(rows.len());
    let mut imported = 0;
    let mut failure = None;
    for chunk in rows.chunks(BATCH) {
        let subs: Vec<Subscriber> = chunk.iter().map(|r| r.subscriber.clone()).collect();
        match store.add_subscribers(&subs).await {
            Ok(_) => {
                imported += chunk.len();
                bar.inc(chunk.len() as u64);
            }
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        }
    }
    bar.finish_and_clear();
    if imported > 0 {
        notify(cfg, Command::Reload).await;
    }
    summary(json, file, imported, rows.len(), &[], failure.as_deref());
    if let Some(f) = failure {
        let upto = imported
            .checked_sub(1)
            .and_then(|i| rows.get(i))
            .map_or_else(|| "none".to_string(), |r| format!("line {}", r.line));
        bail!(
            "database error after {imported} of {} users were imported (up to {upto}): {f}; \
             the rest was not imported",
            rows.len()
        );
    }
    if !json {
        let _ = writeln!(
            std::io::stdout(),
            "{imported} user(s) imported from {}",
            file.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn served() -> HashSet<String> {
        ["example.com".to_string()].into_iter().collect()
    }

    #[test]
    fn both_formats_header_comments_and_quotes() {
        let text = "username,domain,password\n# a comment\n\nalice,example.com,secret\n\
                    bob , EXAMPLE.com , \"p,w \"\"x\"\"\"\n\
                    carol,example.com,0123456789abcdef0123456789ABCDEF,\
                    0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
        let rows = parse(text, &served(), &HashSet::new(), &HashSet::new()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].line, 4);
        assert_eq!(
            rows[1].subscriber.aor,
            AddressOfRecord::new("bob", "example.com")
        );
        let expected = subscriber_with_password(&rows[1].subscriber.aor, "p,w \"x\"");
        assert_eq!(rows[1].subscriber.ha1_md5, expected.ha1_md5);
        assert_eq!(
            rows[2].subscriber.ha1_md5,
            "0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn errors_name_line_and_field() {
        let existing = [("dave".to_string(), "example.com".to_string())]
            .into_iter()
            .collect();
        let text = "alice,example.com,secret\n\
                    bob,example.com,\n\
                    carol,x,secret\n\
                    alice,example.com,other\n\
                    dave,example.com,secret\n\
                    eve,example.com\n\
                    fred,example.com,abc,def\n\
                    g h,example.com,secret\n";
        let errors = parse(text, &served(), &existing, &HashSet::new()).unwrap_err();
        let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "line 2: password: must not be empty",
                "line 3: domain \"x\" is not served",
                "line 4: username: alice@example.com already appears on line 1",
                "line 5: username: dave@example.com already exists",
                "line 6: expected 3 fields (username,domain,password) or 4 \
                 (username,domain,ha1_md5,ha1_sha256), found 2",
                "line 7: ha1_md5: must be 32 hexadecimal digits",
                "line 8: username \"g h\": ' ' is not allowed in a SIP user part",
            ]
        );
        assert_eq!(errors[1].field, "domain");
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_aliases_are_refused() {
        let text = "\u{feff}username,domain,password\nalice,example.com,secret\n";
        let rows = parse(text, &served(), &HashSet::new(), &HashSet::new()).unwrap();
        assert_eq!(rows.len(), 1);
        let aliases = [("15551234".to_string(), "example.com".to_string())]
            .into_iter()
            .collect();
        let errors = parse(
            "15551234,example.com,pw\n",
            &served(),
            &HashSet::new(),
            &aliases,
        )
        .unwrap_err();
        assert_eq!(errors[0].field, "username");
        assert!(errors[0].message.contains("is an alias"), "{}", errors[0]);
    }
}
