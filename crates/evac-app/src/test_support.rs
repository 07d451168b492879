//! What the app's unit tests share: an app on a migrated SQLite database holding a generated
//! crisis.

use std::sync::Arc;

use evac_model::Actor;
use evac_store::Store;

use crate::{App, DatabaseUrl, Settings, open_store};

/// An app on a new SQLite database in a temporary directory (kept alive by the returned guard),
/// holding the demo's January 2022 with `requests` requests, submitted as received.
pub(crate) async fn demo_app(
    requests: usize,
    seed: u64,
) -> (App, Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&DatabaseUrl::Sqlite(dir.path().join("evac.db")), true)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let app = App::new(store.clone(), Settings::default());
    for g in evac_demo::generate(evac_demo::Scenario::january_2022(requests, seed)) {
        app.submit_request_at(&Actor::System, &g.draft, None, g.received_at)
            .await
            .unwrap();
    }
    (app, store, dir)
}
