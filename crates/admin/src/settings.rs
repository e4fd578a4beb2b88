//! A user's call-service settings (docs/services.md): call forwarding (RFC 5359
//! §2.7-§2.9), the find-me list (§2.12) and screening rules (§2.13, §2.14); set and clear.
//! Each change yields one settings notice for the user.

use model::{
    encode_no_answer, encode_patterns, parse_findme_arg, screen_setting, AddressOfRecord, FindMe,
    ScreenDirection, ScreenPattern, Store, UserSettings, FINDME, FORWARD_ALWAYS, FORWARD_BUSY,
    FORWARD_NO_ANSWER, FORWARD_UNAVAILABLE,
};

use crate::target::check_target_exists;
use crate::{AdminError, Change, ChangeNotice, Done};

/// Seconds of ringing before no-answer forwarding when none is given.
pub const DEFAULT_NO_ANSWER_SECS: u32 = 20;

/// Most entries in a find-me list.
pub const MAX_FINDME_ENTRIES: usize = 10;

/// When a call is forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardKind {
    /// Every call (§2.7).
    Always,
    /// When the user is busy (§2.8).
    Busy,
    /// When the user does not answer in time (§2.9).
    NoAnswer,
    /// When the user has no registered phone, or none is reachable.
    Unavailable,
}

impl ForwardKind {
    /// Every kind, in the order they are listed.
    pub const ALL: [ForwardKind; 4] = [
        ForwardKind::Always,
        ForwardKind::Busy,
        ForwardKind::NoAnswer,
        ForwardKind::Unavailable,
    ];

    /// The stored setting's name.
    pub fn setting(self) -> &'static str {
        match self {
            ForwardKind::Always => FORWARD_ALWAYS,
            ForwardKind::Busy => FORWARD_BUSY,
            ForwardKind::NoAnswer => FORWARD_NO_ANSWER,
            ForwardKind::Unavailable => FORWARD_UNAVAILABLE,
        }
    }

    /// The name people use: `always`, `busy`, `no-answer`, `unavailable`.
    pub fn name(self) -> &'static str {
        match self {
            ForwardKind::Always => "always",
            ForwardKind::Busy => "busy",
            ForwardKind::NoAnswer => "no-answer",
            ForwardKind::Unavailable => "unavailable",
        }
    }
}

fn changed(user: &AddressOfRecord) -> Vec<ChangeNotice> {
    vec![ChangeNotice::Settings(user.clone(), Change::Changed)]
}

async fn require_user(
    store: &dyn Store,
    user: &AddressOfRecord,
    message: String,
) -> Result<(), AdminError> {
    if store.subscriber(user).await?.is_none() {
        return Err(AdminError::not_found("user", message));
    }
    Ok(())
}

/// Forwards `user`'s calls of `kind` to `target` (a local user or alias that exists, or
/// an external SIP URI); `after` (no-answer only) is the seconds of ringing first.
pub async fn set_forwarding(
    store: &dyn Store,
    user: &AddressOfRecord,
    kind: ForwardKind,
    target: &str,
    after: Option<u32>,
) -> Result<Done, AdminError> {
    require_user(store, user, format!("user {user} not found")).await?;
    check_target_exists(store, "target", user, target).await?;
    let value = match (kind, after) {
        (ForwardKind::NoAnswer, a) => {
            encode_no_answer(target, a.unwrap_or(DEFAULT_NO_ANSWER_SECS))?
        }
        (_, Some(_)) => {
            return Err(AdminError::invalid(
                "after",
                "after: only applies to no-answer forwarding",
            ))
        }
        (_, None) => target.to_string(),
    };
    store.set_setting(user, kind.setting(), &value).await?;
    Ok(Done::new((), changed(user)))
}

/// Stops forwarding of one kind, or all; the result is how many settings went.
pub async fn clear_forwarding(
    store: &dyn Store,
    user: &AddressOfRecord,
    kind: Option<ForwardKind>,
) -> Result<Done<usize>, AdminError> {
    require_user(store, user, format!("user: {user} not found")).await?;
    let kinds = match kind {
        Some(k) => vec![k],
        None => ForwardKind::ALL.to_vec(),
    };
    let mut n = 0;
    for k in kinds {
        if store.delete_setting(user, k.setting()).await? {
            n += 1;
        }
    }
    let notices = if n > 0 { changed(user) } else { Vec::new() };
    Ok(Done::new(n, notices))
}

/// Sets the find-me list: each entry `TARGET` or `TARGET,SECS`, rung in turn after the
/// user's own phones; the result is how many entries were stored.
pub async fn set_findme(
    store: &dyn Store,
    user: &AddressOfRecord,
    targets: &[String],
) -> Result<Done<usize>, AdminError> {
    if targets.len() > MAX_FINDME_ENTRIES {
        return Err(AdminError::invalid(
            "targets",
            format!("targets: at most {MAX_FINDME_ENTRIES} entries"),
        ));
    }
    require_user(store, user, format!("user {user} not found")).await?;
    let list = FindMe {
        targets: targets
            .iter()
            .map(|t| parse_findme_arg(t))
            .collect::<Result<_, _>>()?,
    };
    for (t, _) in &list.targets {
        check_target_exists(store, "findme", user, t).await?;
    }
    store.set_setting(user, FINDME, &list.encode()).await?;
    Ok(Done::new(list.targets.len(), changed(user)))
}

/// Removes the find-me list; the result says whether there was one.
pub async fn clear_findme(
    store: &dyn Store,
    user: &AddressOfRecord,
) -> Result<Done<bool>, AdminError> {
    require_user(store, user, format!("user: {user} not found")).await?;
    let had = store.delete_setting(user, FINDME).await?;
    let notices = if had { changed(user) } else { Vec::new() };
    Ok(Done::new(had, notices))
}

/// `incoming` or `outgoing`.
pub fn direction_name(d: ScreenDirection) -> &'static str {
    match d {
        ScreenDirection::Incoming => "incoming",
        ScreenDirection::Outgoing => "outgoing",
    }
}

async fn patterns(
    store: &dyn Store,
    user: &AddressOfRecord,
    d: ScreenDirection,
) -> Result<Vec<ScreenPattern>, AdminError> {
    let rows = store.settings(user).await?;
    let s = UserSettings::from_rows(rows.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    Ok(s.patterns(d))
}

/// Stores the rules of one direction (none: the setting goes).
async fn store_patterns(
    store: &dyn Store,
    user: &AddressOfRecord,
    d: ScreenDirection,
    list: &[ScreenPattern],
) -> Result<(), AdminError> {
    if list.is_empty() {
        store.delete_setting(user, screen_setting(d)).await?;
    } else {
        store
            .set_setting(user, screen_setting(d), &encode_patterns(list))
            .await?;
    }
    Ok(())
}

/// Blocks `user`'s calls in direction `d` matching `pattern`; the result is the pattern
/// as parsed. Adding a rule that exists changes nothing.
pub async fn add_screen_rule(
    store: &dyn Store,
    user: &AddressOfRecord,
    d: ScreenDirection,
    pattern: &str,
) -> Result<Done<ScreenPattern>, AdminError> {
    edit_screen_rule(store, user, d, pattern, RuleEdit::Add).await
}

/// Removes a screening rule; the result is the pattern as parsed.
pub async fn delete_screen_rule(
    store: &dyn Store,
    user: &AddressOfRecord,
    d: ScreenDirection,
    pattern: &str,
) -> Result<Done<ScreenPattern>, AdminError> {
    edit_screen_rule(store, user, d, pattern, RuleEdit::Delete).await
}

/// What [`edit_screen_rule`] does with the pattern.
#[derive(Debug, Clone, Copy)]
enum RuleEdit {
    Add,
    Delete,
}

/// Parses `pattern`, adds it to or removes it from `user`'s rules in direction `d` and
/// stores the list; deleting a pattern that is not there is a not-found error.
async fn edit_screen_rule(
    store: &dyn Store,
    user: &AddressOfRecord,
    d: ScreenDirection,
    pattern: &str,
    edit: RuleEdit,
) -> Result<Done<ScreenPattern>, AdminError> {
    let p = ScreenPattern::parse(pattern)?;
    let mut list = patterns(store, user, d).await?;
    match edit {
        RuleEdit::Add => {
            if !list.contains(&p) {
                list.push(p.clone());
            }
        }
        RuleEdit::Delete => {
            let before = list.len();
            list.retain(|x| *x != p);
            if list.len() == before {
                return Err(AdminError::not_found(
                    "pattern",
                    format!(
                        "pattern: {p} is not in the {} rules of {user}",
                        direction_name(d)
                    ),
                ));
            }
        }
    }
    store_patterns(store, user, d, &list).await?;
    Ok(Done::new(p, changed(user)))
}
