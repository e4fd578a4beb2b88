//! Voicemail routing, the pure parts: which calls go to a mailbox and the Request-URIs the
//! voicemail service (a SIP endpoint on the service host) receives.
//!
//! With a user's mailbox enabled, their forwarding rules are completed with the target
//! `voicemail` for each of busy, no answer (after the mailbox's ring time) and unavailable
//! that the user did not set; a rule the user set wins, and a rule may name `voicemail`
//! itself. The glue into the pipeline and fork manager is `core/voicemail.rs`.
//!
//! Request-URIs (the contract with the voicemail service):
//! - deposit: `sip:voicemail@DOMAIN;mode=deposit;mailbox=USER`;
//! - retrieval from the user's own phone: `sip:voicemail@DOMAIN;mode=retrieve;mailbox=USER`,
//!   plus `;home` when the mailbox asks no PIN at home;
//! - retrieval from any local phone: `sip:voicemail@DOMAIN;mode=retrieve`.
//!
//! The service trusts these only from the proxy: a request from outside whose Request-URI
//! names the user `voicemail` with a `mode` parameter is refused.

use model::{AddressOfRecord, Forwarding, VOICEMAIL_TARGET};
use sip_message::Uri;

/// The user part of the voicemail service's Request-URIs.
pub const SERVICE_USER: &str = VOICEMAIL_TARGET;

/// Voicemail settings of the proxy (`[voicemail]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailConfig {
    /// Dialled from a user's own phone: their mailbox (`retrieve_code`, default `*98`).
    pub retrieve_code: String,
    /// Dialled from any local phone: the service asks mailbox and PIN (`any_phone_code`,
    /// default `*99`).
    pub any_phone_code: String,
    /// Also NOTIFY registered phones that did not subscribe to message-summary.
    pub unsolicited_mwi: bool,
    /// Most message-waiting subscriptions held; more are answered 503.
    pub max_subscriptions: usize,
}

impl Default for VoicemailConfig {
    fn default() -> Self {
        VoicemailConfig {
            retrieve_code: "*98".into(),
            any_phone_code: "*99".into(),
            unsolicited_mwi: false,
            max_subscriptions: 10_000,
        }
    }
}

/// What the proxy knows of a user's mailbox: enough to route (kept in the directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoicemailRoute {
    /// Seconds the user's phones ring before voicemail answers.
    pub after_secs: u32,
    /// Retrieval from the user's own phone asks no PIN.
    pub no_pin_at_home: bool,
}

/// Which voicemail service a call asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VoicemailCall {
    /// Leave a message in this mailbox.
    Deposit(AddressOfRecord),
    /// Listen to this user's own mailbox, from their phone (`home`: no PIN).
    RetrieveOwn {
        /// The mailbox.
        mailbox: AddressOfRecord,
        /// No PIN asked.
        home: bool,
    },
    /// Listen to a mailbox the service asks for, in this domain.
    RetrieveAny(String),
}

impl VoicemailCall {
    /// The Request-URI the service receives.
    pub fn request_uri(&self) -> String {
        match self {
            VoicemailCall::Deposit(m) => {
                format!(
                    "sip:{SERVICE_USER}@{};mode=deposit;mailbox={}",
                    m.domain, m.user
                )
            }
            VoicemailCall::RetrieveOwn { mailbox, home } => format!(
                "sip:{SERVICE_USER}@{};mode=retrieve;mailbox={}{}",
                mailbox.domain,
                mailbox.user,
                if *home { ";home" } else { "" }
            ),
            VoicemailCall::RetrieveAny(domain) => {
                format!("sip:{SERVICE_USER}@{domain};mode=retrieve")
            }
        }
    }
}

/// True when a Request-URI is one only the proxy may produce: the service user with a
/// `mode` parameter.
pub(crate) fn is_service_uri(uri: &Uri<'_>) -> bool {
    uri.user == Some(SERVICE_USER) && uri.param("mode").is_some()
}

/// True when a forwarding target means "the owner's mailbox".
pub(crate) fn is_voicemail_target(target: &str) -> bool {
    target.eq_ignore_ascii_case(VOICEMAIL_TARGET)
}

/// The user's forwarding completed with voicemail for the cases they left open; None when
/// neither has anything.
pub(crate) fn with_voicemail(
    own: Option<Forwarding>,
    mailbox: Option<VoicemailRoute>,
) -> Option<Forwarding> {
    let Some(vm) = mailbox else {
        return own;
    };
    let mut f = own.unwrap_or_default();
    let target = || VOICEMAIL_TARGET.to_string();
    f.busy.get_or_insert_with(target);
    f.no_answer.get_or_insert_with(|| (target(), vm.after_secs));
    f.unavailable.get_or_insert_with(target);
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_uris_follow_the_contract() {
        let alice = AddressOfRecord::new("alice", "example.com");
        assert_eq!(
            VoicemailCall::Deposit(alice.clone()).request_uri(),
            "sip:voicemail@example.com;mode=deposit;mailbox=alice"
        );
        assert_eq!(
            VoicemailCall::RetrieveOwn {
                mailbox: alice.clone(),
                home: true
            }
            .request_uri(),
            "sip:voicemail@example.com;mode=retrieve;mailbox=alice;home"
        );
        assert_eq!(
            VoicemailCall::RetrieveAny("example.com".into()).request_uri(),
            "sip:voicemail@example.com;mode=retrieve"
        );
        let uri = Uri::parse("sip:voicemail@example.com;mode=deposit;mailbox=alice").unwrap();
        assert!(is_service_uri(&uri));
        let uri = Uri::parse("sip:voicemail@example.com").unwrap();
        assert!(!is_service_uri(&uri));
    }

    #[test]
    fn the_users_own_rules_win() {
        let vm = VoicemailRoute {
            after_secs: 12,
            no_pin_at_home: false,
        };
        assert_eq!(with_voicemail(None, None), None);
        let f = with_voicemail(None, Some(vm)).unwrap();
        assert_eq!(f.busy.as_deref(), Some("voicemail"));
        assert_eq!(f.no_answer, Some(("voicemail".into(), 12)));
        assert_eq!(f.always, None);
        let own = Forwarding {
            busy: Some("bob@example.com".into()),
            ..Forwarding::default()
        };
        let f = with_voicemail(Some(own), Some(vm)).unwrap();
        assert_eq!(f.busy.as_deref(), Some("bob@example.com"));
        assert_eq!(f.unavailable.as_deref(), Some("voicemail"));
    }
}
