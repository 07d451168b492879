//! What the app's integration tests share: a fresh app on its own SQLite file.

use evac_app::{App, DatabaseUrl, Settings, open_store};

/// A migrated app on a new SQLite database in a temporary directory (kept alive by the
/// returned guard).
pub async fn fresh_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&DatabaseUrl::Sqlite(dir.path().join("evac.db")), true)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (App::new(store, Settings::default()), dir)
}
