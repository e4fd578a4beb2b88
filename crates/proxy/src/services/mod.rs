//! Call services of RFC 5359 carried by the proxy: call forwarding (unconditional, busy,
//! no answer, unavailable: §2.7-§2.9), find-me (§2.12) and incoming/outgoing screening
//! (§2.13, §2.14), and routing to voicemail (`voicemail.rs`).
//!
//! The pure parts live here (targets, History-Info, screening matches, find-me steps); the
//! glue into the fork manager is `core/services.rs`. Settings come from the
//! [`crate::Directory`] cache. A retargeted leg carries `History-Info` (RFC 7044): the
//! original target with `index=1`, then one entry per retarget, its URI carrying the
//! RFC 4458 `cause` parameter (302 unconditional, 486 busy, 408 no answer, 404
//! unavailable) and `mp` naming the parent index. Chains are bounded: an address met
//! twice ends the call with 482, more than [`ServicesConfig::max_chain`] retargets with
//! 483, and each retarget decrements Max-Forwards.

pub(crate) mod conference;
pub(crate) mod findme;
pub(crate) mod forwarding;
pub(crate) mod media;
pub(crate) mod mwi;
pub(crate) mod screening;
pub(crate) mod voicemail;

use std::collections::VecDeque;
use std::time::Duration;

use model::AddressOfRecord;

use crate::fork::Target;

/// Settings of the call services.
#[derive(Debug, Clone)]
pub struct ServicesConfig {
    /// The URI put in `Error-Info` of the 403 answering a screened call (an announcement
    /// the caller's phone may play), e.g. `sip:announcement@192.0.2.1`.
    pub screening_announcement: Option<String>,
    /// Most retargets (forwarding hops) in one call, upstream ones included.
    pub max_chain: u32,
    /// How long each q-group of a find-me user's own phones rings before the next.
    pub findme_contact_ring: Duration,
    /// Where the media service host (voicemail, ...) is reached, like a phone; None: no
    /// services (calls that would go to voicemail get 480).
    pub host: Option<crate::Destination>,
    /// Voicemail access codes.
    pub voicemail: voicemail::VoicemailConfig,
    /// Conference room names and numbers.
    pub conference: conference::ConferenceRouting,
    /// Media services reached by name or number (music on hold, announcements).
    pub media: media::MediaServicesConfig,
    /// The dialog event package (`crate::presence`).
    pub presence: crate::presence::PresenceConfig,
    /// Instant messages kept for offline users (`crate::im`).
    pub messages: crate::im::MessagesConfig,
}

impl Default for ServicesConfig {
    fn default() -> Self {
        ServicesConfig {
            screening_announcement: None,
            max_chain: 5,
            findme_contact_ring: Duration::from_secs(20),
            host: None,
            voicemail: voicemail::VoicemailConfig::default(),
            conference: conference::ConferenceRouting::default(),
            media: media::MediaServicesConfig::default(),
            presence: crate::presence::PresenceConfig::default(),
            messages: crate::im::MessagesConfig::default(),
        }
    }
}

/// One serial step, for at most `ring`: the targets of its first group rung in parallel,
/// then (when they all fail) the next group's (a target by name: one group per next hop
/// DNS gave).
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub groups: Vec<Vec<Target>>,
    pub ring: Duration,
}

/// Service state of one INVITE fork whose callee has services.
#[derive(Debug, Default, Clone)]
pub(crate) struct CallState {
    /// The local user rung now (None: an outside target).
    pub callee: Option<AddressOfRecord>,
    /// Users this call has reached, in order (loop detection).
    pub visited: Vec<AddressOfRecord>,
    /// Retargets so far, those recorded upstream in History-Info included.
    pub hops: u32,
    /// Branches before this index belong to earlier legs: their answers are absorbed.
    pub base: usize,
    /// Find-me steps not started yet.
    pub steps: VecDeque<Step>,
    /// History-Info index of the current target; None before any retarget.
    pub hi_index: Option<String>,
    /// The current target, as put in History-Info.
    pub target_uri: String,
    /// Unix time when the call arrived (location lookups of later legs).
    pub wall0: u64,
    /// Proxy time when the call arrived.
    pub now0: Duration,
    /// Retargets made and not yet reported as call events (cause and new target).
    pub unreported: Vec<(Cause, String)>,
}

/// Why a call is retargeted, as the RFC 4458 cause value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Unconditional (§2.7).
    Unconditional,
    /// Busy (§2.8).
    Busy,
    /// No answer (§2.9).
    NoAnswer,
    /// Not registered or not reachable.
    Unavailable,
}

impl Cause {
    /// The call event's name for it.
    pub fn event_cause(self) -> crate::events::RetargetCause {
        use crate::events::RetargetCause as R;
        match self {
            Cause::Unconditional => R::Always,
            Cause::Busy => R::Busy,
            Cause::NoAnswer => R::NoAnswer,
            Cause::Unavailable => R::Unavailable,
        }
    }

    /// The RFC 4458 `cause` value.
    pub fn code(self) -> u16 {
        match self {
            Cause::Unconditional => 302,
            Cause::Busy => 486,
            Cause::NoAnswer => 408,
            Cause::Unavailable => 404,
        }
    }
}

impl CallState {
    /// History-Info lines for retargeting from the current target to `uri`: the original
    /// target first when this is the first retarget here. Updates the index.
    pub fn retarget_history(&mut self, uri: &str, cause: Cause) -> Vec<String> {
        let mut out = Vec::new();
        let parent = match &self.hi_index {
            Some(i) => i.clone(),
            None => {
                out.push(format!("<{}>;index=1", self.target_uri));
                "1".to_string()
            }
        };
        let index = format!("{parent}.1");
        out.push(format!(
            "<{uri};cause={}>;index={index};mp={parent}",
            cause.code()
        ));
        self.hi_index = Some(index);
        self.target_uri = uri.to_string();
        self.unreported.push((cause, uri.to_string()));
        self.hops += 1;
        out
    }
}

/// The History-Info entries of a request, split (several may share a line): each entry's
/// URI and whole text.
pub(crate) fn history_entries(req: &sip_message::SipMessage) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..req.fields().len() {
        if !req.name_of(i).eq_ignore_ascii_case("History-Info") {
            continue;
        }
        let mut depth = 0;
        let mut start = 0;
        let v = req.value(i);
        for (j, c) in v.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(v[start..j].trim().to_string());
                    start = j + 1;
                }
                _ => {}
            }
        }
        let last = v[start..].trim();
        if !last.is_empty() {
            out.push(last.to_string());
        }
    }
    out
}

/// The URI inside `<>` of a History-Info entry.
pub(crate) fn entry_uri(entry: &str) -> Option<&str> {
    let s = entry.find('<')?;
    let e = entry[s..].find('>')? + s;
    Some(&entry[s + 1..e])
}

/// The `index` parameter of a History-Info entry.
pub(crate) fn entry_index(entry: &str) -> Option<&str> {
    let after = &entry[entry.rfind('>')? + 1..];
    after
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(n, _)| n.eq_ignore_ascii_case("index"))
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn history_grows_one_level_per_retarget() {
        let mut st = CallState {
            target_uri: "sip:bob@example.com".into(),
            ..CallState::default()
        };
        let h = st.retarget_history("sip:carol@example.com", Cause::Busy);
        assert_eq!(
            h,
            [
                "<sip:bob@example.com>;index=1",
                "<sip:carol@example.com;cause=486>;index=1.1;mp=1"
            ]
        );
        let h = st.retarget_history("sip:dave@192.0.2.1", Cause::NoAnswer);
        assert_eq!(h, ["<sip:dave@192.0.2.1;cause=408>;index=1.1.1;mp=1.1"]);
        assert_eq!(st.hops, 2);
    }

    #[test]
    fn history_entries_are_split() {
        let req = sip_message::SipMessage::parse(Bytes::from_static(
            b"INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nHistory-Info: <sip:b@x>;index=1, <sip:c@x;cause=302>;index=1.1;mp=1\r\nContent-Length: 0\r\n\r\n",
        ))
        .unwrap();
        let e = history_entries(&req);
        assert_eq!(e.len(), 2);
        assert_eq!(entry_uri(&e[1]), Some("sip:c@x;cause=302"));
        assert_eq!(entry_index(&e[1]), Some("1.1"));
    }
}
