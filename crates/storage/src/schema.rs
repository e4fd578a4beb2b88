//! The schema's version table and applying the migrations a database lacks, each in its
//! own transaction (DDL is transactional on SQLite and PostgreSQL, not on MySQL).
//!
//! The scripts themselves are under `migrations/<backend>/`, chosen in `dialect.rs`.

use model::StoreError;

use crate::db::{backend_err, unix_now};
use crate::SqlStore;

const VERSIONS: &str = "SELECT version FROM schema_version";

impl SqlStore {
    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let versions: Vec<i64> = with_pool!(&self.pool, p => {
            sqlx::query_scalar(VERSIONS).fetch_all(p).await
        })
        .map_err(backend_err)?;
        Ok(versions.into_iter().max().unwrap_or(0))
    }

    /// Creates `schema_version` and applies the migrations it does not list.
    pub(crate) async fn migrate(&self) -> Result<(), sqlx::Error> {
        let create = "CREATE TABLE IF NOT EXISTS schema_version \
                      (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)";
        let insert = self.sql("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)");
        let backend = self.backend();
        with_pool!(&self.pool, p => {
            sqlx::query(create).execute(p).await?;
            let applied: Vec<i64> = sqlx::query_scalar(VERSIONS).fetch_all(p).await?;
            for (version, script) in backend.migrations() {
                if applied.contains(&version) {
                    continue;
                }
                let mut tx = p.begin().await?;
                sqlx::raw_sql(script).execute(&mut *tx).await?;
                sqlx::query(&insert)
                    .bind(version)
                    .bind(unix_now())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Ok(())
        })
    }
}
