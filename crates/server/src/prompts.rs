//! Voice prompts from text: each `NAME.txt` of a directory spoken by Debian's `espeak-ng`
//! and converted to `NAME.wav`, 8 kHz mono 16-bit PCM (what the media engine plays).
//!
//! This module owns running the synthesizer and writing the files. The texts are in the
//! repository (`prompts/en/`), the conversion is `admin::convert_greeting`, and which
//! prompt plays when is the voicemail service's.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// Most prompt texts read from one directory.
const MAX_PROMPTS: usize = 256;
/// Longest prompt text, in bytes.
const MAX_TEXT: u64 = 4096;

/// Speaks every `*.txt` of `from` with espeak-ng's `voice` into `to/NAME.wav`; returns the
/// files written, by name.
pub fn generate(from: &Path, to: &Path, voice: &str) -> anyhow::Result<Vec<PathBuf>> {
    if voice.is_empty()
        || !voice
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-+_".contains(&b))
    {
        bail!("voice: {voice:?} is not an espeak-ng voice name (e.g. en, de, fr)");
    }
    let mut texts: Vec<PathBuf> = std::fs::read_dir(from)
        .with_context(|| format!("from: reading {}", from.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    texts.sort();
    if texts.is_empty() {
        bail!("from: no prompt texts (*.txt) in {}", from.display());
    }
    if texts.len() > MAX_PROMPTS {
        bail!(
            "from: more than {MAX_PROMPTS} prompt texts in {}",
            from.display()
        );
    }
    std::fs::create_dir_all(to).with_context(|| format!("to: creating {}", to.display()))?;
    let mut written = Vec::with_capacity(texts.len());
    for text in texts {
        let name = text
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("from: {} has no usable name", text.display()))?;
        let len = std::fs::metadata(&text)?.len();
        if len > MAX_TEXT {
            bail!("from: {} is longer than {MAX_TEXT} bytes", text.display());
        }
        let raw = to.join(format!("{name}.espeak.wav"));
        let status = Command::new("espeak-ng")
            .arg("-v")
            .arg(voice)
            .arg("-w")
            .arg(&raw)
            .arg("-f")
            .arg(&text)
            .status();
        let status = match status {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("espeak-ng is not installed (Debian: apt install espeak-ng)")
            }
            Err(e) => return Err(e).context("running espeak-ng"),
        };
        if !status.success() {
            let _ = std::fs::remove_file(&raw);
            bail!("espeak-ng failed on {} ({status})", text.display());
        }
        let bytes = std::fs::read(&raw).with_context(|| format!("reading {}", raw.display()))?;
        let _ = std::fs::remove_file(&raw);
        let wav = admin::convert_greeting(&bytes)
            .map_err(|e| anyhow::anyhow!("espeak-ng's output for {name}: {e}"))?;
        let out = to.join(format!("{name}.wav"));
        std::fs::write(&out, wav).with_context(|| format!("writing {}", out.display()))?;
        written.push(out);
    }
    Ok(written)
}
