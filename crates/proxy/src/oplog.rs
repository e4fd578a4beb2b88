//! Operator log lines: one line per registration change, call, authentication failure,
//! ban and unban, in a stable format that people read and fail2ban matches.
//!
//! Every line has the target `switchboard`, a fixed message (the event) and `key=value`
//! fields whose values never contain spaces (text from a phone goes through [`NoSpaces`];
//! a `source` is an address the server formats itself), so the text format reads
//!
//! ```text
//! 2026-12-03T15:41:36.123456Z  INFO switchboard: registration action=new aor=alice@example.com contact=sip:alice@192.0.2.7:5060 source=udp:192.0.2.7:5060 expires=3600
//! 2026-12-03T15:41:40.000000Z  WARN switchboard: auth failure user=alice@example.com source=192.0.2.7 reason=wrong-password
//! 2026-12-03T15:41:41.000000Z  WARN switchboard: ban kind=source source=192.0.2.7 secs=300 reason=auth-failures
//! ```
//!
//! and the JSON format carries the same names in `fields`. The format is documented in
//! `docs/logging.md`; changing a message or a field name breaks operators' filters, so
//! add fields rather than rename them. Nothing here decides anything: callers log what
//! they did.
//!
//! The server installs a [`LineWriter`] ([`set_line_writer`]) that prints these lines
//! straight into its log buffer in the same format: `tracing-subscriber`'s formatter cost
//! tens of microseconds per line, several lines per call. Without one (tests, other
//! programs), when debug spans are on (they prefix lines with their context) or when the
//! writer declines (colours on a terminal), the lines go through `tracing` as before.

use std::fmt;
use std::net::IpAddr;
use std::sync::OnceLock;

use tracing::level_filters::LevelFilter;
use tracing::Level;

/// The log target of every operator line.
pub const TARGET: &str = "switchboard";

/// A field value of an operator line.
#[derive(Clone, Copy)]
pub enum Value<'a> {
    /// Text, printed as displayed (a string in JSON).
    Text(&'a dyn fmt::Display),
    /// A number (a number in JSON).
    Number(u64),
}

/// One operator line, as handed to the [`LineWriter`].
pub struct Line<'a> {
    /// INFO or WARN.
    pub level: Level,
    /// The event: `registration`, `call setup`, ...
    pub message: &'a str,
    /// The `key=value` fields, in order.
    pub fields: &'a [(&'static str, Value<'a>)],
}

/// Prints an operator line in the server's log format; returns false to leave the line to
/// `tracing` instead.
pub type LineWriter = Box<dyn Fn(&Line<'_>) -> bool + Send + Sync>;

static WRITER: OnceLock<LineWriter> = OnceLock::new();

/// Installs the writer of operator lines, once per process (false if one was installed).
pub fn set_line_writer(writer: LineWriter) -> bool {
    WRITER.set(writer).is_ok()
}

/// Writes the line through the installed writer when the filter lets it through; false when
/// `tracing` must format it (no writer, debug spans on, or the writer declined).
fn emit(level: Level, message: &str, fields: &[(&'static str, Value<'_>)]) -> bool {
    let Some(writer) = WRITER.get() else {
        return false;
    };
    if LevelFilter::current() >= LevelFilter::DEBUG {
        return false;
    }
    let enabled = if level == Level::WARN {
        tracing::enabled!(target: TARGET, Level::WARN)
    } else {
        tracing::enabled!(target: TARGET, Level::INFO)
    };
    if !enabled {
        return true;
    }
    writer(&Line {
        level,
        message,
        fields,
    })
}

/// What happened to a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationAction {
    /// A contact registered that was not bound before.
    New,
    /// A bound contact registered again.
    Refreshed,
    /// The phone removed its contact (Expires: 0, `Contact: *`) or an admin did.
    Removed,
    /// The binding expired without a refresh.
    Expired,
}

impl RegistrationAction {
    /// The `action=` value.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationAction::New => "new",
            RegistrationAction::Refreshed => "refreshed",
            RegistrationAction::Removed => "removed",
            RegistrationAction::Expired => "expired",
        }
    }
}

/// `registration action=... aor=... contact=... source=... expires=...`
pub fn registration(
    action: RegistrationAction,
    aor: &dyn fmt::Display,
    contact: &str,
    source: &dyn fmt::Display,
    expires: u64,
) {
    let contact = NoSpaces(contact);
    let fields = [
        ("action", Value::Text(&action.as_str())),
        ("aor", Value::Text(aor)),
        ("contact", Value::Text(&contact)),
        ("source", Value::Text(source)),
        ("expires", Value::Number(expires)),
    ];
    if emit(Level::INFO, "registration", &fields) {
        return;
    }
    tracing::info!(
        target: TARGET,
        action = %action.as_str(),
        aor = %aor,
        contact = %contact,
        source = %source,
        expires,
        "registration"
    );
}

/// `call setup call_id=... from=... to=... source=...`: a new INVITE was accepted for
/// routing (after authentication).
pub fn call_setup(call_id: &str, from: &str, to: &str, source: &dyn fmt::Display) {
    let (c, f, t) = (NoSpaces(call_id), NoSpaces(from), NoSpaces(to));
    let fields = [
        ("call_id", Value::Text(&c)),
        ("from", Value::Text(&f)),
        ("to", Value::Text(&t)),
        ("source", Value::Text(source)),
    ];
    if emit(Level::INFO, "call setup", &fields) {
        return;
    }
    tracing::info!(
        target: TARGET,
        call_id = %NoSpaces(call_id),
        from = %NoSpaces(from),
        to = %NoSpaces(to),
        source = %source,
        "call setup"
    );
}

/// `call answered|failed call_id=... status=...`: the final answer sent to the caller.
pub fn call_result(call_id: &str, from: &str, to: &str, status: u16) {
    let what = if (200..300).contains(&status) {
        "call answered"
    } else {
        "call failed"
    };
    let (c, f, t) = (NoSpaces(call_id), NoSpaces(from), NoSpaces(to));
    let fields = [
        ("call_id", Value::Text(&c)),
        ("from", Value::Text(&f)),
        ("to", Value::Text(&t)),
        ("status", Value::Number(u64::from(status))),
    ];
    if emit(Level::INFO, what, &fields) {
        return;
    }
    tracing::info!(
        target: TARGET,
        call_id = %NoSpaces(call_id),
        from = %NoSpaces(from),
        to = %NoSpaces(to),
        status,
        "{what}"
    );
}

/// Who ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hangup {
    /// The party that placed the call sent BYE.
    Caller,
    /// The called party sent BYE.
    Callee,
    /// Nobody was heard from: the dialog's lifetime ran out.
    Timeout,
    /// The server gave the call up (its table of calls was full).
    Server,
}

impl Hangup {
    /// The value named `name` ([`Hangup::as_str`]).
    pub fn parse(name: &str) -> Option<Hangup> {
        [
            Hangup::Caller,
            Hangup::Callee,
            Hangup::Timeout,
            Hangup::Server,
        ]
        .into_iter()
        .find(|h| h.as_str() == name)
    }

    /// The `hangup=` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Hangup::Caller => "caller",
            Hangup::Callee => "callee",
            Hangup::Timeout => "timeout",
            Hangup::Server => "server",
        }
    }
}

/// `call ended call_id=... duration=SECONDS hangup=caller|callee|timeout|server`
pub fn call_ended(call_id: &str, duration_secs: f64, hangup: Hangup) {
    let c = NoSpaces(call_id);
    let duration = OneDecimal(duration_secs);
    let fields = [
        ("call_id", Value::Text(&c)),
        ("duration", Value::Text(&duration)),
        ("hangup", Value::Text(&hangup.as_str())),
    ];
    if emit(Level::INFO, "call ended", &fields) {
        return;
    }
    tracing::info!(
        target: TARGET,
        call_id = %NoSpaces(call_id),
        duration = %format_args!("{duration_secs:.1}"),
        hangup = %hangup.as_str(),
        "call ended"
    );
}

/// Why an authentication attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Credentials for a user that exists, with the wrong response.
    WrongPassword,
    /// Credentials for a user that does not exist (logged, never answered differently).
    UnknownUser,
    /// Credentials that do not parse or do not match the challenge (realm, URI, algorithm).
    BadCredentials,
    /// A nonce or nonce count seen before.
    Replay,
    /// The user or source is banned for earlier failures.
    Banned,
    /// Authenticated, but From/To names somebody else.
    IdentityMismatch,
    /// The account is disabled by an admin.
    Disabled,
}

impl AuthFailure {
    /// The `reason=` value.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::WrongPassword => "wrong-password",
            AuthFailure::UnknownUser => "unknown-user",
            AuthFailure::BadCredentials => "bad-credentials",
            AuthFailure::Replay => "replay",
            AuthFailure::Banned => "banned",
            AuthFailure::IdentityMismatch => "identity-mismatch",
            AuthFailure::Disabled => "disabled",
        }
    }
}

/// `auth failure user=... source=IP reason=...`. fail2ban's filter matches this line.
pub fn auth_failure(user: &str, source: IpAddr, reason: AuthFailure) {
    let u = NoSpaces(user);
    let fields = [
        ("user", Value::Text(&u)),
        ("source", Value::Text(&source)),
        ("reason", Value::Text(&reason.as_str())),
    ];
    if emit(Level::WARN, "auth failure", &fields) {
        return;
    }
    tracing::warn!(
        target: TARGET,
        user = %NoSpaces(user),
        source = %source,
        // Displayed, not debugged: `reason=wrong-password`, no quotes (fail2ban).
        reason = %reason.as_str(),
        "auth failure"
    );
}

/// `ban kind=... source=... user=... secs=... reason=...` (`source`/`user` are `-` when
/// the ban is not about one). fail2ban's filter matches this line too.
pub fn ban(
    kind: &str,
    source: Option<&dyn fmt::Display>,
    user: Option<&str>,
    secs: u64,
    reason: &str,
) {
    let (k, src, u, r) = (
        NoSpaces(kind),
        Dash(source),
        NoSpaces(user.unwrap_or("-")),
        NoSpaces(reason),
    );
    let fields = [
        ("kind", Value::Text(&k)),
        ("source", Value::Text(&src)),
        ("user", Value::Text(&u)),
        ("secs", Value::Number(secs)),
        ("reason", Value::Text(&r)),
    ];
    if emit(Level::WARN, "ban", &fields) {
        return;
    }
    tracing::warn!(
        target: TARGET,
        kind = %NoSpaces(kind),
        source = %Dash(source),
        user = %NoSpaces(user.unwrap_or("-")),
        secs,
        reason = %NoSpaces(reason),
        "ban"
    );
}

/// `unban kind=... source=... user=... reason=expired|admin`
pub fn unban(kind: &str, source: Option<&dyn fmt::Display>, user: Option<&str>, reason: &str) {
    let (k, src, u, r) = (
        NoSpaces(kind),
        Dash(source),
        NoSpaces(user.unwrap_or("-")),
        NoSpaces(reason),
    );
    let fields = [
        ("kind", Value::Text(&k)),
        ("source", Value::Text(&src)),
        ("user", Value::Text(&u)),
        ("reason", Value::Text(&r)),
    ];
    if emit(Level::INFO, "unban", &fields) {
        return;
    }
    tracing::info!(
        target: TARGET,
        kind = %NoSpaces(kind),
        source = %Dash(source),
        user = %NoSpaces(user.unwrap_or("-")),
        reason = %NoSpaces(reason),
        "unban"
    );
}

/// Prints a value with every space or control character replaced by `_`, so a field never
/// breaks the `key=value` layout, whatever a phone put in its headers.
pub struct NoSpaces<'a>(pub &'a str);

impl fmt::Display for NoSpaces<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("-");
        }
        if !self.0.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'"') {
            return f.write_str(self.0);
        }
        for c in self.0.chars() {
            if c.is_control() || c == ' ' || c == '"' {
                f.write_str("_")?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// Seconds with one decimal: `6.0`.
struct OneDecimal(f64);

impl fmt::Display for OneDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

struct Dash<'a>(Option<&'a dyn fmt::Display>);

impl fmt::Display for Dash<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("-"),
        }
    }
}

/// `message stored from=... to=... id=... bytes=...`: a MESSAGE for a user with no phone
/// online was stored (answered 202) for delivery at the user's next REGISTER.
pub fn message_stored(from: &str, to: &str, id: i64, bytes: usize) {
    let (f, t) = (NoSpaces(from), NoSpaces(to));
    let id = u64::try_from(id).unwrap_or(0);
    let fields = [
        ("from", Value::Text(&f)),
        ("to", Value::Text(&t)),
        ("id", Value::Number(id)),
        ("bytes", Value::Number(bytes as u64)),
    ];
    if emit(Level::INFO, "message stored", &fields) {
        return;
    }
    tracing::info!(target: TARGET, from = %f, to = %t, id, bytes, "message stored");
}

/// `message delivered to=... contact=... id=... status=...`: a stored message was
/// answered 2xx by the user's phone (and is deleted).
pub fn message_delivered(to: &str, contact: &str, id: i64, status: u16) {
    message_result(Level::INFO, "message delivered", to, contact, id, status);
}

/// `message not delivered to=... contact=... id=... status=...`: a stored message's
/// delivery failed; it is kept for the user's next REGISTER.
pub fn message_not_delivered(to: &str, contact: &str, id: i64, status: u16) {
    message_result(
        Level::WARN,
        "message not delivered",
        to,
        contact,
        id,
        status,
    );
}

fn message_result(level: Level, what: &str, to: &str, contact: &str, id: i64, status: u16) {
    let (t, c) = (NoSpaces(to), NoSpaces(contact));
    let id = u64::try_from(id).unwrap_or(0);
    let fields = [
        ("to", Value::Text(&t)),
        ("contact", Value::Text(&c)),
        ("id", Value::Number(id)),
        ("status", Value::Number(u64::from(status))),
    ];
    if emit(level, what, &fields) {
        return;
    }
    if level == Level::WARN {
        tracing::warn!(target: TARGET, to = %t, contact = %c, id, status, "{what}");
    } else {
        tracing::info!(target: TARGET, to = %t, contact = %c, id, status, "{what}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_carry_spaces() {
        assert_eq!(NoSpaces("a b\r\n\"c").to_string(), "a_b___c");
        assert_eq!(NoSpaces("").to_string(), "-");
        assert_eq!(NoSpaces("sip:alice@x").to_string(), "sip:alice@x");
    }
}
