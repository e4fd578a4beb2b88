//! Which configuration file a command reads: `--config FILE`, else `SWITCHBOARD_CONFIG`,
//! else `/etc/switchboard/switchboard.toml`, else `./switchboard.toml`, else the built-in
//! defaults. The first one given (or, for the two standard paths, present) wins; a file
//! named by the flag or the variable must exist. Nothing is printed on success.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::Config;

/// The system-wide configuration file (installed by the Debian package).
pub const SYSTEM_CONFIG: &str = "/etc/switchboard/switchboard.toml";
/// The configuration file looked for in the working directory.
pub const LOCAL_CONFIG: &str = "switchboard.toml";
/// The environment variable naming a configuration file.
pub const CONFIG_ENV: &str = "SWITCHBOARD_CONFIG";

/// Where the configuration came from, for messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ConfigSource {
    /// No file found: built-in defaults.
    #[default]
    Defaults,
    /// `--config FILE`.
    Flag(PathBuf),
    /// `SWITCHBOARD_CONFIG=FILE`.
    Env(PathBuf),
    /// `/etc/switchboard/switchboard.toml`.
    System(PathBuf),
    /// `./switchboard.toml`.
    WorkingDir(PathBuf),
}

impl ConfigSource {
    /// The file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            ConfigSource::Defaults => None,
            ConfigSource::Flag(p)
            | ConfigSource::Env(p)
            | ConfigSource::System(p)
            | ConfigSource::WorkingDir(p) => Some(p),
        }
    }
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Defaults => write!(
                f,
                "built-in defaults; no --config, no {CONFIG_ENV}, no {SYSTEM_CONFIG}, \
                 no ./{LOCAL_CONFIG}"
            ),
            ConfigSource::Flag(p) => write!(f, "{} from --config", p.display()),
            ConfigSource::Env(p) => write!(f, "{} from {CONFIG_ENV}", p.display()),
            ConfigSource::System(p) | ConfigSource::WorkingDir(p) => {
                write!(f, "{}", p.display())
            }
        }
    }
}

/// Picks the configuration file in the documented order. `env` is the value of
/// [`CONFIG_ENV`] (an empty value counts as unset).
pub fn find(flag: Option<PathBuf>, env: Option<String>) -> ConfigSource {
    if let Some(p) = flag {
        return ConfigSource::Flag(p);
    }
    if let Some(p) = env.filter(|v| !v.is_empty()) {
        return ConfigSource::Env(PathBuf::from(p));
    }
    if Path::new(SYSTEM_CONFIG).is_file() {
        return ConfigSource::System(PathBuf::from(SYSTEM_CONFIG));
    }
    if Path::new(LOCAL_CONFIG).is_file() {
        return ConfigSource::WorkingDir(PathBuf::from(LOCAL_CONFIG));
    }
    ConfigSource::Defaults
}

/// Finds and loads the configuration.
pub fn load(flag: Option<PathBuf>) -> anyhow::Result<Config> {
    let source = find(flag, std::env::var(CONFIG_ENV).ok());
    let mut cfg = match source.path() {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    cfg.source = source;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_the_variable() {
        assert_eq!(
            find(Some("a.toml".into()), Some("b.toml".into())),
            ConfigSource::Flag("a.toml".into())
        );
        assert_eq!(
            find(None, Some("b.toml".into())),
            ConfigSource::Env("b.toml".into())
        );
        // An empty variable is no variable: the standard paths (or defaults) follow.
        assert!(!matches!(
            find(None, Some(String::new())),
            ConfigSource::Env(_)
        ));
    }
}
