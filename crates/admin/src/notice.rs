//! Change notices: which entity a use case changed, so a running server can re-read just
//! that entity from the store and update its directory, instead of reloading everything.
//!
//! A notice names an entity and how it changed; the receiver treats it as "this entity may
//! differ from what you hold: read it again" (applying one twice, or out of order, ends in
//! the store's state). The line form travels over the control socket.

use model::AddressOfRecord;

/// How an entity changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It is new.
    Added,
    /// It exists and its contents changed.
    Changed,
    /// It is gone (with what hangs off it: a domain's users, a user's aliases).
    Removed,
}

impl Change {
    fn word(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Removed => "removed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "added" => Some(Change::Added),
            "changed" => Some(Change::Changed),
            "removed" => Some(Change::Removed),
            _ => None,
        }
    }
}

/// One changed entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeNotice {
    /// A served domain (lowercase).
    Domain(String, Change),
    /// A subscriber and its digest hashes.
    User(AddressOfRecord, Change),
    /// An alias (or DID) and the user it reaches.
    Alias(AddressOfRecord, Change),
    /// A user's call-service settings (forwarding, find-me, screening), as a whole.
    Settings(AddressOfRecord, Change),
    /// A user's voicemail: the mailbox's settings or its messages (re-read both: routing
    /// to voicemail and message-waiting counts).
    Mailbox(AddressOfRecord, Change),
    /// A PSTN gateway, by name (the receiver rebuilds its gateway and route tables).
    Gateway(String, Change),
    /// A PSTN route, by prefix (the receiver rebuilds its gateway and route tables).
    Route(String, Change),
    /// A trusted peer, by CIDR (the receiver rebuilds its gateway and route tables).
    Trusted(String, Change),
    /// A domain's dial plan (the receiver rebuilds its gateway and route tables).
    DialPlan(String, Change),
    /// A user's presence watcher rules, as a whole.
    PresenceRules(AddressOfRecord, Change),
}

impl ChangeNotice {
    /// The line form without the command word: `user added alice@example.com`.
    pub fn to_line(&self) -> String {
        let (kind, change, name) = match self {
            ChangeNotice::Domain(d, c) => ("domain", c, d.clone()),
            ChangeNotice::User(a, c) => ("user", c, a.to_string()),
            ChangeNotice::Alias(a, c) => ("alias", c, a.to_string()),
            ChangeNotice::Settings(a, c) => ("settings", c, a.to_string()),
            ChangeNotice::Mailbox(a, c) => ("mailbox", c, a.to_string()),
            ChangeNotice::Gateway(g, c) => ("gateway", c, g.clone()),
            ChangeNotice::Route(p, c) => ("route", c, p.clone()),
            ChangeNotice::Trusted(p, c) => ("trusted", c, p.clone()),
            ChangeNotice::DialPlan(d, c) => ("dialplan", c, d.clone()),
            ChangeNotice::PresenceRules(a, c) => ("presence", c, a.to_string()),
        };
        format!("{kind} {} {name}", change.word())
    }

    /// Parses [`ChangeNotice::to_line`]'s form.
    pub fn parse(line: &str) -> Option<Self> {
        let mut parts = line.split_whitespace();
        let (kind, change, name) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let change = Change::parse(change)?;
        let aor = || AddressOfRecord::parse(name);
        Some(match kind {
            "domain" => ChangeNotice::Domain(name.to_ascii_lowercase(), change),
            "user" => ChangeNotice::User(aor()?, change),
            "alias" => ChangeNotice::Alias(aor()?, change),
            "settings" => ChangeNotice::Settings(aor()?, change),
            "mailbox" => ChangeNotice::Mailbox(aor()?, change),
            "gateway" => ChangeNotice::Gateway(name.to_owned(), change),
            "route" => ChangeNotice::Route(name.to_owned(), change),
            "trusted" => ChangeNotice::Trusted(name.to_owned(), change),
            "dialplan" => ChangeNotice::DialPlan(name.to_ascii_lowercase(), change),
            "presence" => ChangeNotice::PresenceRules(aor()?, change),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_as_lines() {
        let a = AddressOfRecord::new("alice", "example.com");
        for n in [
            ChangeNotice::Domain("example.com".into(), Change::Added),
            ChangeNotice::User(a.clone(), Change::Changed),
            ChangeNotice::Alias(a.clone(), Change::Removed),
            ChangeNotice::Settings(a.clone(), Change::Changed),
            ChangeNotice::Mailbox(a.clone(), Change::Added),
            ChangeNotice::PresenceRules(a, Change::Changed),
            ChangeNotice::Gateway("carrier-a".into(), Change::Added),
            ChangeNotice::Route("+4930".into(), Change::Removed),
        ] {
            assert_eq!(ChangeNotice::parse(&n.to_line()), Some(n));
        }
        assert_eq!(ChangeNotice::parse("user gone alice@example.com"), None);
        assert_eq!(ChangeNotice::parse("user added"), None);
        assert_eq!(ChangeNotice::parse("user added a@b c"), None);
    }
}
