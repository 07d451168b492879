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
    let batches = store.intake_batches_committed();
    evac_store::conformance::concurrent_intake_answers_each_request(&store).await;
    assert!(
        store.intake_batches_committed() > batches,
        "the keyed burst was stored as a batch, not request by request"
    );
    evac_store::conformance::outbox_story(&store).await;
    evac_store::conformance::calls_story(&store).await;
    evac_store::conformance::assignments_story(&store).await;
    evac_store::conformance::shared_linkage_story(&store).await;
    evac_store::conformance::link_keys_story(&store).await;
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
    evac_store::conformance::places_story(&store, &raw).await;
    // Last: it drops the audit trail's triggers, which every later insert needs.
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

/// Issue 26: on PostgreSQL the application's role cannot update or delete audit rows, whatever
/// becomes of the triggers. The role `grant_app_role` prepares starts evac (no DDL once
/// migrated), takes requests, appends and seals the trail; an UPDATE, DELETE or TRUNCATE of the
/// trail is refused for lack of privilege even with the owner's triggers dropped.
#[tokio::test]
async fn the_app_role_appends_to_the_audit_trail_and_cannot_rewrite_it() {
    use sqlx::Connection;
    let Some(admin_url) = test_server_url() else {
        return;
    };
    let scratch = ScratchDatabase::create(&admin_url).await.unwrap();
    let owner = scratch.store().await.unwrap();
    let role = format!(
        "evac_app_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE ROLE {role} LOGIN")))
        .execute(&mut admin)
        .await
        .unwrap();
    let refused = owner
        .grant_app_role("Robert'); DROP TABLE requests;--")
        .await;
    assert!(refused.is_err(), "a name that is not a plain identifier");
    let missing = owner.grant_app_role("evac_no_such_role").await.unwrap_err();
    assert!(missing.to_string().contains("create it first"), "{missing}");
    for everyone in ["public", "current_user", "postgres", "pg_read_all_data"] {
        let refused = owner.grant_app_role(everyone).await.unwrap_err();
        assert!(
            refused.to_string().contains("not PUBLIC, the owner"),
            "{everyone}: {refused}"
        );
    }
    owner.grant_app_role(&role).await.unwrap();

    // The app, as its role (trust authentication on the test server).
    let (scheme, rest) = scratch.url().split_once("://").unwrap();
    let host_and_db = rest.split_once('@').map_or(rest, |(_, h)| h);
    let app_url = format!("{scheme}://{role}@{host_and_db}");
    let app = PgStore::connect(&app_url).await.unwrap();
    app.migrate()
        .await
        .expect("a migrated database needs no DDL to start");
    // A schema newer than this build (a migration it does not know) is refused, as the
    // migrator refuses it, not started on.
    sqlx::raw_sql(sqlx::AssertSqlSafe(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99999999, 'from a newer build', true, '\\x00', 0)",
    ))
    .execute(owner.pool())
    .await
    .unwrap();
    assert!(app.migrate().await.is_err(), "a newer schema is refused");
    sqlx::raw_sql(sqlx::AssertSqlSafe(
        "DELETE FROM _sqlx_migrations WHERE version = 99999999",
    ))
    .execute(owner.pool())
    .await
    .unwrap();
    let insert = evac_store::conformance::sample_insert("Rolova", 7);
    app.insert_request(&insert).await.unwrap();
    assert!(
        app.seal_audit(100).await.unwrap() >= 1,
        "the app seals the trail"
    );

    let mut as_app = sqlx::PgConnection::connect(&app_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(UNTRIGGER_AUDIT_SQL))
        .execute(owner.pool())
        .await
        .unwrap();
    for statement in [
        "UPDATE audit_events SET action = 'nothing happened'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "DELETE FROM audit_chain",
        "UPDATE audit_chain SET hash = '\\x00'",
        "DROP TABLE audit_events",
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (999, 'x', true, '\\x00', 0)",
    ] {
        let e = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut as_app)
            .await
            .expect_err(statement);
        let code = e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("42501"), "{statement}: {e}");
    }
    // Everything else a node does still works for the role.
    let trail = app.audit_trail(0, 100).await.unwrap();
    assert!(!trail.is_empty());

    as_app.close().await.unwrap();
    app.pool().close().await;
    owner.pool().close().await;
    scratch.drop_now().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE {role}")))
        .execute(&mut admin)
        .await
        .unwrap();
}
