//! Per-user call-service settings (RFC 5359): call forwarding, incoming and outgoing
//! screening, find-me. Stored as `user_settings` rows (name, value) through
//! [`crate::Store::set_setting`]; this module owns the names and the small text encoding.
//!
//! | name                  | value                                   |
//! |-----------------------|-----------------------------------------|
//! | `forward.always`      | target                                  |
//! | `forward.busy`        | target                                  |
//! | `forward.no-answer`   | `SECS target`                           |
//! | `forward.unavailable` | target                                  |
//! | `screen.incoming`     | patterns, one per line                  |
//! | `screen.outgoing`     | patterns, one per line                  |
//! | `findme`              | `target:SECS`, one per line, in order   |
//! | `disabled`            | why the account is disabled             |
//!
//! A target is a SIP URI, `user@domain` or a number (a user of the callee's domain).

use std::collections::BTreeMap;

use crate::aor::AddressOfRecord;
use crate::error::StoreError;
use crate::screening::{ScreenDirection, ScreenPattern, ScreenRule};
use crate::validate;

/// Setting name: unconditional forwarding target.
pub const FORWARD_ALWAYS: &str = "forward.always";
/// Setting name: forwarding target when busy.
pub const FORWARD_BUSY: &str = "forward.busy";
/// Setting name: `SECS target` forwarding when unanswered.
pub const FORWARD_NO_ANSWER: &str = "forward.no-answer";
/// Setting name: forwarding target when unreachable.
pub const FORWARD_UNAVAILABLE: &str = "forward.unavailable";
/// Setting name: incoming screening patterns.
pub const SCREEN_INCOMING: &str = "screen.incoming";
/// Setting name: outgoing screening patterns.
pub const SCREEN_OUTGOING: &str = "screen.outgoing";
/// Setting name: the find-me list.
pub const FINDME: &str = "findme";

/// Longest ring time accepted, in seconds.
pub const MAX_RING_SECS: u32 = 600;

/// Call forwarding (RFC 5359 §2.7-§2.9).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarding {
    /// Every call goes there (§2.7).
    pub always: Option<String>,
    /// When the user is busy: 486 or 600 (§2.8).
    pub busy: Option<String>,
    /// When the user does not answer within the seconds given (§2.9).
    pub no_answer: Option<(String, u32)>,
    /// When the user has no registered contact, or every contact answered 480 or 408.
    pub unavailable: Option<String>,
}

impl Forwarding {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        self.always.is_none()
            && self.busy.is_none()
            && self.no_answer.is_none()
            && self.unavailable.is_none()
    }
}

/// Find-me (RFC 5359 §2.12): after the user's own phones, these targets in order, each
/// ringing for its time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindMe {
    /// (target, ring seconds), in order.
    pub targets: Vec<(String, u32)>,
}

/// Everything set for one user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSettings {
    /// Call forwarding.
    pub forwarding: Forwarding,
    /// Screening rules, incoming then outgoing, in the order added.
    pub screening: Vec<ScreenRule>,
    /// The find-me list, when set.
    pub findme: Option<FindMe>,
    /// The user's permission class (issue 14), when set: which gateway routes the user
    /// may call (None: [`CallClass::National`]).
    pub class: Option<crate::pstn::CallClass>,
    /// The DID (an alias's user part) shown as the user's number on calls to gateways.
    pub caller_id: Option<String>,
    /// The user's call-pickup group (`*8` picks up a call ringing another member).
    pub pickup_group: Option<String>,
    /// Why an admin disabled the account, when disabled: the user's REGISTERs and calls
    /// are refused (403) until it is enabled again; nothing else of the user changes.
    pub disabled: Option<String>,
}

/// The setting name of a disabled account (the value: why).
pub const DISABLED: &str = "disabled";

/// The setting name of a user's caller ID (a DID of the user's domain).
pub const CALLER_ID: &str = "caller_id";

/// The setting name of a user's call-pickup group (issue 17).
pub const PICKUP_GROUP: &str = "pickup_group";

/// The setting name of a user's permission class (`local`, `national`, ...).
pub const CLASS: &str = "class";

/// Checks a forwarding or find-me target's syntax: an external SIP URI
/// (`sip:user@host[:port]`, host checked as in [`crate::validate::check_host`]),
/// `user@domain` or a number. Whether a local target exists is the caller's question
/// (see [`target_aor`]).
pub fn check_target(field: &'static str, t: &str) -> Result<(), StoreError> {
    let bad = |why: &str| StoreError::Invalid {
        field,
        why: format!("{t:?}: {why}"),
    };
    if t.is_empty() || t.len() > 256 || t.contains(|c: char| c.is_whitespace() || c == '>') {
        return Err(bad(
            "must be a SIP URI, user@domain or a number, without spaces",
        ));
    }
    if t == crate::VOICEMAIL_TARGET {
        return Ok(());
    }
    if t.starts_with("sip:") {
        return validate::parse_sip_uri(field, t).map(drop);
    }
    if t.contains(':') && !t.contains('@') {
        return Err(bad("only sip: URIs are supported"));
    }
    if let Some((user, domain)) = t.rsplit_once('@') {
        validate::check_user_part(field, user)?;
        return validate::check_host(field, domain).map(drop);
    }
    let digits = t.strip_prefix('+').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("a number is digits, optionally after +"));
    }
    Ok(())
}

/// The local address a target names, if it names one: `user@domain` and `sip:user@host`
/// as written, a number as a user of `owner_domain` (the domain of the user whose setting
/// it is). `None` for a `sip:host` URI without a user. Whether the domain is served here
/// decides whether the target is local (then the user or alias must exist) or external.
pub fn target_aor(target: &str, owner_domain: &str) -> Option<AddressOfRecord> {
    if target == crate::VOICEMAIL_TARGET {
        // The owner's own mailbox, not a user.
        return None;
    }
    if let Some(rest) = target.strip_prefix("sip:") {
        let rest = rest.split([';', '?']).next().unwrap_or_default();
        let (user, hostport) = rest.rsplit_once('@')?;
        let host = match hostport.strip_prefix('[') {
            Some(h6) => format!("[{}]", h6.split(']').next().unwrap_or_default()),
            None => hostport.split(':').next().unwrap_or_default().to_string(),
        };
        return Some(AddressOfRecord::new(user, &host));
    }
    if target.contains('@') {
        return AddressOfRecord::parse(target);
    }
    Some(AddressOfRecord::new(target, owner_domain))
}

/// What must change in stored settings when the users `gone` describes are deleted: each
/// forwarding row whose target is gone is removed (`None`), each find-me list loses the
/// entries that are gone (`Some(new value)`, or `None` when nothing is left). Screening
/// rows are left alone: blocking a caller who no longer exists is harmless. Rows of the
/// gone users themselves are not listed (the caller deletes them whole).
pub fn prune_settings(
    rows: &[(AddressOfRecord, String, String)],
    gone: impl Fn(&AddressOfRecord) -> bool,
) -> Vec<(AddressOfRecord, String, Option<String>)> {
    let mut out = Vec::new();
    let is_gone =
        |t: &str, owner: &AddressOfRecord| target_aor(t, &owner.domain).is_some_and(|a| gone(&a));
    for (aor, name, value) in rows {
        if gone(aor) {
            continue;
        }
        match name.as_str() {
            FORWARD_ALWAYS | FORWARD_BUSY | FORWARD_UNAVAILABLE if is_gone(value.trim(), aor) => {
                out.push((aor.clone(), name.clone(), None));
            }
            FORWARD_NO_ANSWER
                if is_gone(value.trim().split_once(' ').map_or("", |(_, t)| t), aor) =>
            {
                out.push((aor.clone(), name.clone(), None));
            }
            FINDME => {
                let lines: Vec<&str> = value.lines().filter(|l| !l.trim().is_empty()).collect();
                let kept: Vec<&str> = lines
                    .iter()
                    .copied()
                    .filter(|l| {
                        let t = l.trim().rsplit_once(':').map_or(l.trim(), |(t, _)| t);
                        !is_gone(t, aor)
                    })
                    .collect();
                if kept.len() != lines.len() {
                    let v = (!kept.is_empty()).then(|| kept.join("\n"));
                    out.push((aor.clone(), name.clone(), v));
                }
            }
            _ => {}
        }
    }
    out
}

fn check_secs(field: &'static str, secs: u32) -> Result<(), StoreError> {
    if secs == 0 || secs > MAX_RING_SECS {
        return Err(StoreError::Invalid {
            field,
            why: format!("{secs}: must be 1 to {MAX_RING_SECS} seconds"),
        });
    }
    Ok(())
}

/// Parses a stored find-me line, `TARGET:SECS` (the last colon splits, so `sip:` URIs with
/// ports work, since the stored line always ends with the ring time).
pub fn parse_findme_entry(s: &str) -> Result<(String, u32), StoreError> {
    let (t, secs) = s.rsplit_once(':').ok_or_else(|| StoreError::Invalid {
        field: "findme",
        why: format!("{s:?}: expected TARGET:SECS"),
    })?;
    let secs: u32 = secs.parse().map_err(|_| StoreError::Invalid {
        field: "findme",
        why: format!("{s:?}: the ring time after the last ':' is not a number of seconds"),
    })?;
    check_target("findme", t)?;
    check_secs("findme", secs)?;
    Ok((t.to_string(), secs))
}

/// Ring time of a find-me entry typed without one, in seconds.
pub const DEFAULT_FINDME_RING_SECS: u32 = 20;

/// Parses a find-me entry as typed on the command line: `TARGET` (ringing
/// [`DEFAULT_FINDME_RING_SECS`]) or `TARGET,SECS`. For a target that is not a `sip:` URI
/// (`user@domain`, a number), `TARGET:SECS` is also accepted; in a `sip:` URI a trailing
/// `:N` is always the port (`sip:desk@192.0.2.4:5060`).
pub fn parse_findme_arg(s: &str) -> Result<(String, u32), StoreError> {
    let bad_secs = || StoreError::Invalid {
        field: "findme",
        why: format!("{s:?}: the ring time after ',' is not a number of seconds"),
    };
    let (t, secs) = match s.rsplit_once(',') {
        Some((t, secs)) => (t, secs.trim().parse::<u32>().map_err(|_| bad_secs())?),
        None => match s.rsplit_once(':') {
            Some((t, secs)) if !s.starts_with("sip:") && !t.is_empty() => {
                let secs = secs.parse::<u32>().map_err(|_| StoreError::Invalid {
                    field: "findme",
                    why: format!(
                        "{s:?}: the ring time after ':' is not a number of seconds \
                         (write TARGET or TARGET,SECS)"
                    ),
                })?;
                (t, secs)
            }
            _ => (s, DEFAULT_FINDME_RING_SECS),
        },
    };
    check_target("findme", t)?;
    check_secs("findme", secs)?;
    Ok((t.to_string(), secs))
}

impl FindMe {
    /// The stored value: `target:SECS` per line.
    pub fn encode(&self) -> String {
        self.targets
            .iter()
            .map(|(t, s)| format!("{t}:{s}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The stored value of `forward.no-answer`.
pub fn encode_no_answer(target: &str, secs: u32) -> Result<String, StoreError> {
    check_target("target", target)?;
    check_secs("after", secs)?;
    Ok(format!("{secs} {target}"))
}

impl UserSettings {
    /// Decodes a user's rows. Unknown names and malformed values are skipped (logged by
    /// the caller if it wishes): a bad row must not stop calls.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> UserSettings {
        let mut s = UserSettings::default();
        for (name, value) in rows {
            let one = || {
                let v = value.trim();
                (!v.is_empty() && check_target("target", v).is_ok()).then(|| v.to_string())
            };
            match name {
                FORWARD_ALWAYS => s.forwarding.always = one(),
                FORWARD_BUSY => s.forwarding.busy = one(),
                FORWARD_UNAVAILABLE => s.forwarding.unavailable = one(),
                FORWARD_NO_ANSWER => {
                    s.forwarding.no_answer = value.trim().split_once(' ').and_then(|(n, t)| {
                        let n: u32 = n.parse().ok()?;
                        encode_no_answer(t, n).ok()?;
                        Some((t.to_string(), n))
                    })
                }
                SCREEN_INCOMING | SCREEN_OUTGOING => {
                    let direction = if name == SCREEN_INCOMING {
                        ScreenDirection::Incoming
                    } else {
                        ScreenDirection::Outgoing
                    };
                    for p in value.lines().filter(|l| !l.trim().is_empty()) {
                        if let Ok(pattern) = ScreenPattern::parse(p) {
                            s.screening.push(ScreenRule { direction, pattern });
                        }
                    }
                }
                FINDME => {
                    let targets: Vec<(String, u32)> = value
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .filter_map(|l| parse_findme_entry(l.trim()).ok())
                        .collect();
                    if !targets.is_empty() {
                        s.findme = Some(FindMe { targets });
                    }
                }
                CLASS => s.class = crate::pstn::CallClass::parse(value.trim()),
                CALLER_ID => s.caller_id = Some(value.trim().to_owned()).filter(|v| !v.is_empty()),
                PICKUP_GROUP => {
                    s.pickup_group = Some(value.trim().to_owned()).filter(|v| !v.is_empty())
                }
                DISABLED => s.disabled = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        s
    }

    /// Groups `(aor, name, value)` rows (from [`crate::Store::all_settings`]) by user.
    pub fn group(
        rows: impl IntoIterator<Item = (AddressOfRecord, String, String)>,
    ) -> BTreeMap<AddressOfRecord, UserSettings> {
        let mut by_user: BTreeMap<AddressOfRecord, Vec<(String, String)>> = BTreeMap::new();
        for (aor, n, v) in rows {
            by_user.entry(aor).or_default().push((n, v));
        }
        by_user
            .into_iter()
            .map(|(aor, rows)| {
                let s = UserSettings::from_rows(rows.iter().map(|(n, v)| (n.as_str(), v.as_str())));
                (aor, s)
            })
            .filter(|(_, s)| *s != UserSettings::default())
            .collect()
    }

    /// The patterns of one direction, in order.
    pub fn patterns(&self, direction: ScreenDirection) -> Vec<ScreenPattern> {
        self.screening
            .iter()
            .filter(|r| r.direction == direction)
            .map(|r| r.pattern.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip() {
        let rows = [
            (FORWARD_ALWAYS, "carol@example.com"),
            (FORWARD_NO_ANSWER, "20 sip:voicemail@192.0.2.9:5080"),
            (SCREEN_INCOMING, "@spam.example\nanonymous"),
            (SCREEN_OUTGOING, "+1900*"),
            (FINDME, "sip:desk@192.0.2.4:5060:10\n+15551234:20"),
            ("unknown", "x"),
            (FORWARD_BUSY, "has space"),
        ];
        let s = UserSettings::from_rows(rows);
        assert_eq!(s.forwarding.always.as_deref(), Some("carol@example.com"));
        assert_eq!(s.forwarding.busy, None);
        assert_eq!(
            s.forwarding.no_answer,
            Some(("sip:voicemail@192.0.2.9:5080".into(), 20))
        );
        assert_eq!(s.patterns(ScreenDirection::Incoming).len(), 2);
        assert_eq!(
            s.patterns(ScreenDirection::Outgoing),
            [ScreenPattern::Prefix("+1900".into())]
        );
        let fm = s.findme.unwrap();
        assert_eq!(fm.targets[0], ("sip:desk@192.0.2.4:5060".into(), 10));
        assert_eq!(
            FindMe::encode(&fm),
            "sip:desk@192.0.2.4:5060:10\n+15551234:20"
        );
    }

    #[test]
    fn targets_are_checked() {
        for ok in ["sip:x@192.0.2.1", "bob@example.com", "+15551234", "1000"] {
            check_target("target", ok).unwrap();
        }
        for bad in ["", "tel:+1555", "a b", "sip:", "+", "12a"] {
            assert!(check_target("target", bad).is_err(), "{bad}");
        }
        assert!(parse_findme_entry("bob@example.com:0").is_err());
        assert!(parse_findme_entry("bob@example.com").is_err());
    }

    #[test]
    fn findme_entries_on_the_command_line() {
        assert_eq!(
            parse_findme_arg("sip:desk@192.0.2.4:5060").unwrap(),
            ("sip:desk@192.0.2.4:5060".into(), DEFAULT_FINDME_RING_SECS)
        );
        assert_eq!(
            parse_findme_arg("sip:desk@192.0.2.4:5060,10").unwrap(),
            ("sip:desk@192.0.2.4:5060".into(), 10)
        );
        assert_eq!(
            parse_findme_arg("carol@example.com:15").unwrap(),
            ("carol@example.com".into(), 15)
        );
        assert_eq!(parse_findme_arg("+15551234").unwrap().1, 20);
        for bad in [
            "sip:desk@192.0.2.4:99999",
            "carol@example.com:x",
            "a,0",
            "sip:x@a..b",
        ] {
            assert!(parse_findme_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pruning_follows_targets_into_the_gone_domain() {
        let a = |s: &str| AddressOfRecord::parse(s).unwrap();
        let rows = vec![
            (
                a("alice@example.com"),
                FORWARD_ALWAYS.into(),
                "bob@gone.test".into(),
            ),
            (
                a("alice@example.com"),
                FORWARD_NO_ANSWER.into(),
                "20 sip:vm@gone.test:5080".into(),
            ),
            (
                a("alice@example.com"),
                FORWARD_BUSY.into(),
                "sip:x@elsewhere.net".into(),
            ),
            (
                a("carol@example.com"),
                FINDME.into(),
                "bob@gone.test:10\nsip:desk@192.0.2.4:5060:10".into(),
            ),
            (
                a("dave@example.com"),
                FINDME.into(),
                "+1555@gone.test:10".into(),
            ),
            (a("erin@gone.test"), FORWARD_ALWAYS.into(), "1000".into()),
            (
                a("frank@example.com"),
                SCREEN_INCOMING.into(),
                "bob@gone.test".into(),
            ),
        ];
        let out = prune_settings(&rows, |x| x.domain == "gone.test");
        assert_eq!(
            out,
            vec![
                (a("alice@example.com"), FORWARD_ALWAYS.into(), None),
                (a("alice@example.com"), FORWARD_NO_ANSWER.into(), None),
                (
                    a("carol@example.com"),
                    FINDME.into(),
                    Some("sip:desk@192.0.2.4:5060:10".into())
                ),
                (a("dave@example.com"), FINDME.into(), None),
            ]
        );
    }
}
