//! [`Prompts`]: the spoken prompts (`<prompts_dir>/<name>.wav`, made by the `voicemail`
//! part from `prompts/en/*.txt`), loaded on first use and kept. A missing or unusable
//! prompt is logged once and plays as a short silence, so a call still works (the beep
//! and the messages are made or recorded here, not prompts).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use media::{wav, Clip};

/// The voicemail service's prompts besides `greeting-default` and the digits `0` to `9`:
/// with those, the files a prompt directory holds.
pub const VOICEMAIL_PROMPTS: [&str; 11] = [
    "enter-pin",
    "wrong-pin",
    "no-messages",
    "new-messages",
    "message-menu",
    "goodbye",
    "mailbox-number",
    "record-greeting",
    "deleted",
    "saved",
    "mailbox-full",
];

/// The prompts the other services ship (`prompts/en/*.txt`): the screening announcement,
/// call park's "parked at", and the early-media announcements before 404, 480 and 486.
pub const MEDIA_SERVICE_PROMPTS: [&str; 5] = ["screened", "parked-at", "404", "480", "486"];

/// The prompt directory and its loaded clips.
#[derive(Debug)]
pub struct Prompts {
    dir: PathBuf,
    cache: Mutex<HashMap<String, Clip>>,
}

impl Prompts {
    /// Prompts read from `dir`.
    pub fn new(dir: PathBuf) -> Prompts {
        Prompts {
            dir,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// True when `name.wav` exists (loaded or not).
    pub fn has(&self, name: &str) -> bool {
        self.cache.lock().is_ok_and(|c| c.contains_key(name))
            || self.dir.join(format!("{name}.wav")).is_file()
    }

    /// The prompt `name` (e.g. `greeting-default`, `7`).
    pub fn get(&self, name: &str) -> Clip {
        if let Some(c) = self.cache.lock().ok().and_then(|c| c.get(name).cloned()) {
            return c;
        }
        let path = self.dir.join(format!("{name}.wav"));
        let clip = match wav::load(&path) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(prompt = name, error = %e, "voicemail prompt missing or unusable; playing silence");
                Clip::silence(200)
            }
        };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(name.to_string(), clip.clone());
        }
        clip
    }

    /// The digits of `number` spoken one by one (characters other than digits skipped).
    pub fn digits(&self, number: &str) -> Clip {
        let parts: Vec<Clip> = number
            .chars()
            .filter(char::is_ascii_digit)
            .map(|d| self.get(&d.to_string()))
            .collect();
        Clip::concat(&parts)
    }
}
