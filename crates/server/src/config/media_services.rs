//! `[moh]` and `[announcements]`: music on hold and announcements, two services of the
//! service host (docs/services.md); their keys, defaults, checks, and the proxy's and the
//! host's views. They run only with `[media] enabled`.

use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

/// `[moh]`: music on hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MohSection {
    /// The user part that reaches it in every local domain (`sip:moh@DOMAIN`).
    pub name: String,
    /// The playlist: WAV files played in order and looped. Empty: the shipped melody.
    pub files: Vec<PathBuf>,
}

impl Default for MohSection {
    fn default() -> Self {
        MohSection {
            name: proxy::MediaServicesConfig::default().moh_name,
            files: Vec::new(),
        }
    }
}

/// `[announcements]`: `sip:announce-NAME@DOMAIN` plays `NAME.wav` and hangs up.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnnouncementsSection {
    /// Where `NAME.wav` is found. Default: the voicemail prompts directory (where
    /// `screened.wav`, the screening announcement, is generated).
    pub dir: Option<PathBuf>,
    /// Failures the proxy answers itself (404 no such user, 480 no phone registered,
    /// ...) that are preceded by early media: `183` with `STATUS.wav`, then the failure.
    pub early_media: Vec<u16>,
}

impl AnnouncementsSection {
    /// Checks the early-media statuses.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        for s in &self.early_media {
            if !(400..=699).contains(s) || *s == 401 || *s == 407 {
                bail!("announcements.early_media: {s} must be a failure status from 400 to 699, not 401 or 407");
            }
        }
        Ok(())
    }
}

impl MohSection {
    /// The proxy's view of `[moh]` and `[announcements]`.
    pub fn to_proxy(&self, announcements: &AnnouncementsSection) -> proxy::MediaServicesConfig {
        proxy::MediaServicesConfig {
            moh_name: self.name.clone(),
            early_media: announcements.early_media.clone(),
            ..proxy::MediaServicesConfig::default()
        }
    }

    /// Checks the name and that the files exist.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        let ok = !self.name.is_empty()
            && self.name.len() <= 32
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.*#+".contains(&b));
        if !ok {
            bail!(
                "moh.name: {:?} must be 1 to 32 of A-Z, a-z, 0-9, - _ . * # +",
                self.name
            );
        }
        let prefix = proxy::MediaServicesConfig::default().announce_prefix;
        if self.name.to_ascii_lowercase().starts_with(&prefix) {
            bail!("moh.name: {:?} must not start with {prefix:?}", self.name);
        }
        if self.files.len() > 100 {
            bail!("moh.files: at most 100 files");
        }
        for f in &self.files {
            if !f.is_file() {
                bail!("moh.files: {} is not a file", f.display());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_files_are_checked() {
        MohSection::default().validate().unwrap();
        for (name, key) in [
            ("", "moh.name"),
            ("a b", "moh.name"),
            ("announce-x", "moh.name"),
        ] {
            let bad = MohSection {
                name: name.into(),
                ..MohSection::default()
            };
            assert!(
                bad.validate().unwrap_err().to_string().contains(key),
                "{name}"
            );
        }
        let missing = MohSection {
            files: vec!["/nonexistent/hold.wav".into()],
            ..MohSection::default()
        };
        let e = missing.validate().unwrap_err().to_string();
        assert!(
            e.contains("moh.files") && e.contains("/nonexistent/hold.wav"),
            "{e}"
        );
    }
}
