//! The shared conformance story on SQLite, plus what only the embedded backend promises.

use evac_store::Store;
use evac_store_sqlite::{OpenMode, SqliteStore};

#[tokio::test]
async fn conformance_story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("evac.db"), OpenMode::CreateIfMissing).unwrap();
    store.migrate().await.unwrap();
    evac_store::conformance::run(&store).await;
    let raw = rusqlite::Connection::open(dir.path().join("evac.db")).unwrap();
    raw.execute_batch(evac_store_sqlite::UNKEY_REQUESTS_SQL)
        .unwrap();
    drop(raw);
    store.migrate().await.unwrap();
    evac_store::conformance::name_keys_are_backfilled(&store).await;
    evac_store::conformance::concurrent_intake_is_stored_and_counted(&store).await;
    evac_store::conformance::concurrent_intake_answers_each_request(&store).await;
    evac_store::conformance::outbox_story(&store).await;
    evac_store::conformance::calls_story(&store).await;
    evac_store::conformance::assignments_story(&store).await;
    evac_store::conformance::shared_linkage_story(&store).await;
    evac_store::conformance::link_keys_story(&store).await;
    let path = dir.path().join("evac.db");
    let raw = move |sql: String| -> futures_util::future::BoxFuture<'static, ()> {
        let path = path.clone();
        Box::pin(async move {
            rusqlite::Connection::open(&path)
                .unwrap()
                .execute_batch(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
    };
    evac_store::conformance::places_story(&store, &raw).await;
    // Last: it drops the audit trail's triggers, which every later insert needs.
    evac_store::conformance::audit_tampering_is_found(&store, UNTRIGGER_AUDIT_SQL, &raw).await;
}

/// What an attacker with the database file drops first: the audit trail's append-only rules.
const UNTRIGGER_AUDIT_SQL: &str = "DROP TRIGGER audit_events_no_update; \
     DROP TRIGGER audit_events_no_delete; DROP TRIGGER audit_chain_no_update; \
     DROP TRIGGER audit_chain_no_delete";

#[tokio::test]
async fn a_missing_file_or_directory_is_an_error_not_a_new_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("evca.db");
    let err = SqliteStore::open(&missing, OpenMode::MustExist)
        .err()
        .expect("must not open")
        .to_string();
    assert!(
        err.contains("no evac database at") && err.contains("evca.db"),
        "{err}"
    );
    assert!(!missing.exists(), "nothing was created");
    let err = SqliteStore::open(
        &dir.path().join("no-such-dir/evac.db"),
        OpenMode::CreateIfMissing,
    )
    .err()
    .expect("must not open")
    .to_string();
    assert!(err.contains("does not exist"), "{err}");
}

#[tokio::test]
async fn a_foreign_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    // Another program's database: it has a schema version but not evac's application id.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 3;")
        .unwrap();
    let err = SqliteStore::open(&path, OpenMode::MustExist)
        .err()
        .expect("must refuse")
        .to_string();
    assert!(err.contains("not an evac one"), "{err}");
}

#[tokio::test]
async fn concurrent_writers_are_grouped_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(
        SqliteStore::open(&dir.path().join("evac.db"), OpenMode::CreateIfMissing).unwrap(),
    );
    store.migrate().await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.append_audit(vec![test_event(i)]).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let trail = store.audit_trail(0, 1000).await.unwrap();
    assert_eq!(trail.len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_file_is_truncated_once_writes_pause() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("evac.db"), OpenMode::CreateIfMissing).unwrap();
    store.migrate().await.unwrap();
    store.set_wal_truncate_idle_ms(500);
    for i in 0..50 {
        store.append_audit(vec![test_event(i)]).await.unwrap();
    }
    let wal = dir.path().join("evac.db-wal");
    let wal_bytes = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(wal_bytes() > 0, "the writes went through the WAL");
    // Idle for the 500 ms set above, with room for a slow machine.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while wal_bytes() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(wal_bytes(), 0, "the idle WAL file was not truncated");
    // The data is all in the database file, and writes go on as before.
    assert_eq!(store.audit_trail(0, 1000).await.unwrap().len(), 50);
    store.append_audit(vec![test_event(50)]).await.unwrap();
    assert_eq!(store.audit_trail(0, 1000).await.unwrap().len(), 51);
}

/// An audit event: the smallest write the store takes.
fn test_event(i: i64) -> evac_store::AuditEvent {
    evac_store::AuditEvent {
        at: evac_model::Timestamp::from_unix_micros(i),
        actor: evac_model::Actor::System,
        action: "test.write".into(),
        subject: Some(i.to_string()),
        detail: serde_json::json!({}),
    }
}

/// Issue 26: the database (every requester's personal data, the passes' signing secret) was
/// created 0644, readable by every account on the host. It is created 0600, with its WAL,
/// and an existing one readable by others is narrowed when opened.
#[cfg(unix)]
#[tokio::test]
async fn the_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evac.db");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let store = SqliteStore::open(&path, OpenMode::CreateIfMissing).unwrap();
    store.migrate().await.unwrap();
    store.append_audit(vec![test_event(1)]).await.unwrap();
    assert_eq!(mode(&path), 0o600);
    let wal = dir.path().join("evac.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600, "the WAL holds the same data");
    }
    drop(store);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = SqliteStore::open(&path, OpenMode::MustExist).unwrap();
    assert_eq!(mode(&path), 0o600, "narrowed when opened");
}
