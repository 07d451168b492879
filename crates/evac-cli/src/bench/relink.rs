//! `evac bench relink`: relinking a stored crisis, as `evac relink`, a first start and a crisis
//! that outgrew its model do, next to the linkage core alone on as many generated people
//! (`evac bench link`'s path) in the same run; and a restart on the same store: how soon it
//! matches on arrival from the kept keys, and how soon a new family's copy is linked. The gap
//! between relink and core is what the store, the log and the kept keys cost; sizes side by
//! side show whether it grows faster than the data.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use evac_link::{Settings, link};

use super::{demo_app, machine, peak_rss_mb};

#[derive(Debug, Args)]
pub struct RelinkBenchArgs {
    /// Stored requests to relink; several values run one after another
    #[arg(long, value_delimiter = ',', default_value = "100000,200000")]
    pub requests: Vec<usize>,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub async fn run(args: RelinkBenchArgs) -> anyhow::Result<()> {
    println!("machine: {}", machine());
    println!(
        "| requests | people | relink, first (logs and keys every person) | relink again (learning again) | core alone on as many people | first ÷ core | peak RSS of the relink, above what the process held before it | restart: matching on arrival after | restart: the requests still due settled after | restart: a new family and its copy linked within |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for &requests in &args.requests {
        let (app, dir, _, load_s) = demo_app(requests, args.seed).await?;
        eprintln!("loaded {requests} requests in {load_s:.1} s");
        let rss_before_mb = current_rss_mb().unwrap_or(f64::NAN);
        reset_peak_rss();
        let started = Instant::now();
        let first = app.relink().await?;
        let first_s = started.elapsed().as_secs_f64();
        let relink_peak_mb = peak_rss_mb().unwrap_or(f64::NAN) - rss_before_mb;
        eprintln!("first relink: {}", first.took);
        let started = Instant::now();
        let again = app.relink().await?;
        let again_s = started.elapsed().as_secs_f64();
        eprintln!("relink again: {}", again.took);
        drop(app);
        let restarted = restart(dir.path().join("bench.db")).await?;

        let (records, _) = super::link::generated_records(first.persons, args.seed);
        let people = records.len();
        let core_before_mb = current_rss_mb().unwrap_or(f64::NAN);
        reset_peak_rss();
        let started = Instant::now();
        let linkage = link(records, &Settings::default())?;
        let core_s = started.elapsed().as_secs_f64();
        let core_peak_mb = peak_rss_mb().unwrap_or(f64::NAN) - core_before_mb;
        drop(linkage);
        println!(
            "| {requests} | {} | {first_s:.1} s | {again_s:.1} s | {core_s:.1} s ({people} people) | {:.2} | {relink_peak_mb:.0} MB ({:.2} GB per million people; the core alone {core_peak_mb:.0} MB) | {:.2} s | {:.1} s ({} due) | {:.0} ms |",
            first.persons,
            first_s / core_s,
            relink_peak_mb / first.persons as f64 * 1e6 / 1024.0,
            restarted.ready_s,
            restarted.drained_s,
            restarted.due,
            restarted.linked_ms,
        );
    }
    Ok(())
}

/// Opens the relinked store afresh, as a restarted server does, and starts its linkage
/// worker: how soon it matches on arrival, how soon it has settled what was due, and how soon
/// a new family stored then and its copy are one person in the link log.
async fn restart(path: std::path::PathBuf) -> anyhow::Result<Restart> {
    let started = Instant::now();
    let store = evac_app::open_store(&evac_app::DatabaseUrl::Sqlite(path), false).await?;
    store.migrate().await?;
    let app = evac_app::App::new(store, evac_app::Settings::default());
    let worker = app.start_linkage_worker("bench-restart");
    while !app.matches_on_arrival() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "the restarted node did not match within 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ready_s = started.elapsed().as_secs_f64();
    // The relinks above cleared no due marks (a relink is not fenced by the lease): the
    // restarted linker settles every request first, finding each one's people kept.
    let due = app.links_due().await?;
    app.linking_caught_up().await;
    let drained_s = started.elapsed().as_secs_f64();
    let family = |surname: &str, given: &str| evac_model::RequestDraft {
        channel: Some("hotline".into()),
        submitter: evac_model::SubmitterDraft {
            phones: vec!["8 701 555 12 34".into()],
            ..Default::default()
        },
        location: evac_model::LocationDraft {
            text: Some("Алматы".into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        party: vec![evac_model::PersonDraft {
            surname: Some(surname.into()),
            given_names: Some(given.into()),
            birth_date: Some("1987-03-09".into()),
            sex: Some("F".into()),
            ..Default::default()
        }],
        consent: Some(true),
        ..Default::default()
    };
    let now = evac_model::Timestamp::now;
    let system = evac_model::Actor::System;
    let submitted = Instant::now();
    let web = app
        .submit_request_at(&system, &family("Жұмабаева", "Әйгерім"), None, now())
        .await?;
    let copy = app
        .submit_request_at(&system, &family("Zhumabayeva", "Aigerim"), None, now())
        .await?;
    let mut persons = Vec::new();
    for id in [web.id, copy.id] {
        let stored = app
            .store()
            .request(id)
            .await?
            .context("a request just stored")?;
        persons.push(stored.request.body.party[0].id);
    }
    loop {
        let events = app.store().link_events_of(&persons).await?;
        if events.iter().any(|e| {
            e.event.kind == evac_model::LinkEventKind::AutoMerge
                && persons.contains(&e.event.person_a)
                && persons.contains(&e.event.person_b)
        }) {
            break;
        }
        anyhow::ensure!(
            submitted.elapsed() < Duration::from_secs(600),
            "the copy was not linked within 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let linked_ms = submitted.elapsed().as_secs_f64() * 1e3;
    worker.stop().await;
    Ok(Restart {
        ready_s,
        due,
        drained_s,
        linked_ms,
    })
}

/// What a restart on a relinked store showed, from opening the store.
struct Restart {
    /// Until the node matched on arrival.
    ready_s: f64,
    /// Requests still due when it started, and until it had settled them.
    due: u64,
    drained_s: f64,
    /// From storing a new family and its copy until the link log held their merge.
    linked_ms: f64,
}

/// The resident set now, in MB.
fn current_rss_mb() -> Option<f64> {
    super::memory_status_mb("VmRSS:")
}

/// Starts the peak resident set (`VmHWM`) afresh from the current one, so the next reading is
/// one step's peak (Linux: writing 5 to `clear_refs`); where it cannot, the peak is the
/// process's.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
