//! `evac demo`: a working crisis centre on a laptop in one command.
//!
//! Creates (or reuses) the data directory, fills an empty database with the seeded January-2022
//! crisis, makes sure a supervisor can sign in, and serves. The supervisor's password is kept
//! in the data directory (readable only by its owner) so every start can print the login.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use evac_app::App;
use evac_demo::{Scenario, generate};
use evac_model::{Actor, Role};
use evac_store::IdempotencyClaim;
use rand::Rng;
use tokio::task::JoinSet;

use crate::config::Config;

/// Requests the demo loader keeps in flight, so the store commits them in groups.
const DEMO_INSERTS_IN_FLIGHT_MAX: usize = 512;
const SUPERVISOR: &str = "supervisor";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on [env: EVAC_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, env = "EVAC_LISTEN")]
    pub listen: Option<String>,
    /// How many requests the generated crisis has (only when the database is empty)
    #[arg(long, default_value_t = 2_000)]
    pub requests: usize,
    /// Seed of the generated crisis: the same seed gives the same crisis
    #[arg(long, default_value_t = 2022)]
    pub seed: u64,
    /// Prepare the data and print the login, but do not serve (for scripts and tests)
    #[arg(long, hide = true)]
    pub no_serve: bool,
}

/// Loads the generated crisis; returns how many requests were stored.
pub async fn load(
    app: &App,
    scenario: Scenario,
    truth_path: &std::path::Path,
) -> anyhow::Result<u64> {
    let mut truth = csv::Writer::from_writer(std::io::BufWriter::new(
        super::private_file(truth_path)
            .with_context(|| format!("cannot write {}", truth_path.display()))?,
    ));
    truth.write_record(["record_id", "party_index", "person_id", "household_id"])?;
    let bar = crate::progress::bar(scenario.requests as u64, "generating the crisis");
    let mut in_flight = JoinSet::new();
    let mut stored = 0u64;
    for g in generate(scenario) {
        for t in &g.truth {
            truth.serialize((&t.record_id, t.party_index, t.person_id, t.household_id))?;
        }
        let app = app.clone();
        // Keyed by record id: an interrupted load resumes without duplicates.
        let claim = IdempotencyClaim {
            key: format!("demo:{}", g.record_id),
            body_sha256: [0; 32],
        };
        in_flight.spawn(async move {
            app.submit_request_at(&Actor::System, &g.draft, Some(claim), g.received_at)
                .await
        });
        while in_flight.len() >= DEMO_INSERTS_IN_FLIGHT_MAX {
            in_flight.join_next().await.expect("non-empty")??;
            stored += 1;
            bar.inc(1);
        }
    }
    while let Some(done) = in_flight.join_next().await {
        done??;
        stored += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    truth.flush()?;
    Ok(stored)
}

fn new_password() -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The demo supervisor's password: created once, kept in the data directory.
async fn supervisor_login(app: &App, data_dir: &std::path::Path) -> anyhow::Result<String> {
    let path: PathBuf = data_dir.join("demo-login.txt");
    let saved = std::fs::read_to_string(&path).ok();
    let saved_password = saved
        .as_deref()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("password: ")));
    if let Some(password) = saved_password
        && app.store().user_by_name(SUPERVISOR).await?.is_some()
    {
        return Ok(password.to_string());
    }
    let password = new_password();
    app.add_user(None, SUPERVISOR, Role::Supervisor, &password)
        .await?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(file, "user: {SUPERVISOR}\npassword: {password}")?;
    Ok(password)
}

pub async fn run(config: &Config, args: DemoArgs) -> anyhow::Result<()> {
    // The demo keeps its login and ground truth there, on PostgreSQL too (where the store
    // itself creates nothing in it).
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let app = super::app(config, true).await?;
    let counts = app.store().intake_counts().await?;
    let password = if counts.requests == 0 {
        let started = std::time::Instant::now();
        eprintln!(
            "generating a January-2022 crisis: {} requests (seed {})…",
            args.requests, args.seed
        );
        let truth = config.data_dir.join("demo-truth.csv");
        let stored = load(
            &app,
            Scenario::january_2022(args.requests, args.seed),
            &truth,
        )
        .await?;
        eprintln!(
            "stored {stored} requests in {:.1} s; ground truth in {}",
            started.elapsed().as_secs_f64(),
            truth.display()
        );
        // A generated crisis is an exercise: drills may publish as of its days, and its
        // situation of January 2022 stays in force on today's clock instead of expiring.
        app.store()
            .mark_exercise(
                "the generated January-2022 crisis",
                evac_model::Timestamp::now(),
            )
            .await?;
        let password = supervisor_login(&app, &config.data_dir).await?;
        let staff = app.console_staff(SUPERVISOR).await?;
        let seeded = app
            .seed_demo_situation(&staff, Scenario::january_2022(0, args.seed).start)
            .await?;
        eprintln!("{seeded}");
        // Two flights out of Bishkek (the open way out of Almaty by road), from tomorrow: a
        // new user can preview and publish a plan at once and see its notices.
        let now = evac_model::Timestamp::now();
        for (code, hours, seats) in [("SU 1942", 26, 150), ("KC 909", 50, 180)] {
            let flight = evac_model::TransportDraft {
                code: Some(code.into()),
                kind: Some("flight".into()),
                hub: Some("FRU".into()),
                destination: Some("Moscow".into()),
                lands_in: Some("RU".into()),
                departs_at: Some(now.plus_seconds(hours * 3600).to_string()),
                seats: Some(seats.to_string()),
                ..Default::default()
            };
            app.add_transport(&staff, &flight).await?;
        }
        // The embassy's convoy from Almaty's bus station to Nur-Sultan, whose people fly out on
        // RF 7042 from there: one journey of two legs.
        app.seed_demo_convoy_way(&staff, now).await?;
        for (code, kind, hub, feeds, hours, seats) in [
            (
                "CONVOY 1",
                "convoy",
                evac_app::DEMO_BUS_STATION,
                Some(("NQZ", 30)),
                8,
                50,
            ),
            ("RF 7042", "flight", "NQZ", None, 40, 146),
        ] {
            // Nur-Sultan's airport is closed inside its night curfew: the flight leaves in
            // the day, whenever the demo starts.
            let departs_at = now.plus_seconds(hours * 3600);
            let departs_at = if hub == "NQZ" {
                after_curfew(departs_at, evac_demo::NUR_SULTAN_CURFEW, "Asia/Almaty")
            } else {
                departs_at
            };
            let transport = evac_model::TransportDraft {
                code: Some(code.into()),
                kind: Some(kind.into()),
                hub: Some(hub.into()),
                destination: Some(
                    feeds
                        .map_or("Moscow Chkalovsky", |_| "Nur-Sultan airport")
                        .into(),
                ),
                departs_at: Some(departs_at.to_string()),
                seats: Some(seats.to_string()),
                // A feeder lands inside the crisis; the flight out lands in Russia.
                lands_in: feeds.is_none().then(|| "RU".into()),
                feeds_hub: feeds.map(|(to, _)| to.into()),
                arrives_at: feeds.map(|(_, h)| now.plus_seconds(h * 3600).to_string()),
                ..Default::default()
            };
            app.add_transport(&staff, &transport).await?;
        }
        eprintln!(
            "added flights SU 1942 and KC 909 from Bishkek (FRU), tomorrow and the day after, and CONVOY 1 from Almaty's bus station (ALABUS) to Nur-Sultan connecting to RF 7042: preview a plan on the desk's planning page"
        );
        password
    } else {
        eprintln!(
            "reusing {}: {} requests, {} people",
            config.database.redacted(),
            counts.requests,
            counts.persons
        );
        supervisor_login(&app, &config.data_dir).await?
    };
    let linked = app.relink().await?;
    // The queue is what waits once pairs other merges answer are left out: fewer than the
    // pairs logged (a family's copies asked three times over are one question).
    eprintln!(
        "linked {} people: {} new merges of duplicates, {} new pairs logged for review; {} wait in the review queue",
        linked.persons,
        linked.auto_merged,
        linked.queued_for_review,
        app.review_queue_len().await?
    );
    let token = app.create_token(None, SUPERVISOR, "demo").await?.secret;

    let listener = super::serve::bind(&config.listen).await?;
    let url = format!("http://{}", listener.local_addr()?);
    println!("evac demo is running at {url}");
    println!("  desk:     {url}/login");
    println!("  login:    {SUPERVISOR} / {password}");
    println!("  public:   {url}/request (the request form), {url}/status");
    println!("  token:    {token}");
    println!("  try:      curl -H 'Authorization: Bearer {token}' '{url}/api/v1/requests?limit=2'");
    println!("  API:      {url}/api/v1/openapi.json");
    println!(
        "  data:     {} (stop with Ctrl-C; run again to reuse it)",
        config.data_dir.display()
    );
    if args.no_serve {
        return Ok(());
    }
    super::serve::serve(listener, app).await
}

/// `at`, or, when it or its check-in (`CHECK_IN_S` before) falls inside `curfew` in the time
/// zone `zone`, the first quarter of an hour after `at` when neither does (the planner shuts a
/// hub under curfew to both; at most two days' steps).
fn after_curfew(
    at: evac_model::Timestamp,
    curfew: evac_model::DailyWindow,
    zone: &str,
) -> evac_model::Timestamp {
    const STEP_S: i64 = 15 * 60;
    const CHECK_IN_S: i64 = 2 * 60 * 60;
    let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let clear = |t: evac_model::Timestamp| {
        !curfew.contains_at(t, &zone) && !curfew.contains_at(t.plus_seconds(-CHECK_IN_S), &zone)
    };
    let mut t = at;
    for _ in 0..(2 * 24 * 60 * 60 / STEP_S) {
        if clear(t) {
            return t;
        }
        t = t.plus_seconds(STEP_S);
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's Nur-Sultan flight must be plannable whenever the demo starts: neither its
    /// departure nor its check-in two hours before inside the night curfew (an 08:00 flight
    /// checked in at 06:00, inside it, and took no one).
    #[test]
    fn a_flight_moved_after_the_curfew_departs_and_checks_in_outside_it() {
        let zone = jiff::tz::TimeZone::get("Asia/Almaty").unwrap_or(jiff::tz::TimeZone::UTC);
        let curfew = evac_demo::NUR_SULTAN_CURFEW;
        let midnight_utc: evac_model::Timestamp = "2022-01-07T00:00:00Z".parse().unwrap();
        for quarter in 0..96 {
            let at = midnight_utc.plus_seconds(quarter * 15 * 60);
            let moved = after_curfew(at, curfew, "Asia/Almaty");
            assert!(moved >= at);
            assert!(!curfew.contains_at(moved, &zone), "{at} → {moved}");
            assert!(
                !curfew.contains_at(moved.plus_seconds(-2 * 60 * 60), &zone),
                "{at} → {moved}: check-in inside the curfew"
            );
        }
    }
}
