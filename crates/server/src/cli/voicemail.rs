//! `switchboard voicemail ...`: mailboxes (enable, disable), their messages (list,
//! delete), greetings (a WAV file converted to 8 kHz mono), and the prompts made with
//! espeak-ng (docs/voicemail.md).
//!
//! The rules are `admin`'s; this module reads and writes the audio files: a mailbox's
//! files live in `<data_dir>/voicemail/USER@DOMAIN/`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use admin::VoicemailOptions;
use anyhow::Context;
use clap::Subcommand;
use model::{AddressOfRecord, VoicemailStore};

use super::{done, friendly, open, parse_aor, print_json, print_table, publish};
use crate::config::{Config, VoicemailSection};

/// Largest greeting file read, in bytes (300 s of 48 kHz stereo 24-bit is ~86 MB).
const MAX_GREETING_FILE: u64 = 96 * 1024 * 1024;

/// `switchboard voicemail ...`
#[derive(Subcommand, Debug)]
pub enum VoicemailCmd {
    /// Turn voicemail on for USER (or change its PIN and settings): busy, unanswered and
    /// unreachable calls go to the mailbox.
    Enable {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// The mailbox PIN: 4 to 16 digits (stored hashed).
        #[arg(long)]
        pin: String,
        /// Seconds the user's phones ring before voicemail answers (default 20).
        #[arg(long)]
        after: Option<u32>,
        /// No PIN asked when the user dials the retrieval code from their own phone.
        #[arg(long)]
        no_pin_at_home: bool,
    },
    /// Turn voicemail off for USER (messages, PIN and greeting are kept).
    Disable {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
    },
    /// List USER's mailbox settings and messages.
    List {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
    },
    /// Delete message ID of USER's mailbox (its audio file too).
    Delete {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// The message's ID (see `voicemail list`).
        id: i64,
    },
    /// Make FILE (a WAV file: PCM of any rate, channels and bit depth) USER's greeting; it
    /// is converted to 8 kHz mono 16-bit. `--default` goes back to the default prompt.
    Greeting {
        /// USER@DOMAIN
        #[arg(value_parser = parse_aor)]
        user: AddressOfRecord,
        /// The WAV file.
        #[arg(required_unless_present = "default")]
        file: Option<PathBuf>,
        /// Remove the user's greeting: the default prompt plays.
        #[arg(long, conflicts_with = "file")]
        default: bool,
    },
    /// Make the voice prompts from their texts with espeak-ng (8 kHz mono 16-bit WAV).
    Prompts {
        /// The directory of the prompt texts (`*.txt`, one prompt each).
        #[arg(long)]
        from: PathBuf,
        /// Where the WAV files go (default: the configured prompts directory).
        #[arg(long)]
        to: Option<PathBuf>,
        /// The espeak-ng voice (e.g. `en`, `de`, `fr`).
        #[arg(long, default_value = "en")]
        voice: String,
    },
}

/// `voicemail ...`
pub async fn run(cfg: &Config, cmd: VoicemailCmd, json: bool) -> anyhow::Result<()> {
    if let VoicemailCmd::Prompts { from, to, voice } = cmd {
        let to = to.unwrap_or_else(|| cfg.voicemail.prompts_dir(&cfg.server.data_dir));
        let made = crate::prompts::generate(&from, &to, &voice)?;
        done(
            json,
            &format!("{} prompt(s) written to {}", made.len(), to.display()),
        );
        return Ok(());
    }
    let store = open(cfg).await?;
    match cmd {
        VoicemailCmd::Enable {
            user,
            pin,
            after,
            no_pin_at_home,
        } => {
            let options = VoicemailOptions {
                pin,
                after_secs: after,
                no_pin_at_home,
            };
            let enabled = admin::enable_voicemail(&store, &store, &user, &options).await?;
            publish(cfg, &enabled.notices).await;
            let what = if enabled.result { "enabled" } else { "updated" };
            done(json, &format!("voicemail of {user} {what}"));
        }
        VoicemailCmd::Disable { user } => {
            let disabled = admin::disable_voicemail(&store, &user).await?;
            publish(cfg, &disabled.notices).await;
            done(
                json,
                &format!("voicemail of {user} disabled (messages kept)"),
            );
        }
        VoicemailCmd::List { user } => list(&store, &user, json).await?,
        VoicemailCmd::Delete { user, id } => {
            let deleted = admin::delete_voicemail_message(&store, &user, id).await?;
            remove_file(Path::new(&deleted.result.file));
            publish(cfg, &deleted.notices).await;
            done(json, &format!("message {id} of {user} deleted"));
        }
        VoicemailCmd::Greeting {
            user,
            file,
            default,
        } => {
            let stored = match (file, default) {
                (Some(file), false) => Some(store_greeting(cfg, &store, &user, &file).await?),
                _ => None,
            };
            let path = stored.as_ref().map(|p| p.display().to_string());
            let set = admin::set_voicemail_greeting(&store, &user, path.as_deref()).await?;
            publish(cfg, &set.notices).await;
            match path {
                Some(p) => done(json, &format!("greeting of {user} set ({p})")),
                None => done(json, &format!("greeting of {user} is the default prompt")),
            }
        }
        VoicemailCmd::Prompts { .. } => {}
    }
    Ok(())
}

/// Converts `file` and stores it as the mailbox's `greeting.wav` (written whole, then
/// renamed into place). The mailbox must exist first (no orphan files).
async fn store_greeting(
    cfg: &Config,
    store: &storage::SqlStore,
    user: &AddressOfRecord,
    file: &Path,
) -> anyhow::Result<PathBuf> {
    if store.mailbox(user).await.map_err(friendly)?.is_none() {
        anyhow::bail!("{user} has no mailbox (switchboard voicemail enable {user} --pin DIGITS)");
    }
    let len = std::fs::metadata(file)
        .with_context(|| format!("file: reading {}", file.display()))?
        .len();
    if len > MAX_GREETING_FILE {
        anyhow::bail!(
            "file: {} is {len} bytes, more than the {MAX_GREETING_FILE} accepted",
            file.display()
        );
    }
    let bytes = std::fs::read(file).with_context(|| format!("file: reading {}", file.display()))?;
    let wav = admin::convert_greeting(&bytes)
        .map_err(|e| anyhow::anyhow!("{} ({})", e, file.display()))?;
    let dir = VoicemailSection::mailbox_dir(&cfg.server.data_dir, user);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir.canonicalize().unwrap_or(dir);
    let target = dir.join("greeting.wav");
    let tmp = dir.join("greeting.wav.new");
    std::fs::write(&tmp, wav).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &target).with_context(|| format!("writing {}", target.display()))?;
    Ok(target)
}

/// Removes a message's file; a file already gone is no error (the row was the truth).
fn remove_file(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => super::error(&format!("removing {}: {e}", path.display())),
    }
}

async fn list(store: &storage::SqlStore, user: &AddressOfRecord, json: bool) -> anyhow::Result<()> {
    let Some(mailbox) = store.mailbox(user).await.map_err(friendly)? else {
        anyhow::bail!("{user} has no mailbox (switchboard voicemail enable {user} --pin DIGITS)");
    };
    let messages = store.messages(user).await.map_err(friendly)?;
    if json {
        print_json(&serde_json::json!({
            "user": user.to_string(),
            "enabled": mailbox.enabled,
            "after": mailbox.after_secs,
            "no_pin_at_home": mailbox.no_pin_at_home,
            "greeting": mailbox.greeting,
            "messages": messages.iter().map(|m| serde_json::json!({
                "id": m.id, "caller": m.caller, "received_at": m.received_at,
                "duration": m.duration_secs, "status": m.status.as_str(), "file": m.file,
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    let _ = writeln!(
        std::io::stdout(),
        "{user}: voicemail {}, after {}s{}, greeting: {}",
        if mailbox.enabled { "on" } else { "off" },
        mailbox.after_secs,
        if mailbox.no_pin_at_home {
            ", no PIN at home"
        } else {
            ""
        },
        mailbox.greeting.as_deref().unwrap_or("default prompt"),
    );
    print_table(
        &["ID", "STATUS", "RECEIVED (UTC)", "SECS", "CALLER"],
        messages
            .iter()
            .map(|m| {
                vec![
                    m.id.to_string(),
                    m.status.to_string(),
                    admin::utc::date_time(m.received_at),
                    m.duration_secs.to_string(),
                    m.caller.clone(),
                ]
            })
            .collect(),
    );
    Ok(())
}
