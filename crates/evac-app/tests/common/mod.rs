//! What the app's integration tests share: a fresh app on its own SQLite file, and the
//! backends a race runs on.

#![allow(dead_code)] // each test binary uses its own part of this

use std::collections::HashMap;
use std::sync::Arc;

use evac_app::{App, DatabaseUrl, Settings, open_store};
use evac_model::{PassId, PersonId, SeatEventKind, StoredSeatEvent, TransportId};
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

/// Replays the seat log strictly; panics at the first event the rules forbid. A person holds
/// at most one live seat on a transport out and one on a feeder from each hub (`feeders_from`:
/// each feeder's hub); no transport holds more people than its `seats`; a seat's number is one
/// of its transport's seats, held by no other live seat there, and every later event of the
/// seat carries it.
pub fn assert_the_seat_log_holds(
    log: &[StoredSeatEvent],
    seats: &HashMap<TransportId, u32>,
    feeders_from: &HashMap<TransportId, String>,
) {
    let mut live: HashMap<(PersonId, Option<&str>), (PassId, TransportId, SeatEventKind)> =
        HashMap::new();
    let mut on: HashMap<TransportId, u32> = HashMap::new();
    let mut numbers: HashMap<(TransportId, u32), PersonId> = HashMap::new();
    let mut number_of: HashMap<PassId, u32> = HashMap::new();
    for stored in log {
        let e = &stored.event;
        let key = (e.person, feeders_from.get(&e.transport).map(String::as_str));
        if e.kind != SeatEventKind::Seated {
            assert_eq!(
                e.seat_number,
                number_of.get(&e.pass).copied(),
                "event {}: a seat's later event keeps its number",
                stored.seq
            );
        }
        match e.kind {
            SeatEventKind::Seated => {
                if let Some(held) = live.get(&key) {
                    panic!(
                        "event {}: person {} seated on {} while holding a seat on {}",
                        stored.seq, e.person, e.transport, held.1
                    );
                }
                let number = e.seat_number.unwrap_or_else(|| {
                    panic!("event {}: a seat is given with its number", stored.seq)
                });
                assert!(
                    (1..=seats[&e.transport]).contains(&number),
                    "event {}: seat {number} is not one of the transport's {} seats",
                    stored.seq,
                    seats[&e.transport]
                );
                if let Some(other) = numbers.insert((e.transport, number), e.person) {
                    panic!(
                        "event {}: seat {number} given to {} while {other} holds it",
                        stored.seq, e.person
                    );
                }
                number_of.insert(e.pass, number);
                live.insert(key, (e.pass, e.transport, e.kind));
                let count = on.entry(e.transport).or_default();
                *count += 1;
                assert!(
                    *count <= seats[&e.transport],
                    "event {}: transport {} holds {} people on {} seats",
                    stored.seq,
                    e.transport,
                    count,
                    seats[&e.transport]
                );
            }
            SeatEventKind::Unseated | SeatEventKind::NoShow => {
                if let Some(number) = e.seat_number {
                    numbers.remove(&(e.transport, number));
                }
                let held = live.remove(&key);
                assert_eq!(
                    held.map(|h| h.0),
                    Some(e.pass),
                    "event {}: released a pass that was not the live seat",
                    stored.seq
                );
                *on.get_mut(&e.transport).unwrap() -= 1;
            }
            SeatEventKind::CheckedIn | SeatEventKind::Boarded => {
                let held = live.get_mut(&key);
                assert!(
                    held.as_ref().is_some_and(|h| h.0 == e.pass),
                    "event {}: scanned a pass that is not the live seat",
                    stored.seq
                );
                held.unwrap().2 = e.kind;
            }
        }
    }
}

pub async fn whole_seat_log(app: &App) -> Vec<StoredSeatEvent> {
    let mut log = Vec::new();
    loop {
        let after = log.last().map_or(0, |e: &StoredSeatEvent| e.seq);
        let page = app.store().seat_events(after, 10_000).await.unwrap();
        if page.is_empty() {
            return log;
        }
        log.extend(page);
    }
}
