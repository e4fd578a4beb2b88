//! `[moh]`, `[announcements]` and `[park]`: music on hold, announcements and call park,
//! services of the service host (docs/services.md); their keys, defaults, checks, and the proxy's and the
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
    /// Failures (the proxy's own 404 / 480, the phones' 486, ...) preceded by early
    /// media: `183` with `STATUS.wav`, then the failure.
    pub early_media: Vec<u16>,
}

/// `[park]`: call park by number.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ParkSection {
    /// The user part of the park service (`sip:park@DOMAIN`).
    pub name: String,
    /// The feature code that parks (a call or a blind transfer to it).
    pub code: String,
    /// The orbits, `"FIRST-LAST"`: dialling one retrieves the call parked there.
    pub orbits: String,
    /// How long a call stays parked before it is hung up.
    pub timeout_secs: u64,
}

impl Default for ParkSection {
    fn default() -> Self {
        let d = proxy::MediaServicesConfig::default();
        ParkSection {
            name: d.park_name,
            code: d.park_code,
            orbits: format!("{}-{}", d.park_orbits.0, d.park_orbits.1),
            timeout_secs: 300,
        }
    }
}

impl ParkSection {
    /// The orbit range.
    pub fn orbits(&self) -> anyhow::Result<(u32, u32)> {
        let parsed = self.orbits.split_once('-').and_then(|(a, b)| {
            Some((a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?))
        });
        match parsed {
            Some((a, b)) if a <= b && b - a < 1000 && b < 1_000_000_000 => Ok((a, b)),
            _ => bail!(
                "park.orbits: {:?} must be \"FIRST-LAST\" (at most 1000 orbits), e.g. \"701-720\"",
                self.orbits
            ),
        }
    }

    /// Checks the name, the code, the orbits and the timeout.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        self.orbits()?;
        for (key, v) in [("name", &self.name), ("code", &self.code)] {
            let ok = !v.is_empty()
                && v.len() <= 32
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.*#+".contains(&b));
            if !ok {
                bail!("park.{key}: {v:?} must be 1 to 32 of A-Z, a-z, 0-9, - _ . * # +");
            }
        }
        if self.timeout_secs == 0 || self.timeout_secs > 86_400 {
            bail!("park.timeout_secs: must be 1 to 86400");
        }
        Ok(())
    }
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
    /// The proxy's view of `[moh]`, `[announcements]` and `[park]` (checked already).
    pub fn to_proxy(
        &self,
        announcements: &AnnouncementsSection,
        park: &ParkSection,
    ) -> proxy::MediaServicesConfig {
        let d = proxy::MediaServicesConfig::default();
        proxy::MediaServicesConfig {
            moh_name: self.name.clone(),
            early_media: announcements.early_media.clone(),
            park_name: park.name.clone(),
            park_code: park.code.clone(),
            park_orbits: park.orbits().unwrap_or(d.park_orbits),
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
