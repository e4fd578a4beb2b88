//! Voicemail: deposit ([`deposit`]) and retrieval ([`retrieve`]) over a [`Call`], the
//! files messages and greetings are written to, the wrong-PIN throttle
//! ([`PinThrottle`]), and the mailbox-changed signal ([`MailboxChanged`]) that drives
//! message-waiting notification.

mod deposit;
mod retrieve;
mod throttle;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use throttle::PinThrottle;

use crate::call::Call;
use crate::host::ServiceContext;
use crate::mailbox::MailboxId;
use crate::request_uri::VoicemailMode;

/// A mailbox's messages changed (added, saved, deleted): the server re-reads its counts
/// and notifies the user's phones (RFC 3842).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxChanged {
    /// The mailbox.
    pub mailbox: MailboxId,
}

/// Runs a voicemail call to its end.
pub(crate) async fn run(call: Call, mode: VoicemailMode, domain: String, ctx: Arc<ServiceContext>) {
    match mode {
        VoicemailMode::Deposit { mailbox } => deposit::deposit(call, mailbox, ctx).await,
        VoicemailMode::Retrieve { mailbox, home } => {
            retrieve::retrieve(call, mailbox, home, domain, ctx).await
        }
    }
}

/// `<storage>/<domain>/<user>/`: a mailbox's files. User and domain were checked by the
/// proxy; anything but `[A-Za-z0-9._+-]` is replaced so a name cannot climb out.
pub(crate) fn mailbox_dir(ctx: &ServiceContext, mailbox: &MailboxId) -> PathBuf {
    let clean = |s: &str| -> String {
        let s: String = s
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if s.starts_with('.') {
            format!("_{s}")
        } else {
            s
        }
    };
    ctx.config
        .voicemail
        .storage_dir
        .join(clean(&mailbox.domain))
        .join(clean(&mailbox.user))
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Writes samples as a WAV file off the runtime's threads.
pub(crate) async fn save_wav(path: PathBuf, samples: Vec<i16>) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        media::wav::save(&path, &samples).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Loads a WAV file off the runtime's threads.
pub(crate) async fn load_wav(path: PathBuf) -> Result<media::Clip, String> {
    tokio::task::spawn_blocking(move || media::wav::load(&path).map_err(|e| e.to_string()))
        .await
        .map_err(|e| e.to_string())?
}
