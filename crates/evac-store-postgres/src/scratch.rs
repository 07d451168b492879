//! Scratch databases for tests on a real server: the PostgreSQL half of every suite that runs
//! on both backends (this crate's conformance story, the app's races) creates one per test.
//!
//! The server comes from `EVAC_TEST_POSTGRES_URL`. Where it is not set, [`test_server_url`]
//! says loudly that the PostgreSQL half did not run; under CI (`CI` set) it fails instead, so
//! CI can never pass a suite it skipped.

use sqlx::Connection;

use crate::{PgStore, backend};
use evac_store::{Store, StoreError};

/// The server the PostgreSQL half of the tests runs on, or `None` (with a loud notice) where
/// none is configured. Panics under CI when none is.
pub fn test_server_url() -> Option<String> {
    match std::env::var("EVAC_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but EVAC_TEST_POSTGRES_URL is not: the PostgreSQL suite must run in CI"
            );
            eprintln!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !! EVAC_TEST_POSTGRES_URL is not set: the PostgreSQL half of this test  !!\n\
                 !! did NOT run. Set it, e.g. postgres://postgres@127.0.0.1:5432/test    !!\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            None
        }
    }
}

/// A fresh, empty database on the server of `admin_url`; [`ScratchDatabase::drop_now`] removes
/// it (a test that panics leaves it behind, named `evac_test_…`, for a look).
#[derive(Debug)]
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    pub async fn create(admin_url: &str) -> Result<Self, StoreError> {
        let name = format!("evac_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .map_err(backend)?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .map_err(backend)?;
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(admin_url);
        Ok(ScratchDatabase {
            admin_url: admin_url.to_string(),
            url: format!("{base}/{name}"),
            name,
        })
    }

    /// The scratch database's own URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A migrated store on the scratch database (each call is another node's connection pool).
    pub async fn store(&self) -> Result<PgStore, StoreError> {
        let store = PgStore::connect(&self.url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn drop_now(self) -> Result<(), StoreError> {
        let mut admin = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .map_err(backend)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await
        .map_err(backend)?;
        Ok(())
    }
}
