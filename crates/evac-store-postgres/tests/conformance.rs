//! The shared conformance story on PostgreSQL, in a fresh database created for the run.
//!
//! Runs when `EVAC_TEST_POSTGRES_URL` names a server (CI always sets it); otherwise it says
//! loudly that the PostgreSQL half did not run.

use evac_store::Store;
use evac_store_postgres::PgStore;
use sqlx::Connection;

/// A fresh database on the server of `EVAC_TEST_POSTGRES_URL`, dropped when the test ends.
struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    async fn create(admin_url: &str) -> Self {
        let name = format!("evac_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("connect to EVAC_TEST_POSTGRES_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(admin_url);
        ScratchDatabase {
            admin_url: admin_url.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }

    async fn drop_now(self) {
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }
}

fn postgres_url() -> Option<String> {
    match std::env::var("EVAC_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            // CI never skips: there the missing variable is a failure, not a notice.
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but EVAC_TEST_POSTGRES_URL is not: the PostgreSQL suite must run in CI"
            );
            eprintln!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !! EVAC_TEST_POSTGRES_URL is not set: the PostgreSQL conformance suite  !!\n\
                 !! did NOT run. Set it, e.g. postgres://postgres@127.0.0.1:5432/test    !!\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            None
        }
    }
}

/// Makes the store look as if its requests were stored before name keys (no keys, the backfill
/// due).
const UNKEY_REQUESTS_SQL: &str =
    "DELETE FROM name_keys; INSERT INTO name_keys_backfill (due) VALUES (1)";

#[tokio::test]
async fn conformance_story_on_postgres() {
    let Some(admin_url) = postgres_url() else {
        return;
    };
    let scratch = ScratchDatabase::create(&admin_url).await;
    let store = PgStore::connect(&scratch.url).await.unwrap();
    store.migrate().await.unwrap();
    evac_store::conformance::run(&store).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(UNKEY_REQUESTS_SQL))
        .execute(store.pool())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    evac_store::conformance::name_keys_are_backfilled(&store).await;
    evac_store::conformance::concurrent_intake_is_stored_and_counted(&store).await;
    store.pool().close().await;
    scratch.drop_now().await;
}

#[tokio::test]
async fn a_non_postgres_url_is_refused() {
    let err = PgStore::connect("mysql://localhost/evac")
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("not a PostgreSQL URL"), "{err}");
}
