//! `evac bench replay`: January 2022 replayed through evac's own use cases, to see whether a
//! planner could trust it over days of closures, reopenings, a cancellation and no-shows.
//!
//! The demo's requests arrive 5–10 January. Almaty's airport and its road are closed; they
//! reopen on 13 January, which staff announce on the 12th. Nur-Sultan and Bishkek stay open;
//! the highway to Nur-Sultan is closed to private cars, and an embassy convoy takes people
//! from Almaty's bus station to a Nur-Sultan flight (one journey of two legs).
//! Flights are announced a day before they leave; one is cancelled after it was published.
//! Plans are published every 12 hours (each seeing only what had arrived by then) and again
//! at each gate two hours before departure, with passengers checked in; at each gate most
//! households come, some do not come at all, and now and then one person of a family is
//! missing; no-shows are released to standby an hour and a half before departure.
//! Only citizens of Russia and their dependants may be seated (the policy's eligibility).
//!
//! It fails (non-zero exit) if a re-plan ever moves a checked-in household, a manifest has a
//! child travelling alone without an escort (or more relying on the escorts on board than they
//! can take), or a household with no Russian citizen is seated.
//! It reports, per priority class, how long departed households waited from their request to
//! departure, against the floor (the earliest departure they could have used at all when first
//! planned) and against the same replay served first come, first served.

use std::collections::{HashMap, HashSet};

use clap::Args;
use evac_app::{App, Staff};
use evac_model::{Statement, Timestamp, TransportDraft, TransportId, TransportStatus};
use rand::{Rng, SeedableRng};

#[derive(Debug, Args)]
pub struct ReplayBenchArgs {
    /// Requests of the replayed crisis
    #[arg(long, default_value_t = 2_000)]
    pub requests: usize,
    #[arg(long, default_value_t = 2022)]
    pub seed: u64,
    /// Skip the first-come-first-served run (half the time)
    #[arg(long)]
    pub no_fcfs: bool,
}

const HOUR_S: i64 = 3_600;
/// Households that do not come to the gate at all, and single people missing from a family
/// that came.
const HOUSEHOLD_NO_SHOW: f64 = 0.08;
const PERSON_MISSING: f64 = 0.02;

/// A transport of the replay: hub, hours after the crisis's start, seats per 1,000 requests;
/// for a convoy, the hub it ends at and the hour it arrives.
struct Flight {
    code: &'static str,
    hub: &'static str,
    departs_h: i64,
    seats_per_thousand: u32,
    feeds: Option<(&'static str, i64)>,
}

const FLIGHTS: [Flight; 13] = [
    // The embassy's convoy from Almaty's bus station, 16 hours to Nur-Sultan, whose people
    // fly out on NQZ-1. It leaves after NQZ-1 is announced (a day before that flight), so
    // the publication that seats it can give its people the flight too.
    Flight {
        code: "CONVOY-1",
        hub: evac_app::DEMO_BUS_STATION,
        departs_h: 78,
        seats_per_thousand: 50,
        feeds: Some(("NQZ", 94)),
    },
    Flight {
        code: "FRU-1",
        hub: "FRU",
        departs_h: 60,
        seats_per_thousand: 60,
        feeds: None,
    },
    Flight {
        code: "NQZ-1",
        hub: "NQZ",
        departs_h: 96,
        seats_per_thousand: 146,
        feeds: None,
    },
    // Cancelled after its first publication.
    Flight {
        code: "NQZ-2",
        hub: "NQZ",
        departs_h: 104,
        seats_per_thousand: 84,
        feeds: None,
    },
    Flight {
        code: "NQZ-3",
        hub: "NQZ",
        // 09:00 local: Nur-Sultan's airport is closed inside its night curfew (23:00-07:00),
        // to departures and to check-in (two hours before).
        departs_h: 117,
        seats_per_thousand: 86,
        feeds: None,
    },
    Flight {
        code: "FRU-2",
        hub: "FRU",
        departs_h: 120,
        seats_per_thousand: 80,
        feeds: None,
    },
    Flight {
        code: "NQZ-4",
        hub: "NQZ",
        // 09:00 local, as NQZ-3.
        departs_h: 141,
        seats_per_thousand: 146,
        feeds: None,
    },
    Flight {
        code: "NQZ-5",
        hub: "NQZ",
        departs_h: 146,
        seats_per_thousand: 146,
        feeds: None,
    },
    Flight {
        code: "NQZ-6",
        hub: "NQZ",
        departs_h: 150,
        seats_per_thousand: 146,
        feeds: None,
    },
    Flight {
        code: "ALA-1",
        hub: "ALA",
        departs_h: 192,
        seats_per_thousand: 146,
        feeds: None,
    },
    Flight {
        code: "ALA-2",
        hub: "ALA",
        departs_h: 200,
        seats_per_thousand: 146,
        feeds: None,
    },
    Flight {
        code: "ALA-3",
        hub: "ALA",
        departs_h: 210,
        seats_per_thousand: 146,
        feeds: None,
    },
    Flight {
        code: "ALA-4",
        hub: "ALA",
        departs_h: 226,
        seats_per_thousand: 146,
        feeds: None,
    },
];
const CANCELLED: &str = "NQZ-2";
/// Publications every this many hours, from the crisis's start, until every flight has left.
const PUBLISH_EVERY_H: i64 = 12;

/// What one run of the replay saw.
struct Outcome {
    /// Per household (its first request's external reference): its class, when it asked and
    /// when it left (if it did).
    households: HashMap<String, Departure>,
    violations: Vec<String>,
    publications: usize,
    /// Households that boarded a convoy (and their flight from its hub later).
    by_convoy: usize,
    /// Households held back at a gate: children of theirs lost their escort (who did not come)
    /// and the escorts on board could not take them.
    held_back: usize,
}

#[derive(Clone)]
struct Departure {
    class: u8,
    asked_at: Timestamp,
    /// The earliest departure it could have used at all, when first planned.
    floor: Option<Timestamp>,
    left_at: Option<Timestamp>,
}

pub async fn run(args: ReplayBenchArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let priority = one_run(&args, false).await?;
    let fcfs = if args.no_fcfs {
        None
    } else {
        Some(one_run(&args, true).await?)
    };
    println!(
        "evac bench replay: {} requests, {} publications, {:.0} s ({})",
        args.requests,
        priority.publications,
        started.elapsed().as_secs_f64(),
        super::machine()
    );
    let median = |mut v: Vec<f64>| -> String {
        if v.is_empty() {
            return "-".into();
        }
        v.sort_by(f64::total_cmp);
        format!("{:.1}", v[v.len() / 2])
    };
    let hours =
        |from: Timestamp, to: Timestamp| (to.unix_micros() - from.unix_micros()) as f64 / 3.6e9;
    println!(
        "  households that boarded the convoy to Nur-Sultan (then a flight from there): {}",
        priority.by_convoy
    );
    println!(
        "  households held back at a gate (children of theirs lost their escort, and the escorts on board were full): {}",
        priority.held_back
    );
    println!(
        "  (households: every household planned at some time, eligible or not; left: departed; wait: from its first request to departure; floor: the earliest departure it could use at all when first seated)"
    );
    println!(
        "  class  households  left  median wait h  median floor h  left (FCFS)  median wait h (FCFS)"
    );
    let classes: std::collections::BTreeSet<u8> =
        priority.households.values().map(|d| d.class).collect();
    for class in classes {
        let of_class: Vec<(&String, &Departure)> = priority
            .households
            .iter()
            .filter(|(_, d)| d.class == class)
            .collect();
        let left: Vec<&Departure> = of_class
            .iter()
            .map(|(_, d)| *d)
            .filter(|d| d.left_at.is_some())
            .collect();
        let waits: Vec<f64> = left
            .iter()
            .map(|d| hours(d.asked_at, d.left_at.unwrap()))
            .collect();
        let floors: Vec<f64> = left
            .iter()
            .filter_map(|d| Some(hours(d.asked_at, d.floor?)))
            .collect();
        let (fcfs_left, fcfs_wait) = match &fcfs {
            None => ("-".to_string(), "-".to_string()),
            Some(f) => {
                let waits: Vec<f64> = of_class
                    .iter()
                    .filter_map(|(key, _)| {
                        let d = f.households.get(*key)?;
                        Some(hours(d.asked_at, d.left_at?))
                    })
                    .collect();
                (waits.len().to_string(), median(waits))
            }
        };
        println!(
            "  {class:>5}  {:>10}  {:>4}  {:>13}  {:>14}  {fcfs_left:>11}  {fcfs_wait:>20}",
            of_class.len(),
            left.len(),
            median(waits),
            median(floors)
        );
    }
    let all_violations: Vec<&String> = priority
        .violations
        .iter()
        .chain(fcfs.iter().flat_map(|f| &f.violations))
        .collect();
    println!(
        "  checked-in passengers moved by a re-plan, lone children without an escort, households without a citizen seated: {}",
        all_violations.len()
    );
    if !all_violations.is_empty() {
        for v in all_violations.iter().take(20) {
            println!("    {v}");
        }
        anyhow::bail!("the replay broke {} rule(s)", all_violations.len());
    }
    Ok(())
}

/// The replay once, under the default policy or first come, first served (one class for all,
/// the same eligibility).
async fn one_run(args: &ReplayBenchArgs, fcfs: bool) -> anyhow::Result<Outcome> {
    let (app, _dir, _, _) = super::demo_app(args.requests, args.seed).await?;
    for (name, role) in [
        ("planner", evac_model::Role::Supervisor),
        ("gate", evac_model::Role::FieldOfficer),
    ] {
        app.add_user(None, name, role, "correct horse battery")
            .await?;
    }
    let staff = app.console_staff("planner").await?;
    let gate = app.console_staff("gate").await?;
    let start = evac_demo::Scenario::january_2022(args.requests, args.seed).start;
    app.seed_demo_situation(&staff, start).await?;
    app.seed_demo_convoy_way(&staff, start).await?;
    let policy = if fcfs {
        "name = \"first come, first served\"\nversion = 1\n[[classes]]\nname = \"everyone\"\nany = [{ always = true }]\n[within_class]\npoints_per_waiting_hour = 1.0\npoints_per_threat_level = 0.0\n".to_string()
    } else {
        evac_triage::Policy::default_policy_toml().to_string()
    };
    let policy = format!("{policy}\n[eligibility]\ncitizens_of = [\"RU\"]\n");
    app.change_policy(&staff, &policy, 0).await?;
    // On the 12th at noon (the start is 5 January, 06:00) staff announce that Almaty's airport
    // and its road open on the 13th at midnight.
    let reopening_said = start.plus_seconds(174 * HOUR_S);
    let reopens = start.plus_seconds(186 * HOUR_S);
    let mut said = false;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    let mut ids: HashMap<&'static str, TransportId> = HashMap::new();
    let mut gone: HashSet<&'static str> = HashSet::new();
    // Households that boarded a convoy: their seating was judged at its gate.
    let mut rode_convoy: HashSet<String> = HashSet::new();
    let mut out = Outcome {
        households: HashMap::new(),
        violations: Vec::new(),
        publications: 0,
        by_convoy: 0,
        held_back: 0,
    };
    // A household's reference → its first request's external reference (the same household
    // in both runs: references are drawn at random, the demo's record ids are not).
    let mut key_of: HashMap<String, String> = HashMap::new();
    let mut never_seated: HashMap<String, u8> = HashMap::new();
    let last_departure = FLIGHTS.iter().map(|f| f.departs_h).max().unwrap_or(0);
    let mut at_h = PUBLISH_EVERY_H;
    while at_h <= last_departure {
        let now = start.plus_seconds(at_h * HOUR_S);
        if !said && now >= reopening_said {
            for subject in ["hub:ALA", "route:almaty-airport"] {
                let statement = Statement {
                    subject: subject.parse()?,
                    effect: "open".parse()?,
                    from: reopens,
                    until: None,
                    capacity_per_day: None,
                    note: "reopens on the 13th".into(),
                };
                app.set_status_said(
                    &staff.actor(),
                    "crisis centre staff",
                    &statement,
                    reopening_said,
                )
                .await?;
            }
            said = true;
        }
        for f in &FLIGHTS {
            let departs = start.plus_seconds(f.departs_h * HOUR_S);
            // Announced a day before it leaves.
            if !ids.contains_key(f.code) && now >= departs.plus_seconds(-24 * HOUR_S) {
                let seats = (f.seats_per_thousand as usize * args.requests / 1_000).max(4);
                let draft = TransportDraft {
                    code: Some(f.code.into()),
                    kind: Some(
                        if f.feeds.is_some() {
                            "convoy"
                        } else {
                            "flight"
                        }
                        .into(),
                    ),
                    feeds_hub: f.feeds.map(|(hub, _)| hub.into()),
                    arrives_at: f
                        .feeds
                        .map(|(_, h)| start.plus_seconds(h * HOUR_S).to_string()),
                    hub: Some(f.hub.into()),
                    destination: Some(
                        if f.feeds.is_some() {
                            "Nur-Sultan airport"
                        } else {
                            "Moscow Chkalovsky"
                        }
                        .into(),
                    ),
                    departs_at: Some(departs.to_string()),
                    seats: Some(seats.to_string()),
                    stretcher_places: Some("4".into()),
                    wheelchair_places: Some("4".into()),
                    escorts: Some("2".into()),
                    ..Default::default()
                };
                ids.insert(f.code, app.add_transport(&staff, &draft).await?.id);
            }
            // Cancelled eight hours before departure, after it was published.
            if f.code == CANCELLED
                && !gone.contains(f.code)
                && now >= departs.plus_seconds(-8 * HOUR_S)
            {
                app.set_transport_status(&staff, ids[f.code], TransportStatus::Cancelled)
                    .await?;
                gone.insert(f.code);
            }
        }
        let checked_in_before = checked_in_households(&app, &staff, &ids, &gone).await?;
        let published = publish(&app, &staff, now, &checked_in_before, &mut out).await?;
        let departs_of: HashMap<&str, Timestamp> = FLIGHTS
            .iter()
            .map(|f| (f.code, start.plus_seconds(f.departs_h * HOUR_S)))
            .collect();
        for s in &published.seated {
            let key = match key_of.get(&s.reference) {
                Some(k) => k.clone(),
                None => {
                    let first = app
                        .store()
                        .request(s.requests[0])
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("request {} vanished", s.requests[0]))?;
                    let key = first
                        .request
                        .body
                        .external_ref
                        .clone()
                        .unwrap_or_else(|| s.reference.clone());
                    key_of.insert(s.reference.clone(), key.clone());
                    let asked_at = first.request.received_at;
                    out.households.insert(
                        key.clone(),
                        Departure {
                            class: s.class,
                            asked_at,
                            floor: s
                                .earliest_possible
                                .as_deref()
                                .and_then(|code| departs_of.get(code).copied()),
                            left_at: None,
                        },
                    );
                    key
                }
            };
            if let Some(d) = out.households.get_mut(&key) {
                d.class = s.class;
            }
        }
        for w in &published.waiting {
            never_seated.insert(w.reference.clone(), w.class);
        }
        // The gates of the flights leaving before the next publication.
        let next = start.plus_seconds((at_h + PUBLISH_EVERY_H) * HOUR_S);
        for f in &FLIGHTS {
            let departs = departs_of[f.code];
            if gone.contains(f.code) || departs <= now || departs > next {
                continue;
            }
            let id = ids[f.code];
            // The plan's seating is checked before the gate, standby's after the release (a
            // family whose citizen did not come keeps the seats it was given with them, at
            // this gate or at its convoy's: who rode a convoy is judged there).
            check_manifest(
                &app,
                &staff,
                id,
                f.code,
                Judged::PlanExcept(&rode_convoy),
                &mut out.violations,
            )
            .await?;
            let (standby, boarded) =
                gate_of(&app, &staff, &gate, id, departs, &mut rng, &mut out).await?;
            check_manifest(
                &app,
                &staff,
                id,
                f.code,
                Judged::Standby(&standby),
                &mut out.violations,
            )
            .await?;
            app.set_transport_status(&staff, id, TransportStatus::Departed)
                .await?;
            gone.insert(f.code);
            // Who rides a convoy leaves on its flight, not here.
            if f.feeds.is_some() {
                out.by_convoy += boarded.len();
                rode_convoy.extend(boarded);
                continue;
            }
            for household in boarded {
                if let Some(key) = key_of.get(&household)
                    && let Some(d) = out.households.get_mut(key)
                {
                    d.left_at.get_or_insert(departs);
                }
            }
        }
        at_h += PUBLISH_EVERY_H;
    }
    // Households never seated count too (as not having left), in their last class.
    for (reference, class) in never_seated {
        if !key_of.contains_key(&reference) {
            out.households.insert(
                format!("never seated: {reference}"),
                Departure {
                    class,
                    asked_at: start,
                    floor: None,
                    left_at: None,
                },
            );
        }
    }
    Ok(out)
}

/// Publishes a plan at `at`; a checked-in household it moves or unseats is a broken rule.
async fn publish(
    app: &App,
    staff: &Staff,
    at: Timestamp,
    checked_in: &HashSet<String>,
    out: &mut Outcome,
) -> anyhow::Result<evac_app::Published> {
    let published = app.publish_plan(staff, at).await?;
    out.publications += 1;
    for change in published.moved.iter().chain(&published.lost) {
        if checked_in.contains(&change.household) {
            out.violations.push(format!(
                "{at}: checked-in household {} moved: {}",
                change.household, change.why
            ));
        }
    }
    Ok(published)
}

/// Households with someone checked in on a transport that has not left.
async fn checked_in_households(
    app: &App,
    staff: &Staff,
    ids: &HashMap<&'static str, TransportId>,
    gone: &HashSet<&'static str>,
) -> anyhow::Result<HashSet<String>> {
    let mut households = HashSet::new();
    for (code, id) in ids {
        if gone.contains(code) {
            continue;
        }
        for pass in app.boarding_passes(staff, *id).await? {
            if pass.state == evac_model::SeatEventKind::CheckedIn {
                households.insert(pass.household);
            }
        }
    }
    Ok(households)
}

/// One gate: most households check in three hours before departure, some not at all, now and
/// then one person is missing; no-shows are released to standby (who are at the hub and check
/// in at once); everyone checked in boards. Two hours before departure, with passengers
/// checked in, the planner publishes again: no checked-in household may move. Returns the
/// standby households and the households that boarded.
async fn gate_of(
    app: &App,
    staff: &Staff,
    gate: &Staff,
    transport: TransportId,
    departs: Timestamp,
    rng: &mut impl Rng,
    out: &mut Outcome,
) -> anyhow::Result<(HashSet<String>, HashSet<String>)> {
    let passes = app.boarding_passes(staff, transport).await?;
    let mut coming: HashMap<String, bool> = HashMap::new();
    let mut checked_in: HashSet<String> = HashSet::new();
    for pass in &passes {
        let household_comes = *coming
            .entry(pass.household.clone())
            .or_insert_with(|| !rng.random_bool(HOUSEHOLD_NO_SHOW));
        if household_comes && !rng.random_bool(PERSON_MISSING) {
            app.check_in(gate, &pass.token, departs.plus_seconds(-3 * HOUR_S))
                .await?;
            checked_in.insert(pass.household.clone());
        }
    }
    publish(
        app,
        staff,
        departs.plus_seconds(-2 * HOUR_S),
        &checked_in,
        out,
    )
    .await?;
    let released = app
        .release_no_shows(gate, transport, departs.plus_seconds(-90 * 60))
        .await?;
    out.held_back += released.held_back.len();
    let standby: HashSet<String> = released.standby.into_iter().map(|s| s.household).collect();
    let mut boarded = HashSet::new();
    for pass in app.boarding_passes(staff, transport).await? {
        if pass.state == evac_model::SeatEventKind::Seated {
            // Standby: at the hub already.
            app.check_in(gate, &pass.token, departs.plus_seconds(-80 * 60))
                .await?;
        }
        app.board(gate, &pass.token, departs.plus_seconds(-30 * 60))
            .await?;
        boarded.insert(pass.household);
    }
    Ok((standby, boarded))
}

/// Whose seating a manifest check judges.
enum Judged<'a> {
    /// The plan's, before the gate: every household but these (judged at an earlier gate).
    PlanExcept(&'a HashSet<String>),
    /// Standby's, after the release: these households.
    Standby(&'a HashSet<String>),
}

/// The manifest's rules: children alone within the escorts on board (the plan's seating),
/// every child alone with an escort and every household judged with a Russian citizen.
async fn check_manifest(
    app: &App,
    staff: &Staff,
    transport: TransportId,
    code: &str,
    judged: Judged<'_>,
    violations: &mut Vec<String>,
) -> anyhow::Result<()> {
    let is_judged = |household: &String| match judged {
        Judged::PlanExcept(except) => !except.contains(household),
        Judged::Standby(only) => only.contains(household),
    };
    let manifest = app.manifest(staff, transport).await?;
    // Children alone relying on the escorts on board: at most what those escorts can take.
    let per = evac_triage::PlanningRules::default().minors_per_escort;
    let with_crew = manifest
        .rows
        .iter()
        .filter(|r| r.escort.starts_with("one of the"))
        .count() as u32;
    if matches!(judged, Judged::PlanExcept(_)) && with_crew > manifest.transport.escorts * per {
        // Whose children they are: the households, with how many of each are on the crew.
        let mut by_household: std::collections::BTreeMap<&str, (u32, u32)> = Default::default();
        for row in &manifest.rows {
            let entry = by_household.entry(row.household.as_str()).or_default();
            entry.1 += 1;
            if row.escort.starts_with("one of the") {
                entry.0 += 1;
            }
        }
        let whose: Vec<String> = by_household
            .into_iter()
            .filter(|(_, (on_crew, _))| *on_crew > 0)
            .map(|(h, (on_crew, seated))| format!("{h}: {on_crew} of {seated} seated"))
            .collect();
        violations.push(format!(
            "{code}: {with_crew} children alone rely on {} escorts on board ({})",
            manifest.transport.escorts,
            whose.join("; ")
        ));
    }
    let mut citizens: HashMap<&str, bool> = HashMap::new();
    for row in &manifest.rows {
        if !is_judged(&row.household) {
            continue;
        }
        if row.escort.starts_with("NONE") {
            violations.push(format!(
                "{code}: a child alone in {} has no escort",
                row.household
            ));
        }
        *citizens.entry(row.household.as_str()).or_default() |= row.nationality == "RU";
    }
    for (household, has_citizen) in citizens {
        if !has_citizen {
            violations.push(format!(
                "{code}: household {household} has no Russian citizen on board"
            ));
        }
    }
    Ok(())
}
