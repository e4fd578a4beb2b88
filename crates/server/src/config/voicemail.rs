//! `[voicemail]`: mailbox bounds, access codes, message-waiting, where prompts and
//! messages live, and the deposit/retrieval limits of the voicemail service (the
//! `services` crate); their defaults, checks, and the proxy's and the service's views.
//! Mailboxes themselves are in the database (`switchboard voicemail ...`,
//! docs/voicemail.md).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::bail;
use serde::Deserialize;

/// Where the Debian package installs the prompts.
pub const PACKAGE_PROMPTS_DIR: &str = "/usr/share/switchboard/prompts/en";

/// `[voicemail]`: voicemail and message-waiting (docs/voicemail.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoicemailSection {
    /// Most messages a mailbox holds; a deposit to a full mailbox is refused (the caller
    /// hears `mailbox-full`).
    pub max_messages: u32,
    /// Dialled from a user's own phone: their mailbox.
    pub retrieve_code: String,
    /// Dialled from any local phone: asks the mailbox number and PIN.
    pub any_phone_code: String,
    /// Also send message-waiting NOTIFYs to registered phones that did not subscribe.
    pub unsolicited_mwi: bool,
    /// Most message-waiting subscriptions at once; more are answered 503.
    pub max_subscriptions: usize,
    /// The longest message.
    pub max_message_secs: u64,
    /// Silence that ends a message.
    pub silence_secs: u64,
    /// The longest greeting.
    pub max_greeting_secs: u64,
    /// Wrong PINs in a row before a mailbox is locked.
    pub pin_attempts: u32,
    /// How long a mailbox stays locked.
    pub pin_lockout_secs: u64,
    /// Where the prompt WAV files are. Default: the package's share directory when it
    /// exists, else `<data_dir>/prompts`.
    pub prompts_dir: Option<PathBuf>,
}

impl Default for VoicemailSection {
    fn default() -> Self {
        let d = proxy::VoicemailConfig::default();
        VoicemailSection {
            max_messages: 100,
            retrieve_code: d.retrieve_code,
            any_phone_code: d.any_phone_code,
            unsolicited_mwi: false,
            max_subscriptions: 10_000,
            max_message_secs: 180,
            silence_secs: 10,
            max_greeting_secs: 60,
            pin_attempts: 3,
            pin_lockout_secs: 300,
            prompts_dir: None,
        }
    }
}

impl VoicemailSection {
    /// The proxy's view.
    pub fn to_proxy(&self) -> proxy::VoicemailConfig {
        proxy::VoicemailConfig {
            retrieve_code: self.retrieve_code.clone(),
            any_phone_code: self.any_phone_code.clone(),
            unsolicited_mwi: self.unsolicited_mwi,
            max_subscriptions: self.max_subscriptions,
        }
    }

    /// The service's view; messages go to `<data_dir>/voicemail`.
    pub fn to_service(&self, data_dir: &Path) -> services::VoicemailConfig {
        services::VoicemailConfig {
            storage_dir: data_dir.join("voicemail"),
            max_message: Duration::from_secs(self.max_message_secs),
            silence: Duration::from_secs(self.silence_secs),
            max_greeting: Duration::from_secs(self.max_greeting_secs),
            pin_attempts: self.pin_attempts,
            pin_lockout: Duration::from_secs(self.pin_lockout_secs),
            ..services::VoicemailConfig::default()
        }
    }

    /// The prompts directory in effect.
    pub fn prompts_dir(&self, data_dir: &Path) -> PathBuf {
        match &self.prompts_dir {
            Some(p) => p.clone(),
            None if Path::new(PACKAGE_PROMPTS_DIR).is_dir() => PathBuf::from(PACKAGE_PROMPTS_DIR),
            None => data_dir.join("prompts"),
        }
    }

    /// Where a mailbox's messages and greeting are stored.
    pub fn mailbox_dir(data_dir: &Path, aor: &model::AddressOfRecord) -> PathBuf {
        data_dir.join("voicemail").join(aor.to_string())
    }

    /// Checks the bounds, the limits and the access codes.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.max_messages == 0 || self.max_messages > 10_000 {
            bail!("voicemail.max_messages: must be 1 to 10000");
        }
        if self.max_subscriptions == 0 {
            bail!("voicemail.max_subscriptions: must be at least 1");
        }
        if self.max_message_secs == 0 || self.max_message_secs > 3600 {
            bail!("voicemail.max_message_secs: must be 1 to 3600");
        }
        if self.silence_secs == 0 {
            bail!("voicemail.silence_secs: must be at least 1");
        }
        if self.max_greeting_secs == 0 || self.max_greeting_secs > 600 {
            bail!("voicemail.max_greeting_secs: must be 1 to 600");
        }
        if self.pin_attempts == 0 {
            bail!("voicemail.pin_attempts: must be at least 1");
        }
        for (key, code) in [
            ("retrieve_code", &self.retrieve_code),
            ("any_phone_code", &self.any_phone_code),
        ] {
            let ok = !code.is_empty()
                && code.len() <= 16
                && code
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#');
            if !ok {
                bail!("voicemail.{key}: {code:?} must be 1 to 16 of 0-9, * and #");
            }
        }
        if self.retrieve_code == self.any_phone_code {
            bail!("voicemail.any_phone_code: must differ from voicemail.retrieve_code");
        }
        Ok(())
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_bounds_are_checked() {
        let ok = VoicemailSection::default();
        ok.validate().unwrap();
        let bad = VoicemailSection {
            retrieve_code: "*9a".into(),
            ..VoicemailSection::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("retrieve_code"));
        let same = VoicemailSection {
            any_phone_code: "*98".into(),
            ..VoicemailSection::default()
        };
        assert!(same.validate().is_err());
        let none = VoicemailSection {
            max_messages: 0,
            ..VoicemailSection::default()
        };
        assert!(none
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_messages"));
    }
}
