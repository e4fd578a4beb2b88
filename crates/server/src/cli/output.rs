//! Printing for the CLI: tables for people, JSON for scripts, errors to stderr.

use std::io::Write as _;

/// Prints an error line to stderr.
pub fn error(msg: &str) {
    let _ = writeln!(std::io::stderr(), "error: {msg}");
}

/// Prints an error for `--json`: `{"error": "..."}` on stdout (where scripts read the
/// answer), one line.
pub fn error_json(msg: &str) {
    print_json(&serde_json::json!({ "error": msg }));
}

/// An error whose JSON answer a command printed already (with more detail than
/// `{"error": ...}`); `main` only sets the exit status.
#[derive(Debug)]
pub struct AlreadyReported(pub String);

impl std::fmt::Display for AlreadyReported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AlreadyReported {}

/// Prints one JSON value on stdout.
pub fn print_json(v: &serde_json::Value) {
    let _ = writeln!(std::io::stdout(), "{v}");
}

/// Prints an aligned table on stdout.
pub fn print_table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.len());
        }
    }
    let mut out = std::io::stdout().lock();
    let line = |out: &mut std::io::StdoutLock<'_>, cells: Vec<String>| {
        let s: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:w$}", c, w = widths[i]))
            .collect();
        let _ = writeln!(out, "{}", s.join("  ").trim_end());
    };
    line(&mut out, headers.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(&mut out, r);
    }
}
