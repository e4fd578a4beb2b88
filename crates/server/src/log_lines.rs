//! Prints the operator lines of `proxy::oplog` into the log buffer in exactly the layouts
//! `tracing-subscriber` gives them (text: `TIMESTAMP  INFO switchboard: message k=v ...`;
//! JSON: `{"timestamp":..,"level":..,"fields":{"message":..,..},"target":..}`), at a
//! fraction of its cost: no per-event visitor, no dynamic dispatch per field, one
//! thread-local buffer. The buffer, the writer thread and the filter stay in `logs.rs`;
//! which lines exist and their fields stay in `oplog.rs`.

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use proxy::oplog::{Line, Value, TARGET};
use sip_message::digits::push_decimal;
use tracing::Level;

/// The two layouts of `[server] log_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `tracing-subscriber`'s full text format, without colours.
    Text,
    /// `tracing-subscriber`'s JSON format.
    Json,
}

/// Appends `line`, stamped `now`, with its newline.
pub(crate) fn format_line(layout: Layout, now: SystemTime, line: &Line<'_>, out: &mut String) {
    let level = if line.level == Level::WARN {
        "WARN"
    } else if line.level == Level::ERROR {
        "ERROR"
    } else {
        "INFO"
    };
    match layout {
        Layout::Text => {
            timestamp(now, out);
            // `{level:>5}`: the names are 4 or 5 letters.
            out.push_str(if level.len() == 4 { "  " } else { " " });
            out.push_str(level);
            out.push(' ');
            out.push_str(TARGET);
            out.push_str(": ");
            out.push_str(line.message);
            for (name, value) in line.fields {
                out.push(' ');
                out.push_str(name);
                out.push('=');
                match value {
                    Value::Text(v) => {
                        let _ = write!(out, "{v}");
                    }
                    Value::Number(n) => push_decimal(out, *n),
                }
            }
        }
        Layout::Json => {
            out.push_str("{\"timestamp\":\"");
            timestamp(now, out);
            let _ = write!(out, "\",\"level\":\"{level}\",\"fields\":{{\"message\":\"");
            let _ = JsonEscaped(out).write_str(line.message);
            out.push('"');
            for (name, value) in line.fields {
                out.push_str(",\"");
                out.push_str(name);
                out.push_str("\":");
                match value {
                    Value::Text(v) => {
                        out.push('"');
                        let _ = write!(JsonEscaped(out), "{v}");
                        out.push('"');
                    }
                    Value::Number(n) => push_decimal(out, *n),
                }
            }
            let _ = write!(out, "}},\"target\":\"{TARGET}\"}}");
        }
    }
    out.push('\n');
}

/// `2026-12-03T15:56:03.600250Z` (UTC, microseconds), as `tracing-subscriber` prints it.
fn timestamp(now: SystemTime, out: &mut String) {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    // By hand: `write!` with six padded numbers cost about 2,000 instructions a line.
    padded(out, y.max(0) as u64, 4);
    out.push('-');
    padded(out, u64::from(m), 2);
    out.push('-');
    padded(out, u64::from(day), 2);
    out.push('T');
    padded(out, s / 3600, 2);
    out.push(':');
    padded(out, s / 60 % 60, 2);
    out.push(':');
    padded(out, s % 60, 2);
    out.push('.');
    padded(out, u64::from(d.subsec_micros()), 6);
    out.push('Z');
}

/// Appends `n` in decimal with leading zeros up to `width` digits (`{n:0width$}`).
fn padded(out: &mut String, n: u64, width: usize) {
    let start = out.len();
    push_decimal(out, n);
    for _ in out.len() - start..width {
        out.insert(start, '0');
    }
}

/// Year, month, day of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Writes text escaped for a JSON string, as `serde_json` escapes it.
struct JsonEscaped<'a>(&'a mut String);

impl fmt::Write for JsonEscaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '"' => self.0.push_str("\\\""),
                '\\' => self.0.push_str("\\\\"),
                '\n' => self.0.push_str("\\n"),
                '\r' => self.0.push_str("\\r"),
                '\t' => self.0.push_str("\\t"),
                '\u{8}' => self.0.push_str("\\b"),
                '\u{c}' => self.0.push_str("\\f"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.0, "\\u{:04x}", c as u32);
                }
                c => self.0.push(c),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::Write;
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use proxy::oplog::{self, Hangup};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `tracing-subscriber` prints for `log()` (no line writer is installed in this
    /// test binary, so oplog goes through `tracing`), timestamps cut off.
    fn through_tracing(json: bool, log: impl Fn()) -> Vec<String> {
        let cap = Captured::default();
        let w = cap.clone();
        let b = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || w.clone());
        if json {
            tracing::subscriber::with_default(b.json().finish(), log);
        } else {
            tracing::subscriber::with_default(b.finish(), log);
        }
        let text = String::from_utf8(cap.0.lock().unwrap().clone()).unwrap();
        text.lines().map(without_timestamp).collect()
    }

    fn without_timestamp(l: &str) -> String {
        match l.find("Z ").or_else(|| l.find("Z\"")) {
            Some(i) => {
                let start = if l.starts_with('{') { 14 } else { 0 };
                format!("{}{}", &l[..start], &l[i + 1..])
            }
            None => l.to_string(),
        }
    }

    fn ours(layout: Layout, line: &Line<'_>) -> String {
        let mut s = String::new();
        format_line(layout, SystemTime::now(), line, &mut s);
        without_timestamp(s.trim_end())
    }

    #[test]
    fn lines_are_those_tracing_subscriber_prints() {
        let src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
        let aor = "alice@example.com";
        for (layout, json) in [(Layout::Text, false), (Layout::Json, true)] {
            let theirs = through_tracing(json, || {
                oplog::registration(
                    oplog::RegistrationAction::New,
                    &aor,
                    "sip:a\\b\"c@x",
                    &"udp:192.0.2.7:5060",
                    3600,
                );
                oplog::call_result("c 1", "sip:a@x", "sip:b@x", 486);
                oplog::call_ended("c1", 6.04, Hangup::Caller);
                oplog::auth_failure("bob", src, oplog::AuthFailure::WrongPassword);
                oplog::ban("source", Some(&src), None, 300, "auth-failures");
            });
            let contact = oplog::NoSpaces("sip:a\\b\"c@x");
            let c = oplog::NoSpaces("c 1");
            let expect = [
                Line {
                    level: Level::INFO,
                    message: "registration",
                    fields: &[
                        ("action", Value::Text(&"new")),
                        ("aor", Value::Text(&aor)),
                        ("contact", Value::Text(&contact)),
                        ("source", Value::Text(&"udp:192.0.2.7:5060")),
                        ("expires", Value::Number(3600)),
                    ],
                },
                Line {
                    level: Level::INFO,
                    message: "call failed",
                    fields: &[
                        ("call_id", Value::Text(&c)),
                        ("from", Value::Text(&"sip:a@x")),
                        ("to", Value::Text(&"sip:b@x")),
                        ("status", Value::Number(486)),
                    ],
                },
                Line {
                    level: Level::INFO,
                    message: "call ended",
                    fields: &[
                        ("call_id", Value::Text(&"c1")),
                        ("duration", Value::Text(&"6.0")),
                        ("hangup", Value::Text(&"caller")),
                    ],
                },
                Line {
                    level: Level::WARN,
                    message: "auth failure",
                    fields: &[
                        ("user", Value::Text(&"bob")),
                        ("source", Value::Text(&src)),
                        ("reason", Value::Text(&"wrong-password")),
                    ],
                },
                Line {
                    level: Level::WARN,
                    message: "ban",
                    fields: &[
                        ("kind", Value::Text(&"source")),
                        ("source", Value::Text(&src)),
                        ("user", Value::Text(&"-")),
                        ("secs", Value::Number(300)),
                        ("reason", Value::Text(&"auth-failures")),
                    ],
                },
            ];
            let mine: Vec<String> = expect.iter().map(|l| ours(layout, l)).collect();
            assert_eq!(mine, theirs, "{layout:?}");
        }
    }

    #[test]
    fn timestamps_are_utc_rfc3339_with_microseconds() {
        let mut s = String::new();
        timestamp(
            UNIX_EPOCH + Duration::new(1_764_777_363, 600_250_999),
            &mut s,
        );
        assert_eq!(s, "2025-12-03T15:56:03.600250Z");
        s.clear();
        timestamp(UNIX_EPOCH + Duration::new(951_782_400, 0), &mut s);
        assert_eq!(s, "2000-02-29T00:00:00.000000Z");
        s.clear();
        timestamp(UNIX_EPOCH, &mut s);
        assert_eq!(s, "1970-01-01T00:00:00.000000Z");
    }
}
