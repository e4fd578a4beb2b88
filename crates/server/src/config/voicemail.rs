//! `[voicemail]`: deposit and retrieval settings of the voicemail service (the `services`
//! crate) and their checks. Message-waiting and CLI settings are the `voicemail` part's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::bail;
use serde::Deserialize;

/// `[voicemail]` (docs/voicemail.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoicemailSection {
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
    /// Prompt directory; default `/usr/share/switchboard/prompts/en` when present, else
    /// `<data_dir>/prompts`.
    pub prompts_dir: Option<PathBuf>,
}

impl Default for VoicemailSection {
    fn default() -> Self {
        VoicemailSection {
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

    /// The prompt directory.
    pub fn prompts(&self, data_dir: &Path) -> PathBuf {
        if let Some(d) = &self.prompts_dir {
            return d.clone();
        }
        let shared = PathBuf::from("/usr/share/switchboard/prompts/en");
        if shared.is_dir() {
            shared
        } else {
            data_dir.join("prompts")
        }
    }

    /// Checks the limits.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
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
        Ok(())
    }
}
