//! What the app's integration tests share: a fresh app on its own SQLite file, and the
//! backends a race runs on.

#![allow(dead_code)] // each test binary uses its own part of this

use std::sync::Arc;

use evac_app::{App, DatabaseUrl, Settings, open_store};
use evac_store::Store;
use evac_store_postgres::scratch::{ScratchDatabase, test_server_url};

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

/// A fresh database on one backend, on which tests start "nodes": apps with their own memory
/// (linker, ranking, pass keys read once) over one truth, sharing one pass key file as a
/// deployment's nodes do.
pub struct Backend {
    pub kind: BackendKind,
    keys: tempfile::TempDir,
}

pub enum BackendKind {
    /// One process owns an SQLite file: its nodes share the store (and so its one writer).
    Sqlite {
        store: Arc<dyn Store>,
        _dir: tempfile::TempDir,
    },
    /// Each node has its own connection pool to the scratch database, as separate servers do.
    Postgres(ScratchDatabase),
}

impl Backend {
    /// SQLite always; PostgreSQL too when `EVAC_TEST_POSTGRES_URL` names a server (CI always).
    pub async fn all() -> Vec<Backend> {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&DatabaseUrl::Sqlite(dir.path().join("evac.db")), true)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let keys = || tempfile::tempdir().unwrap();
        let mut all = vec![Backend {
            kind: BackendKind::Sqlite { store, _dir: dir },
            keys: keys(),
        }];
        if let Some(admin) = test_server_url() {
            all.push(Backend {
                kind: BackendKind::Postgres(ScratchDatabase::create(&admin).await.unwrap()),
                keys: keys(),
            });
        }
        all
    }

    pub fn name(&self) -> &'static str {
        match self.kind {
            BackendKind::Sqlite { .. } => "sqlite",
            BackendKind::Postgres(_) => "postgres",
        }
    }

    /// A new node on this backend's database.
    pub async fn node(&self) -> App {
        self.node_with(Settings::default()).await
    }

    /// A new node with its own settings; every node shares one pass key file, as a
    /// deployment's nodes do.
    pub async fn node_with(&self, mut settings: Settings) -> App {
        let store: Arc<dyn Store> = match &self.kind {
            BackendKind::Sqlite { store, .. } => store.clone(),
            BackendKind::Postgres(scratch) => Arc::new(scratch.store().await.unwrap()),
        };
        settings
            .pass_key_file
            .get_or_insert_with(|| self.keys.path().join("pass-keys"));
        App::new(store, settings)
    }

    /// Removes the scratch database (PostgreSQL); SQLite's directory goes with the value.
    pub async fn finish(self) {
        if let BackendKind::Postgres(scratch) = self.kind {
            scratch.drop_now().await.unwrap();
        }
    }
}

/// 2022-01-05T00:00:00Z, the first day of the unrest.
pub fn start() -> evac_model::Timestamp {
    "2022-01-05T00:00:00Z".parse().unwrap()
}

/// A planner and a supervisor on the demo's seeded situation from [`start`] (Almaty's airport
/// and its road closed, Bishkek open by road).
pub async fn cell(app: &App) -> (evac_app::Staff, evac_app::Staff) {
    use evac_model::Role;
    for (name, role) in [("super1", Role::Supervisor), ("planner1", Role::Planner)] {
        app.add_user(None, name, role, "correct horse battery")
            .await
            .unwrap();
    }
    let supervisor = app.console_staff("super1").await.unwrap();
    app.seed_demo_situation(&supervisor, start()).await.unwrap();
    (app.console_staff("planner1").await.unwrap(), supervisor)
}

/// Appends one link event between two people, as the linker (`actor: System`) writes it, and
/// answers its sequence number: for tests that need a merge or a review pair without waiting
/// for the linker to find it.
pub async fn append_link(
    app: &App,
    kind: evac_model::LinkEventKind,
    person_a: evac_model::PersonId,
    person_b: evac_model::PersonId,
    match_probability: f64,
    at: evac_model::Timestamp,
) -> i64 {
    let event = evac_model::LinkEvent {
        at,
        actor: evac_model::Actor::System,
        kind,
        person_a,
        person_b,
        match_probability,
        explanation: "{}".into(),
        refers_to: None,
    };
    app.store()
        .append_link_events(vec![event], Vec::new(), evac_store::AppendIf::Always)
        .await
        .unwrap();
    let about_them = app
        .store()
        .link_events_of(&[person_a, person_b])
        .await
        .unwrap();
    about_them.last().expect("the event just appended").seq
}
