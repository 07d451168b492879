//! The shared conformance story on PostgreSQL, in a fresh database created for the run.
//!
//! Runs when `EVAC_TEST_POSTGRES_URL` names a server (CI always sets it); otherwise it says
//! loudly that the PostgreSQL half did not run.

use evac_store::Store;
use evac_store_postgres::PgStore;
use evac_store_postgres::scratch::{ScratchDatabase, test_server_url};

/// Makes the store look as if its requests were stored before name keys (no keys, the backfill
/// due).
const UNKEY_REQUESTS_SQL: &str =
    "DELETE FROM name_keys; INSERT INTO name_keys_backfill (due) VALUES (1)";

/// What an attacker with the database's owner role drops first: the audit trail's rules
/// (append-only, numbered under the sealer's lock).
const UNTRIGGER_AUDIT_SQL: &str = "DROP TRIGGER audit_events_append_only ON audit_events; \
     DROP TRIGGER audit_chain_append_only ON audit_chain; \
     DROP TRIGGER audit_events_number ON audit_events";

#[tokio::test]
async fn conformance_story_on_postgres() {
    let Some(admin_url) = test_server_url() else {
        return;
    };
    let scratch = ScratchDatabase::create(&admin_url).await.unwrap();
    let store = scratch.store().await.unwrap();
    evac_store::conformance::run(&store).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(UNKEY_REQUESTS_SQL))
        .execute(store.pool())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    evac_store::conformance::name_keys_are_backfilled(&store).await;
    evac_store::conformance::concurrent_intake_is_stored_and_counted(&store).await;
    evac_store::conformance::outbox_story(&store).await;
    evac_store::conformance::calls_story(&store).await;
    let pool = store.pool().clone();
    let raw = move |sql: String| -> futures_util::future::BoxFuture<'static, ()> {
        let pool = pool.clone();
        Box::pin(async move {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
    };
    evac_store::conformance::audit_tampering_is_found(&store, UNTRIGGER_AUDIT_SQL, &raw).await;
    store.pool().close().await;
    scratch.drop_now().await.unwrap();
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
