//! Opening the store for an administration command, and `switchboard init`.
//!
//! Only `init` and `run` create a database. Every other command opens the one the
//! configuration names and, when it does not exist yet, says where it looked and which
//! configuration it read, and asks for `switchboard init`: a command run from the wrong
//! directory must not provision a database the server never sees.

use std::io::Write as _;

use anyhow::Context;
use model::StoreError;
use storage::SqlStore;

use super::output::print_json;
use crate::config::Config;

/// Where a SQLite database URL points, made absolute against the working directory (for
/// messages); other URLs without their password.
fn location(cfg: &Config) -> String {
    let url = cfg.database_url();
    let described = storage::describe_url(&url);
    if url.starts_with("sqlite:") {
        let p = std::path::Path::new(&described);
        if p.is_relative() {
            if let Ok(cwd) = std::env::current_dir() {
                return cwd.join(p).display().to_string();
            }
        }
    }
    described
}

/// Opens the existing database named by the configuration (never creating it).
pub async fn open(cfg: &Config) -> anyhow::Result<SqlStore> {
    match SqlStore::connect_existing(&cfg.database_url(), 2).await {
        Ok(s) => Ok(s),
        Err(StoreError::NotFound { .. }) => anyhow::bail!(
            "no database at {} (configuration: {}); run `switchboard init` to create it",
            location(cfg),
            cfg.source
        ),
        Err(e) => Err(anyhow::Error::new(e)).with_context(|| {
            format!(
                "opening database {}",
                crate::startup::redact(&cfg.database_url())
            )
        }),
    }
}

/// `switchboard init`: creates the data directory and the database (or the schema in an
/// existing MariaDB/PostgreSQL database), applying migrations as `run` does. Running it on
/// an initialised database only brings the schema up to date.
pub async fn init(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let existed = SqlStore::connect_existing(&cfg.database_url(), 1)
        .await
        .is_ok();
    std::fs::create_dir_all(&cfg.server.data_dir)
        .with_context(|| format!("creating data directory {}", cfg.server.data_dir.display()))?;
    let store = SqlStore::connect(&cfg.database_url(), 1)
        .await
        .with_context(|| {
            format!(
                "creating database {}",
                crate::startup::redact(&cfg.database_url())
            )
        })?;
    let version = store.schema_version().await?;
    store.close().await;
    let what = if existed {
        "already initialised"
    } else {
        "initialised"
    };
    if json {
        print_json(&serde_json::json!({
            "ok": true,
            "database": location(cfg),
            "created": !existed,
            "schema_version": version,
        }));
    } else {
        let _ = writeln!(
            std::io::stdout(),
            "database {} {what} (schema version {version}, configuration: {})",
            location(cfg),
            cfg.source
        );
    }
    Ok(())
}
